import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { equals } from "@bufbuild/protobuf";
import { NodeIntentSchema, applyDelta, type NodeIntent, type WatchIntentResponse } from "@svcbgp/api";
import type { NodeChange } from "../engine/changes.js";
import { RouteEngine } from "../engine/engine.js";
import { bgpConfig, bgpPeer, kindOf, load, node, prefixes, remove, seedNodes, seedPeer, service, slice, upsert } from "../engine/fixtures.js";
import type { KubeObject } from "../sources/source.js";
import { IntentHub, type IntentProvider } from "./intent-hub.js";

/** The engine, counting what the hub asks of it. */
class CountingProvider implements IntentProvider {
  intents: string[] = [];
  deltas: string[] = [];
  constructor(readonly engine: RouteEngine) {}
  hasNode(name: string) {
    return this.engine.hasNode(name);
  }
  intent(name: string) {
    this.intents.push(name);
    return this.engine.intent(name);
  }
  delta(name: string, change: NodeChange) {
    this.deltas.push(name);
    return this.engine.delta(name, change);
  }
  listNodes() {
    return this.engine.listNodes();
  }
  nodeSummary(name: string) {
    return this.engine.nodeSummary(name);
  }
}

/** An engine wired to a hub the way the watcher wires them. */
function setup(objects: KubeObject[] = [], options: { maxPendingChanges?: number } = {}) {
  const engine = new RouteEngine();
  const provider = new CountingProvider(engine);
  const hub = new IntentHub(provider, options);
  engine.onChange((changes) => hub.update(changes));
  load(engine, objects);
  return { engine, provider, hub };
}

/** Pulls events from a watch stream one at a time. */
function reader(hub: IntentHub, nodeName = "node-1") {
  const controller = new AbortController();
  const iterator = hub.watch(nodeName, controller.signal)[Symbol.asyncIterator]();
  // A next() that poll() gave up waiting for is kept, so its event is not lost.
  let inFlight: Promise<IteratorResult<WatchIntentResponse>> | undefined;
  const pull = () => (inFlight ??= iterator.next());
  const take = async (): Promise<WatchIntentResponse> => {
    const result = await pull();
    inFlight = undefined;
    return result.value as WatchIntentResponse;
  };
  return {
    next: take,
    /** Resolves to undefined if nothing arrives within a few turns of the event loop. */
    poll: async (): Promise<WatchIntentResponse | undefined> => {
      const timedOut = Symbol("timeout");
      const winner = await Promise.race([pull(), new Promise<typeof timedOut>((resolve) => setTimeout(() => resolve(timedOut), 5))]);
      return winner === timedOut ? undefined : take();
    },
    close: () => controller.abort(),
    iterator,
  };
}

/** What a speaker holds after following the stream; checks the revision chain as the speaker does. */
class Follower {
  held: NodeIntent | undefined;
  revision: bigint | undefined;
  readonly events: WatchIntentResponse[] = [];

  take(event: WatchIntentResponse): void {
    this.events.push(event);
    if (this.revision !== undefined) expect(event.revision).toBeGreaterThan(this.revision);
    if (event.event.case === "snapshot") this.held = event.event.value;
    else if (event.event.case === "delta") {
      expect(event.event.value.baseRevision).toBe(this.revision);
      this.held = applyDelta(this.held!, event.event.value);
    } else throw new Error("empty event");
    this.revision = event.revision;
  }
}

function sameIntent(a: NodeIntent | undefined, b: NodeIntent | undefined): boolean {
  return Boolean(a && b && equals(NodeIntentSchema, a, b));
}

const config = bgpConfig({ serviceClusterIPs: [{ cidr: "10.49.0.0/16" }], serviceExternalIPs: [{ cidr: "192.168.3.0/24" }] });
const seed = [...seedNodes(), seedPeer(), config];

describe("IntentHub", () => {
  it("sends nothing before the sources have synced, then a snapshot of the engine's intent", async () => {
    const { engine, hub } = setup(seed);
    const stream = reader(hub);
    expect(await stream.poll()).toBeUndefined();
    hub.markReady();
    const first = await stream.next();
    expect(first.event.case).toBe("snapshot");
    expect(sameIntent(first.event.value as NodeIntent, engine.intent("node-1"))).toBe(true);
    expect(first.revision).toBe(hub.revisionOf("node-1"));
    expect(first.revision).toBeGreaterThan(0n);
    stream.close();
  });

  it("follows changes with deltas whose base is the previous event's revision", async () => {
    const { engine, hub } = setup(seed);
    hub.markReady();
    const stream = reader(hub, "node-2");
    const follower = new Follower();
    follower.take(await stream.next());
    load(engine, [service("web", { externalIPs: ["192.168.3.7"], externalTrafficPolicy: "Local" })]);
    load(engine, [slice("web-1", "web", { endpoints: [{ node: "node-2", ready: true }] })]);
    const added = await stream.next();
    expect(added.event.case).toBe("delta");
    follower.take(added);
    expect(prefixes(follower.held)).toContain("192.168.3.7/32");
    engine.apply(remove("EndpointSlice", slice("web-1", "web")));
    const withdrawn = await stream.next();
    expect(withdrawn).toMatchObject({ event: { case: "delta", value: { withdrawnPrefixes: ["192.168.3.7/32"], upsertedRoutes: [] } } });
    follower.take(withdrawn);
    expect(sameIntent(follower.held, engine.intent("node-2"))).toBe(true);
    stream.close();
  });

  it("coalesces changes made while the subscriber is busy into one delta", async () => {
    const { engine, hub } = setup(seed);
    hub.markReady();
    const stream = reader(hub, "node-1");
    const follower = new Follower();
    follower.take(await stream.next());
    for (let i = 1; i <= 5; i++) {
      load(engine, [service(`s${i}`, { externalIPs: [`192.168.3.${i}`], externalTrafficPolicy: "Local" }), slice(`s${i}-x`, `s${i}`, { endpoints: [{ node: "node-1" }] })]);
    }
    engine.apply(remove("Service", service("s3")));
    const next = await stream.next();
    expect(next.event.case).toBe("delta");
    follower.take(next);
    expect(sameIntent(follower.held, engine.intent("node-1"))).toBe(true);
    expect(await stream.poll()).toBeUndefined();
    stream.close();
  });

  it("does not materialise intents of unwatched nodes when a change touches every node", async () => {
    const nodes = Array.from({ length: 50 }, (_, i) => node(`n${i}`, { ip: `192.168.2.${i + 1}` }));
    const { engine, hub, provider } = setup([...nodes, seedPeer(), bgpConfig({ serviceExternalIPs: [{ cidr: "192.168.3.180/32" }] })]);
    hub.markReady();
    const stream = reader(hub, "n7");
    const follower = new Follower();
    follower.take(await stream.next());
    provider.intents = [];
    provider.deltas = [];
    // A single-IP range entry: a Cluster-policy host route from every node.
    load(engine, [service("web", { externalIPs: ["192.168.3.180"] }), slice("web-1", "web", { endpoints: [{ node: "n1", ready: true }] })]);
    follower.take(await stream.next());
    expect(prefixes(follower.held)).toContain("192.168.3.180/32");
    expect(provider.intents).toEqual([]);
    expect(provider.deltas).toEqual(["n7"]);
    // Every node's revision moved, and GetIntent still builds any node's intent on demand.
    expect(hub.revisionOf("n30")).toBe(hub.revisionOf("n7"));
    expect(prefixes(hub.get("n30")?.intent)).toContain("192.168.3.180/32");
    stream.close();
  });

  it("builds one event per node and revision for subscribers at the same revision", async () => {
    const { engine, hub, provider } = setup(seed);
    hub.markReady();
    const streams = [reader(hub, "node-1"), reader(hub, "node-1"), reader(hub, "node-1")];
    const followers = streams.map(() => new Follower());
    const firsts = await Promise.all(streams.map((s) => s.next()));
    firsts.forEach((e, i) => followers[i].take(e));
    provider.deltas = [];
    load(engine, [service("web", { externalIPs: ["192.168.3.7"], externalTrafficPolicy: "Local" }), slice("web-1", "web", { endpoints: [{ node: "node-1", ready: true }] })]);
    const events = await Promise.all(streams.map((s) => s.next()));
    events.forEach((e, i) => followers[i].take(e));
    expect(provider.deltas).toEqual(["node-1"]);
    expect(events[1]).toBe(events[0]);
    for (const f of followers) expect(sameIntent(f.held, engine.intent("node-1"))).toBe(true);
    // A subscriber at another base revision gets its own delta.
    const late = reader(hub, "node-1");
    const lateFollower = new Follower();
    lateFollower.take(await late.next());
    engine.apply(remove("EndpointSlice", slice("web-1", "web")));
    const after = await Promise.all([...streams, late].map((s) => s.next()));
    [...followers, lateFollower].forEach((f, i) => f.take(after[i]));
    for (const f of [...followers, lateFollower]) expect(sameIntent(f.held, engine.intent("node-1"))).toBe(true);
    for (const s of [...streams, late]) s.close();
  });

  it("gives a subscriber that fell behind one fresh snapshot instead of a growing backlog", async () => {
    const { engine, hub } = setup(seed, { maxPendingChanges: 8 });
    hub.markReady();
    const stream = reader(hub, "node-1");
    const follower = new Follower();
    follower.take(await stream.next());
    for (let i = 1; i <= 20; i++) {
      load(engine, [service(`s${i}`, { externalIPs: [`192.168.3.${i}`], externalTrafficPolicy: "Local" }), slice(`s${i}-x`, `s${i}`, { endpoints: [{ node: "node-1" }] })]);
      expect(hub.stats()[0].pending).toBeLessThanOrEqual(8);
    }
    expect(hub.stats()).toEqual([{ node: "node-1", pending: 0, snapshotDue: true }]);
    expect(hub.overflows).toBe(1);
    const next = await stream.next();
    expect(next.event.case).toBe("snapshot");
    follower.take(next);
    expect(sameIntent(follower.held, engine.intent("node-1"))).toBe(true);
    expect(next.revision).toBe(hub.revisionOf("node-1"));
    stream.close();
  });

  it("sends a snapshot when a node-level field changes", async () => {
    const { engine, hub } = setup(seed);
    hub.markReady();
    const stream = reader(hub);
    const follower = new Follower();
    follower.take(await stream.next());
    load(engine, [bgpConfig({ asNumber: 65001, serviceClusterIPs: [{ cidr: "10.49.0.0/16" }] })]);
    const next = await stream.next();
    expect(next).toMatchObject({ event: { case: "snapshot", value: { localAsn: 65001 } } });
    follower.take(next);
    stream.close();
  });

  it("tells a removed node's speaker to advertise nothing, and lists nodes with their watchers", async () => {
    const { engine, hub } = setup(seed);
    hub.markReady();
    const stream = reader(hub, "node-1");
    const follower = new Follower();
    follower.take(await stream.next());
    expect(hub.list().map((n) => [n.nodeName, n.routeCount, n.peerCount, n.watchers])).toEqual([
      ["node-1", 2, 1, 1],
      ["node-2", 2, 1, 0],
      ["node-3", 2, 1, 0],
    ]);
    engine.apply(remove("Node", seedNodes()[0]));
    const next = await stream.next();
    follower.take(next);
    expect(next.event.case).toBe("snapshot");
    expect(follower.held).toMatchObject({ nodeName: "node-1", routes: [], peers: [] });
    expect(hub.get("node-1")).toBeUndefined();
    // Still listed while a speaker watches it.
    expect(hub.list().map((n) => [n.nodeName, n.watchers])).toEqual([
      ["node-1", 1],
      ["node-2", 0],
      ["node-3", 0],
    ]);
    load(engine, [seedNodes()[0]]);
    follower.take(await stream.next());
    expect(sameIntent(follower.held, engine.intent("node-1"))).toBe(true);
    stream.close();
  });

  it("forgets a cancelled subscriber, and ends every stream on close", async () => {
    const { hub } = setup(seed);
    hub.markReady();
    const a = reader(hub);
    await a.next();
    expect(hub.subscriberCount).toBe(1);
    const pending = a.next();
    a.close();
    await pending;
    expect(hub.subscriberCount).toBe(0);
    const b = reader(hub, "node-2");
    await b.next();
    const end = b.iterator.next();
    hub.close();
    expect(await end).toEqual({ done: true, value: undefined });
    expect(hub.subscriberCount).toBe(0);
  });

  it("a follower always ends up holding engine.intent(node), over random event sequences and read timings", async () => {
    const nodeNames = ["node-1", "node-2", "node-3"];
    const objectArb = fc.oneof(
      fc
        .record({ name: fc.constantFrom("a", "b", "c"), ip: fc.constantFrom("192.168.3.1", "192.168.3.2", "192.168.9.9"), local: fc.boolean(), cluster: fc.constantFrom("10.49.0.1", "10.49.0.2") })
        .map(({ name, ip, local, cluster }) => service(name, { clusterIP: cluster, externalIPs: [ip], externalTrafficPolicy: local ? "Local" : "Cluster" })),
      fc
        .record({ name: fc.constantFrom("a", "b", "c"), nodes: fc.subarray(nodeNames), ready: fc.boolean() })
        .map(({ name, nodes, ready }) => slice(`${name}-x`, name, { endpoints: nodes.map((n) => ({ node: n, ready })) })),
      fc
        .record({ name: fc.constantFrom(...nodeNames), ip: fc.integer({ min: 10, max: 12 }), excluded: fc.boolean(), pod: fc.boolean() })
        .map(({ name, ip, excluded, pod }) => node(name, { ip: `192.168.1.${ip}`, excluded, podCIDRs: pod ? [`10.48.${ip}.0/24`] : undefined })),
      fc.constantFrom(
        bgpConfig({ serviceClusterIPs: [{ cidr: "10.49.0.0/16" }], serviceExternalIPs: [{ cidr: "192.168.3.0/24" }] }),
        bgpConfig({ serviceExternalIPs: [{ cidr: "192.168.3.1/32" }, { cidr: "192.168.3.2/32" }], advertisePodCIDRs: true }),
        bgpConfig({ asNumber: 65010, serviceClusterIPs: [{ cidr: "10.49.0.0/16" }] }),
      ),
      fc.constantFrom(bgpPeer("tor", { peerIP: "192.168.1.1", asNumber: 64512 }), bgpPeer("tor", { peerIP: "192.168.1.1:179", asNumber: 64513 }), bgpPeer("tor2", { peerIP: "192.168.1.2:1179", asNumber: 64512 })),
    );
    const stepArb = fc.oneof(
      objectArb.map((object) => ({ op: "upsert" as const, object })),
      objectArb.map((object) => ({ op: "delete" as const, object })),
      fc.constant({ op: "read" as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 40 }), fc.integer({ min: 1, max: 6 }), async (steps, maxPendingChanges) => {
        const { engine, hub } = setup(seed, { maxPendingChanges });
        hub.markReady();
        const streams = nodeNames.map((n) => ({ stream: reader(hub, n), follower: new Follower(), name: n }));
        for (const s of streams) s.follower.take(await s.stream.next());
        const drain = async () => {
          for (const s of streams) {
            for (let e = await s.stream.poll(); e; e = await s.stream.poll()) s.follower.take(e);
          }
        };
        for (const step of steps) {
          if (step.op === "read") await drain();
          else engine.apply(step.op === "upsert" ? upsert(kindOf(step.object), step.object) : remove(kindOf(step.object), step.object));
        }
        await drain();
        for (const s of streams) {
          const expected = engine.intent(s.name);
          if (expected) expect(s.follower.held).toEqual(expected);
          else expect(s.follower.held).toMatchObject({ nodeName: s.name, routes: [], peers: [] });
          s.stream.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
