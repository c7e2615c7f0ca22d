import { afterEach, describe, expect, it } from "vitest";
import { RouteSchema } from "@svcbgp/api";
import { create } from "@bufbuild/protobuf";
import { SpeakerController } from "../controller.js";
import { WatcherIntentSource } from "./watcher-source.js";
import { fakeSessionFactory } from "../testing/fake-session.js";
import { FakeWatcher } from "../testing/fake-watcher.js";
import { quietLogger } from "../testing/fixtures.js";
import { eventually } from "../../../../test/support/wait.js";

const base = { nodeName: "node-1", routerId: "192.0.2.10", localAsn: 64512, peers: [{ address: "192.0.2.1", asn: 64512, gracefulRestart: { enabled: true } }] };
const prefixes = (...p: string[]) => p.map((prefix) => ({ prefix }));

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(watcher: FakeWatcher, staleTimeoutMs?: number) {
  const address = await watcher.start();
  const fakes = fakeSessionFactory();
  const controller = new SpeakerController({ sessionFactory: fakes.factory, logger: quietLogger() });
  const source = new WatcherIntentSource({ target: address, nodeName: "node-1", sink: controller, logger: quietLogger(), backoff: { initialMs: 20, maxMs: 200 }, staleTimeoutMs });
  source.start();
  cleanup.push(
    () => source.stop(),
    () => watcher.stop(),
  );
  return { address, fakes, controller, source };
}

describe("WatcherIntentSource", () => {
  it("follows snapshot and deltas, keeps routes through a disconnect, and applies only the difference on reconnect", async () => {
    const watcher = new FakeWatcher(FakeWatcher.intent({ ...base, routes: prefixes("10.49.0.0/16", "10.49.1.0/24", "10.49.2.0/24") }), 1n);
    const { address, fakes, controller, source } = await setup(watcher);
    await eventually(() => expect(controller.revision).toBe(1n));
    expect(source.status().up).toBe(true);
    expect(watcher.requests).toEqual(["node-1"]);
    const session = fakes.sessions[0];

    watcher.push({ revision: 2n, event: { case: "delta", value: { baseRevision: 1n, upsertedRoutes: prefixes("10.49.3.0/24") } } });
    await eventually(() => expect(controller.revision).toBe(2n));

    // A delta on a revision we don't hold: re-open the stream for a snapshot.
    watcher.snapshot = FakeWatcher.intent({ ...base, routes: prefixes("10.49.0.0/16", "10.49.1.0/24", "10.49.2.0/24", "10.49.3.0/24") });
    watcher.revision = 5n;
    watcher.push({ revision: 9n, event: { case: "delta", value: { baseRevision: 8n, upsertedRoutes: prefixes("10.99.0.0/16") } } });
    await eventually(() => expect(controller.revision).toBe(5n));
    expect(watcher.streams).toHaveLength(2);
    expect(controller.intentRoutes().map((r) => r.prefix)).not.toContain("10.99.0.0/16");

    // The watcher goes away: the link is down, the routes stay.
    await watcher.stop();
    await eventually(() => expect(source.status().up).toBe(false));
    await new Promise((resolve) => setTimeout(resolve, 200)); // a few failed reconnects
    expect(controller.intentRoutes()).toHaveLength(4);
    expect(session.stopped).toBe(false);
    expect(session.routeCalls().flatMap((c) => c.withdrawals)).toEqual([]);

    // It comes back with a different snapshot: only the difference is sent.
    watcher.snapshot = FakeWatcher.intent({
      ...base,
      routes: [{ prefix: "10.49.0.0/16" }, { prefix: "10.49.1.0/24", communities: ["64512:100"] }, { prefix: "10.49.3.0/24" }, { prefix: "10.49.4.0/24" }],
    });
    watcher.revision = 100n;
    await watcher.start(address);
    await eventually(() => expect(controller.revision).toBe(100n), 20_000);
    expect(source.status().up).toBe(true);
    expect(fakes.sessions).toHaveLength(1);
    expect(session.routeCalls()).toEqual([
      { upserts: ["10.49.0.0/16", "10.49.1.0/24", "10.49.2.0/24"], withdrawals: [] },
      { upserts: ["10.49.3.0/24"], withdrawals: [] },
      { upserts: ["10.49.1.0/24", "10.49.4.0/24"], withdrawals: ["10.49.2.0/24"] },
    ]);
    expect(source.status().reconnects).toBeGreaterThanOrEqual(2);
  });

  it("withdraws routes after --stale-intent-timeout and re-announces them with the next snapshot", async () => {
    const watcher = new FakeWatcher(FakeWatcher.intent({ ...base, routes: prefixes("10.49.0.0/16") }), 1n);
    const { address, fakes, controller, source } = await setup(watcher, 100);
    await eventually(() => expect(controller.revision).toBe(1n));
    await watcher.stop();
    await eventually(() => expect(fakes.sessions[0].routeCalls()).toHaveLength(2));
    expect(source.status().stale).toBe(true);
    expect(controller.isStale).toBe(true);
    expect(fakes.sessions[0].routeCalls()[1]).toEqual({ upserts: [], withdrawals: ["10.49.0.0/16"] });
    await watcher.start(address);
    await eventually(() => expect(fakes.sessions[0].routeCalls()).toHaveLength(3), 20_000);
    expect(fakes.sessions[0].routeCalls()[2]).toEqual({ upserts: ["10.49.0.0/16"], withdrawals: [] });
    expect(controller.isStale).toBe(false);
  });

  it("drops invalid items of a snapshot and applies the rest", async () => {
    const watcher = new FakeWatcher(
      FakeWatcher.intent({ ...base, routes: [create(RouteSchema, { prefix: "10.49.0.1/16" }), create(RouteSchema, { prefix: "10.50.0.0/16" })] }),
      1n,
    );
    const { controller } = await setup(watcher);
    await eventually(() => expect(controller.revision).toBe(1n));
    expect(controller.intentRoutes().map((r) => r.prefix)).toEqual(["10.50.0.0/16"]);
  });
});
