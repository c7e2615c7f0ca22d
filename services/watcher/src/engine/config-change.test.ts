/**
 * A BGPConfiguration change recomputes only what it can affect, and is
 * reported as a delta unless a node-level field (local_asn, listen_port)
 * changed. Correctness over random sequences is property.test.ts's job; these
 * pin down the scoping.
 */
import { toJson } from "@bufbuild/protobuf";
import { NodeIntentSchema, type NodeIntent } from "@svcbgp/api";
import { describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../sources/source.js";
import { RouteEngine } from "./engine.js";
import { bgpConfig, load, prefixes, seedNodes, service, slice, upsert } from "./fixtures.js";

const BASE = {
  serviceClusterIPs: [{ cidr: "10.49.0.0/16" }],
  serviceLoadBalancerIPs: [{ cidr: "192.168.4.0/24" }],
  serviceLoadBalancerAggregation: "Disabled",
};

/** Services: a ClusterIP one, a Cluster-policy LB one, a Local LB one, one with an external IP not yet allowed, one with a named community. */
function cluster(): KubeObject[] {
  return [
    ...seedNodes(),
    bgpConfig(BASE),
    service("plain", { clusterIP: "10.49.0.1" }),
    slice("plain-1", "plain", { endpoints: [{ node: "node-1", ready: true }] }),
    service("lb", { type: "LoadBalancer", clusterIP: "10.49.0.2", loadBalancerIPs: ["192.168.4.2"], externalTrafficPolicy: "Cluster" }),
    slice("lb-1", "lb", { endpoints: [{ node: "node-2", ready: true }] }),
    service("local", { type: "LoadBalancer", clusterIP: "10.49.0.3", loadBalancerIPs: ["192.168.4.3"], externalTrafficPolicy: "Local" }),
    slice("local-1", "local", { endpoints: [{ node: "node-3", ready: true }] }),
    service("ext", { clusterIP: "10.49.0.4", externalIPs: ["192.168.3.4"] }),
    slice("ext-1", "ext", { endpoints: [{ node: "node-1", ready: true }] }),
    service("tagged", { clusterIP: "10.49.0.5", annotations: { "svcbgp.io/communities": "edge" } }),
  ];
}

function setup() {
  const engine = new RouteEngine();
  load(engine, cluster());
  // updateService is called once per Service recomputed.
  const updated = vi.spyOn(engine as unknown as { updateService(key: string): void }, "updateService");
  return { engine, updated, recomputed: () => [...new Set(updated.mock.calls.map(([key]) => key))].sort() };
}

const json = (intent: NodeIntent | undefined) => (intent ? toJson(NodeIntentSchema, intent) : undefined);

/** The same cluster built from scratch with `spec`: what the incremental engine must hold. */
function fresh(spec: Record<string, unknown>): RouteEngine {
  const engine = new RouteEngine();
  load(engine, [...cluster().filter((o) => o.kind !== "BGPConfiguration"), bgpConfig(spec)]);
  return engine;
}

function expectSameAs(engine: RouteEngine, spec: Record<string, unknown>): void {
  const reference = fresh(spec);
  for (const name of engine.listNodes()) expect(json(engine.intent(name))).toEqual(json(reference.intent(name)));
  expect(engine.allRejections()).toEqual(reference.allRejections());
}

describe("a BGPConfiguration change", () => {
  it("adding an external-IP range re-evaluates only the Services with an address in it, and is a delta of one route", () => {
    const { engine, recomputed } = setup();
    expect(engine.serviceRejections("default/ext")).toHaveLength(1);
    const spec = { ...BASE, serviceExternalIPs: [{ cidr: "192.168.3.0/24" }] };
    const changes = engine.apply(upsert("BGPConfiguration", bgpConfig(spec)));
    expect(recomputed()).toEqual(["default/ext"]);
    for (const name of ["node-1", "node-2", "node-3"]) {
      const change = changes.forNode(name)!;
      expect(change.snapshot).toBe(false);
      expect([...change.prefixes]).toEqual(["192.168.3.0/24"]);
    }
    expect(changes.rejections.get("default/ext")).toEqual([]);
    expect(engine.delta("node-1", changes.forNode("node-1")!)).toMatchObject({ upsertedRoutes: [{ prefix: "192.168.3.0/24" }], withdrawnPrefixes: [] });
    expectSameAs(engine, spec);
  });

  it("switching LB aggregation on touches only Services with an address in the LB ranges", () => {
    const { engine, recomputed } = setup();
    const spec = { ...BASE, serviceLoadBalancerAggregation: "Enabled" };
    const changes = engine.apply(upsert("BGPConfiguration", bgpConfig(spec)));
    expect(recomputed()).toEqual(["default/lb", "default/local"]);
    // The aggregate appears; the Cluster-policy LB host route is now covered by it.
    expect(changes.forNode("node-1")).toEqual({ snapshot: false, prefixes: new Set(["192.168.4.0/24", "192.168.4.2/32"]), peers: new Set() });
    expect(prefixes(engine.intent("node-1"))).toEqual(["10.49.0.0/16", "192.168.4.0/24"]);
    expectSameAs(engine, spec);
  });

  it("a range change elsewhere still refreshes refused addresses of that kind (their reason lists the ranges)", () => {
    const { engine, recomputed } = setup();
    const spec = { ...BASE, serviceExternalIPs: [{ cidr: "192.168.9.0/24" }] };
    const changes = engine.apply(upsert("BGPConfiguration", bgpConfig(spec)));
    expect(recomputed()).toEqual(["default/ext"]);
    expect(changes.rejections.get("default/ext")?.[0].reason).toBe("not in serviceExternalIPs (192.168.9.0/24)");
    expectSameAs(engine, spec);
  });

  it("named communities re-evaluate only Services with a community annotation", () => {
    const { engine, recomputed } = setup();
    const spec = { ...BASE, communities: [{ name: "edge", value: "65000:100" }] };
    engine.apply(upsert("BGPConfiguration", bgpConfig(spec)));
    expect(recomputed()).toEqual(["default/tagged"]);
    expectSameAs(engine, spec);
  });

  it("prefixAdvertisements report only the routes whose communities change", () => {
    const { engine, recomputed } = setup();
    const spec = { ...BASE, prefixAdvertisements: [{ cidr: "192.168.4.0/24", communities: ["65000:7"] }] };
    const changes = engine.apply(upsert("BGPConfiguration", bgpConfig(spec)));
    expect(recomputed()).toEqual([]);
    expect(changes.nodes()).toEqual(["node-1", "node-2", "node-3"]);
    expect([...changes.forNode("node-1")!.prefixes]).toEqual(["192.168.4.2/32"]);
    expect([...changes.forNode("node-3")!.prefixes].sort()).toEqual(["192.168.4.2/32", "192.168.4.3/32"]);
    expect(engine.route("node-3", "192.168.4.3/32")?.communities).toEqual(["65000:7"]);
    expectSameAs(engine, spec);
  });

  it("a node-level field makes it a snapshot for every node, without re-evaluating Services", () => {
    const { engine, recomputed } = setup();
    const spec = { ...BASE, asNumber: 65010 };
    const changes = engine.apply(upsert("BGPConfiguration", bgpConfig(spec)));
    expect(recomputed()).toEqual([]);
    for (const name of ["node-1", "node-2", "node-3"]) expect(changes.forNode(name)?.snapshot).toBe(true);
    expect(engine.intent("node-1")?.localAsn).toBe(65010);
    expectSameAs(engine, spec);
  });

  it("a change that alters nothing route-relevant reports nothing", () => {
    const { engine, recomputed } = setup();
    const changes = engine.apply(upsert("BGPConfiguration", bgpConfig(BASE)));
    expect(recomputed()).toEqual([]);
    expect(changes.empty).toBe(true);
  });
});
