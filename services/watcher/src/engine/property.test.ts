/**
 * Property: applying random event sequences incrementally yields exactly the
 * intents a fresh engine computes from the final state, and a consumer that
 * follows the reported changes (snapshot or delta) always holds the current
 * intent — so no change is ever missed or misreported.
 */
import { clone, create, toJson } from "@bufbuild/protobuf";
import { NodeIntentSchema, type IntentDelta, type NodeIntent } from "@svcbgp/api";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KubeObject, ResourceEvent, ResourceKind } from "../sources/source.js";
import { objectKey } from "../sources/source.js";
import { RouteEngine } from "./engine.js";
import { bgpConfig, bgpPeer, node, secret, service, slice } from "./fixtures.js";
import { peerKey } from "./peers.js";

const NODES = ["node-1", "node-2", "node-3", "node-4"];
const SERVICES = ["a", "b", "c"];

const nodeArb = fc
  .record({
    name: fc.constantFrom(...NODES),
    rack: fc.constantFrom("r1", "r2"),
    excluded: fc.boolean(),
    v6: fc.boolean(),
    pod: fc.constantFrom(undefined, "10.48.1.0/24", "10.48.2.0/24", "10.48.1.0/24"),
    ipIndex: fc.integer({ min: 10, max: 13 }),
  })
  .map(({ name, rack, excluded, v6, pod, ipIndex }) =>
    node(name, {
      ip: `192.168.1.${ipIndex}`,
      ipv6: v6 ? `fd00:1::${ipIndex}` : undefined,
      labels: { rack },
      excluded: excluded && name === "node-4",
      podCIDRs: pod ? [pod] : undefined,
    }),
  );

const ipPool = {
  cluster: ["10.49.0.1", "10.49.0.2", "10.49.62.131", "10.49.62.131", "fd00:49::1", "fd00:49::1", "None", "10.50.0.1"],
  external: ["192.168.3.180", "192.168.3.10", "8.8.8.8", "192.168.4.5"],
  lb: ["192.168.4.5", "192.168.4.6", "192.168.3.180", "fd00:4::5"],
};

const serviceArb = fc
  .record({
    name: fc.constantFrom(...SERVICES),
    type: fc.constantFrom("ClusterIP", "NodePort", "LoadBalancer", "LoadBalancer", "ExternalName") as fc.Arbitrary<"ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName">,
    clusterIPs: fc.subarray(ipPool.cluster, { maxLength: 2 }),
    externalIPs: fc.subarray(ipPool.external, { maxLength: 2 }),
    lb: fc.subarray(ipPool.lb, { maxLength: 2 }),
    etp: fc.constantFrom("Cluster", "Local", "Local") as fc.Arbitrary<"Cluster" | "Local">,
    itp: fc.constantFrom("Cluster", "Local") as fc.Arbitrary<"Cluster" | "Local">,
    communities: fc.constantFrom(undefined, "65000:1", "edge,65000:2:3", "bogus"),
    localPref: fc.constantFrom(undefined, "100", "200", "x"),
  })
  .map((s) =>
    service(s.name, {
      type: s.type,
      clusterIPs: s.clusterIPs,
      externalIPs: s.externalIPs,
      loadBalancerIPs: s.lb,
      externalTrafficPolicy: s.etp,
      internalTrafficPolicy: s.itp,
      annotations: {
        ...(s.communities ? { "svcbgp.io/communities": s.communities } : {}),
        ...(s.localPref ? { "svcbgp.io/local-pref": s.localPref } : {}),
      },
    }),
  );

const endpointArb = fc.record({
  node: fc.constantFrom(undefined, ...NODES, ...NODES, "node-9"),
  ready: fc.constantFrom(undefined, true, true, false),
  serving: fc.constantFrom(undefined, true, false),
  terminating: fc.constantFrom(undefined, true, false),
});

const sliceArb = fc
  .record({
    name: fc.constantFrom("s1", "s2", "s3", "s4"),
    service: fc.constantFrom(...SERVICES),
    v6: fc.boolean(),
    endpoints: fc.array(endpointArb, { minLength: 1, maxLength: 4 }),
  })
  .map((s) =>
    slice(s.name, s.service, {
      addressType: s.v6 ? "IPv6" : "IPv4",
      endpoints: s.endpoints.map((e, i) => ({ ...e, ip: s.v6 ? `fd00:48::${i + 1}` : `10.48.0.${i + 1}` })),
    }),
  );

const rangePool = ["10.49.0.0/16", "fd00:49::/112", "10.49.62.131/32"];
const extPool = ["192.168.3.0/24", "192.168.3.180/32", "192.168.4.0/24"];
const lbPool = ["192.168.4.0/24", "192.168.4.5/32", "fd00:4::/120"];

const configArb = fc
  .record({
    name: fc.constantFrom("default", "default", "default", "other"),
    asNumber: fc.constantFrom(undefined, 64512, 65000),
    cluster: fc.option(fc.subarray(rangePool), { nil: undefined, freq: 4 }),
    external: fc.subarray(extPool),
    lb: fc.subarray(lbPool),
    aggregation: fc.constantFrom(undefined, "Enabled", "Disabled"),
    pods: fc.boolean(),
    listenPort: fc.constantFrom(undefined, 179, 1179),
    advertise: fc.subarray(["10.49.0.0/16", "192.168.0.0/16", "192.168.3.0/24"]),
  })
  .map((c) =>
    bgpConfig(
      {
        ...(c.asNumber ? { asNumber: c.asNumber } : {}),
        serviceClusterIPs: c.cluster ? c.cluster.map((cidr) => ({ cidr })) : null,
        serviceExternalIPs: c.external.map((cidr) => ({ cidr })),
        serviceLoadBalancerIPs: c.lb.map((cidr) => ({ cidr })),
        ...(c.aggregation ? { serviceLoadBalancerAggregation: c.aggregation } : {}),
        advertisePodCIDRs: c.pods,
        ...(c.listenPort ? { listenPort: c.listenPort } : {}),
        communities: [{ name: "edge", value: "65000:100" }],
        prefixAdvertisements: c.advertise.map((cidr, i) => ({ cidr, communities: i % 2 ? ["edge"] : ["65000:5:5"] })),
      },
      { name: c.name },
    ),
  );

const peerArb = fc
  .record({
    name: fc.constantFrom("p1", "p2", "p3"),
    ip: fc.constantFrom("192.168.1.1", "192.168.1.2:1179", "[fd00:1::1]:179", "192.168.1.10"),
    asn: fc.constantFrom(64512, 65000),
    scope: fc.constantFrom<Record<string, unknown>>({}, { node: "node-2" }, { nodeSelector: "rack == 'r1'" }, { nodeSelector: "rack=r2" }),
    password: fc.boolean(),
    source: fc.constantFrom(undefined, "None", "UseNodeIP"),
  })
  .map((p) =>
    bgpPeer(p.name, {
      peerIP: p.ip,
      asNumber: p.asn,
      ...p.scope,
      ...(p.password ? { password: { secretKeyRef: { name: "bgp", key: "pw" } } } : {}),
      ...(p.source ? { sourceAddress: p.source } : {}),
    }),
  );

const secretArb = fc
  .record({ ns: fc.constantFrom("svcbgp-system", "default"), value: fc.constantFrom("a", "b") })
  .map((s) => secret("bgp", { pw: s.value }, s.ns));

type Step = { op: "upsert"; kind: ResourceKind; object: KubeObject } | { op: "delete"; kind: ResourceKind; object: KubeObject } | { op: "replace"; kind: ResourceKind; keep: number };

const objectArb: fc.Arbitrary<{ kind: ResourceKind; object: KubeObject }> = fc.oneof(
  { weight: 1, arbitrary: nodeArb.map((object) => ({ kind: "Node" as const, object })) },
  { weight: 4, arbitrary: serviceArb.map((object) => ({ kind: "Service" as const, object })) },
  { weight: 4, arbitrary: sliceArb.map((object) => ({ kind: "EndpointSlice" as const, object })) },
  { weight: 1, arbitrary: configArb.map((object) => ({ kind: "BGPConfiguration" as const, object })) },
  { weight: 1, arbitrary: peerArb.map((object) => ({ kind: "BGPPeer" as const, object })) },
  { weight: 1, arbitrary: secretArb.map((object) => ({ kind: "Secret" as const, object })) },
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: objectArb.map(({ kind, object }) => ({ op: "upsert" as const, kind, object })) },
  { weight: 2, arbitrary: objectArb.map(({ kind, object }) => ({ op: "delete" as const, kind, object })) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom<ResourceKind>("Service", "EndpointSlice", "Node", "BGPConfiguration", "BGPPeer", "Secret"),
      keep: fc.nat(),
    }).map(({ kind, keep }) => ({ op: "replace" as const, kind, keep })),
  },
);

/** Every run starts from a populated cluster so the random steps have something to change. */
const SETUP: Step[] = [
  ...NODES.map((name, i) => ({ op: "upsert" as const, kind: "Node" as const, object: node(name, { ip: `192.168.1.${10 + i}`, ipv6: `fd00:1::${10 + i}`, labels: { rack: i % 2 ? "r2" : "r1" } }) })),
  {
    op: "upsert",
    kind: "BGPConfiguration",
    object: bgpConfig({
      serviceClusterIPs: [{ cidr: "10.49.62.131/32" }, { cidr: "fd00:49::/112" }],
      serviceExternalIPs: [{ cidr: "192.168.3.0/24" }],
      serviceLoadBalancerIPs: [{ cidr: "192.168.4.0/24" }, { cidr: "fd00:4::/120" }],
      serviceLoadBalancerAggregation: "Disabled",
    }),
  },
  { op: "upsert", kind: "BGPPeer", object: bgpPeer("p0", { peerIP: "192.168.1.1", asNumber: 64512 }) },
];

const KINDS: ResourceKind[] = ["Service", "EndpointSlice", "Node", "BGPConfiguration", "BGPPeer", "Secret"];

function applyDelta(intent: NodeIntent, delta: IntentDelta): NodeIntent {
  const next = clone(NodeIntentSchema, intent);
  const routes = new Map(next.routes.map((r) => [r.prefix, r]));
  for (const prefix of delta.withdrawnPrefixes) routes.delete(prefix);
  for (const route of delta.upsertedRoutes) routes.set(route.prefix, route);
  next.routes = [...routes.values()].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  const peers = new Map(next.peers.map((p) => [peerKey(p.address, p.port), p]));
  for (const key of delta.removedPeers) peers.delete(key);
  for (const peer of delta.upsertedPeers) peers.set(peerKey(peer.address, peer.port), peer);
  next.peers = [...peers.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
  return next;
}

const json = (intent: NodeIntent | undefined) => (intent ? toJson(NodeIntentSchema, intent) : undefined);

function snapshotAll(engine: RouteEngine): Record<string, unknown> {
  return Object.fromEntries(engine.listNodes().map((n) => [n, json(engine.intent(n))]));
}

/** Follows an engine's reported changes like a streaming consumer would: snapshots and deltas applied to its copies. */
function followChanges(consumer: Map<string, NodeIntent>, engine: RouteEngine, changes: ReturnType<RouteEngine["apply"]>): void {
  for (const name of new Set([...consumer.keys(), ...engine.listNodes()])) {
    const change = changes.forNode(name);
    if (!change) continue;
    const current = engine.intent(name);
    if (change.snapshot || !consumer.has(name)) {
      if (current) consumer.set(name, clone(NodeIntentSchema, current));
      else consumer.delete(name);
    } else consumer.set(name, applyDelta(consumer.get(name)!, engine.delta(name, change)));
  }
}

/** No password kept from a Secret gone: that is history an engine built from the final state cannot know (peers.test.ts covers it). */
const PURE = { keepLastPasswords: false };

describe("incremental engine ≡ engine built from the final state", () => {
  it("holds over random event sequences", () => {
    const stats = { steps: 0, hostRoutes: 0 };
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 5, maxLength: 40, size: "medium" }), fc.boolean(), (randomSteps, reverseOrder) => {
        const steps = [...SETUP, ...randomSteps];
        const engine = new RouteEngine(PURE);
        const world = new Map<ResourceKind, Map<string, KubeObject>>(KINDS.map((k) => [k, new Map()]));
        const consumer = new Map<string, NodeIntent>();

        for (const step of steps) {
          let changes;
          const store = world.get(step.kind)!;
          if (step.op === "replace") {
            const all = [...store.values()];
            const kept = all.filter((_, i) => (step.keep >> i) & 1 || i % 2 === 0);
            store.clear();
            for (const object of kept) store.set(objectKey(object), object);
            changes = engine.replace(step.kind, structuredClone(kept));
          } else {
            const event: ResourceEvent = { type: step.op, kind: step.kind, object: structuredClone(step.object) };
            if (step.op === "upsert") store.set(objectKey(step.object), step.object);
            else store.delete(objectKey(step.object));
            changes = engine.apply(event);
          }
          followChanges(consumer, engine, changes);
          stats.steps++;
          if (engine.listNodes().some((name) => engine.intent(name)!.routes.some((r) => /\/(32|128)$/.test(r.prefix)))) stats.hostRoutes++;
          for (const name of engine.listNodes()) expect(json(consumer.get(name)), `${name} after ${step.op} ${step.kind}`).toEqual(json(engine.intent(name)));
          expect([...consumer.keys()].sort()).toEqual(engine.listNodes());
        }

        const fresh = new RouteEngine(PURE);
        const order = reverseOrder ? [...KINDS].reverse() : KINDS;
        for (const kind of order) fresh.replace(kind, structuredClone([...world.get(kind)!.values()]));
        expect(snapshotAll(engine)).toEqual(snapshotAll(fresh));
        expect(engine.allRejections()).toEqual(fresh.allRejections());
        expect(engine.configIssues()).toEqual(fresh.configIssues());
      }),
      { numRuns: 300 },
    );
    // Guard against a generator that never exercises host routes.
    expect(stats.hostRoutes).toBeGreaterThan(stats.steps / 20);

  });

  it("holds when Service evaluation is deferred (hold … release) for part of the sequence", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 5, maxLength: 30, size: "medium" }), fc.nat(), fc.nat(), (randomSteps, a, b) => {
        const steps = [...SETUP, ...randomSteps];
        const holdAt = a % (steps.length + 1);
        const releaseAt = holdAt + (b % (steps.length - holdAt + 1));
        const engine = new RouteEngine();
        const reference = new RouteEngine();
        const consumer = new Map<string, NodeIntent>();
        // Nothing is served while held, but the reports stay exact.
        const follow = (changes: ReturnType<RouteEngine["apply"]>) => followChanges(consumer, engine, changes);
        const world = new Map<ResourceKind, Map<string, KubeObject>>(KINDS.map((k) => [k, new Map()]));
        steps.forEach((step, i) => {
          if (i === holdAt) engine.hold();
          if (i === releaseAt && engine.held) follow(engine.release());
          const store = world.get(step.kind)!;
          if (step.op === "replace") {
            const kept = [...store.values()].filter((_, k) => (step.keep >> k) & 1 || k % 2 === 0);
            store.clear();
            for (const object of kept) store.set(objectKey(object), object);
            follow(engine.replace(step.kind, structuredClone(kept)));
            reference.replace(step.kind, structuredClone(kept));
          } else {
            const event: ResourceEvent = { type: step.op, kind: step.kind, object: structuredClone(step.object) };
            if (step.op === "upsert") store.set(objectKey(step.object), step.object);
            else store.delete(objectKey(step.object));
            follow(engine.apply(event));
            reference.apply(structuredClone(event));
          }
        });
        if (engine.held) follow(engine.release());
        expect(engine.held).toBe(false);
        for (const name of engine.listNodes()) expect(json(consumer.get(name)), name).toEqual(json(engine.intent(name)));
        expect([...consumer.keys()].sort()).toEqual(engine.listNodes());
        expect(snapshotAll(engine)).toEqual(snapshotAll(reference));
        expect(engine.allRejections()).toEqual(reference.allRejections());
        expect(engine.configIssues()).toEqual(reference.configIssues());
      }),
      { numRuns: 200 },
    );
  });

  it("an empty engine has no nodes", () => {
    const engine = new RouteEngine();
    expect(engine.listNodes()).toEqual([]);
    expect(engine.intent("x")).toBeUndefined();
    expect(create(NodeIntentSchema, {}).routes).toEqual([]);
  });
});
