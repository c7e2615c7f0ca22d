import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { NodeIntentSchema, applyDelta, type NodeIntent, type WatchIntentResponse } from "@svcbgp/api";
import { IntentHub, MAX_QUEUED_DELTAS } from "./intent-hub.js";

function intent(routes: string[], extra: Partial<NodeIntent> = {}): NodeIntent {
  return create(NodeIntentSchema, { nodeName: "node-1", localAsn: 64512, routes: routes.map((prefix) => ({ prefix })), ...extra });
}

/** Pulls events from a watch stream one at a time. */
function reader(hub: IntentHub, node = "node-1") {
  const controller = new AbortController();
  const iterator = hub.watch(node, controller.signal)[Symbol.asyncIterator]();
  return {
    next: async (): Promise<WatchIntentResponse> => (await iterator.next()).value as WatchIntentResponse,
    close: () => controller.abort(),
  };
}

/** What a speaker would hold after following the stream. */
function follow(held: NodeIntent | undefined, event: WatchIntentResponse): NodeIntent {
  if (event.event.case === "snapshot") return event.event.value;
  if (event.event.case === "delta") return applyDelta(held!, event.event.value);
  throw new Error("empty event");
}

describe("IntentHub", () => {
  it("sends nothing before the sources have synced", async () => {
    const hub = new IntentHub();
    hub.publish(intent(["10.49.0.0/16"]));
    const stream = reader(hub);
    let got: WatchIntentResponse | undefined;
    const pending = stream.next().then((e) => (got = e));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(got).toBeUndefined();
    hub.markReady();
    await pending;
    expect(got?.event.case).toBe("snapshot");
    stream.close();
  });

  it("sends a snapshot, then deltas with contiguous base revisions", async () => {
    const hub = new IntentHub();
    hub.markReady();
    hub.publish(intent(["10.49.0.0/16"]));
    const stream = reader(hub);
    const first = await stream.next();
    expect(first).toMatchObject({ revision: 1n, event: { case: "snapshot" } });
    hub.publish(intent(["10.49.0.0/16", "10.49.62.131/32"]));
    hub.publish(intent(["10.49.62.131/32"]));
    const second = await stream.next();
    const third = await stream.next();
    expect(second.event.case === "delta" && second.event.value).toMatchObject({ baseRevision: 1n, withdrawnPrefixes: [] });
    expect(second.event.case === "delta" && second.event.value.upsertedRoutes.map((r) => r.prefix)).toEqual(["10.49.62.131/32"]);
    expect(third).toMatchObject({ revision: 3n, event: { case: "delta", value: { baseRevision: 2n, withdrawnPrefixes: ["10.49.0.0/16"] } } });
    stream.close();
  });

  it("does not bump the revision when nothing changed", () => {
    const hub = new IntentHub();
    hub.publish(intent(["10.49.0.0/16"]));
    hub.publish(intent(["10.49.0.0/16"]));
    expect(hub.get("node-1")?.revision).toBe(1n);
  });

  it("replaces a slow subscriber's backlog with one snapshot of the latest intent", async () => {
    const hub = new IntentHub();
    hub.markReady();
    const stream = reader(hub);
    let held = follow(undefined, await stream.next());
    for (let i = 0; i <= MAX_QUEUED_DELTAS + 5; i++) hub.publish(intent([`10.0.${i}.0/24`]));
    const next = await stream.next();
    expect(next.event.case).toBe("snapshot");
    held = follow(held, next);
    expect(held.routes.map((r) => r.prefix)).toEqual([`10.0.${MAX_QUEUED_DELTAS + 5}.0/24`]);
    expect(next.revision).toBe(hub.get("node-1")!.revision);
    stream.close();
  });

  it("sends a snapshot when a node-level field changes", async () => {
    const hub = new IntentHub();
    hub.markReady();
    hub.publish(intent(["10.49.0.0/16"]));
    const stream = reader(hub);
    await stream.next();
    hub.publish(intent(["10.49.0.0/16"], { localAsn: 65001 }));
    expect(await stream.next()).toMatchObject({ revision: 2n, event: { case: "snapshot", value: { localAsn: 65001 } } });
    stream.close();
  });

  it("tells a removed node's speaker to advertise nothing, and lists nodes with their watchers", async () => {
    const hub = new IntentHub();
    hub.markReady();
    hub.publish(intent(["10.49.0.0/16"]));
    hub.publish(intent(["10.49.0.0/16"], { nodeName: "node-2" }));
    const stream = reader(hub);
    await stream.next();
    expect(hub.list().map((n) => [n.nodeName, n.routeCount, n.watchers])).toEqual([
      ["node-1", 1, 1],
      ["node-2", 1, 0],
    ]);
    hub.remove("node-1");
    hub.remove("node-2");
    const event = await stream.next();
    expect(event.event.case === "delta" && event.event.value.withdrawnPrefixes).toEqual(["10.49.0.0/16"]);
    expect(hub.list().map((n) => n.nodeName)).toEqual(["node-1"]);
    stream.close();
  });

  it("forgets a subscriber whose stream is cancelled", async () => {
    const hub = new IntentHub();
    hub.markReady();
    const stream = reader(hub);
    await stream.next();
    expect(hub.subscriberCount).toBe(1);
    const pending = stream.next();
    stream.close();
    await pending;
    expect(hub.subscriberCount).toBe(0);
  });
});
