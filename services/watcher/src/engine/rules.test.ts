/** Table tests for every rule of ARCHITECTURE.md "Route semantics". */
import { RouteKind } from "@svcbgp/api";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../sources/source.js";
import { RouteEngine } from "./engine.js";
import { bgpConfig, load, node, remove, routesByNode, seedNodes, service, slice, upsert, type EndpointOptions } from "./fixtures.js";

const RANGES = { serviceClusterIPs: [{ cidr: "10.49.0.0/16" }], serviceExternalIPs: [{ cidr: "192.168.3.0/24" }], serviceLoadBalancerIPs: [{ cidr: "192.168.4.0/24" }] };

function engineWith(...objects: KubeObject[]): RouteEngine {
  const engine = new RouteEngine();
  load(engine, [...seedNodes(), ...objects]);
  return engine;
}

const on = (...nodes: string[]): EndpointOptions[] => nodes.map((n) => ({ node: n, ready: true }));

/** node → host routes only (aggregates filtered out), for readability. */
function hostRoutes(engine: RouteEngine): Record<string, string[]> {
  const all = routesByNode(engine);
  return Object.fromEntries(Object.entries(all).map(([n, p]) => [n, p.filter((x) => x.endsWith("/32") || x.endsWith("/128"))]));
}

const EVERY = (...prefixes: string[]) => ({ "node-1": prefixes, "node-2": prefixes, "node-3": prefixes });

describe("aggregates", () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ["cluster, external and LB ranges (aggregation Enabled by default)", RANGES, ["10.49.0.0/16", "192.168.3.0/24", "192.168.4.0/24"]],
    ["LB ranges only while aggregation is Enabled", { ...RANGES, serviceLoadBalancerAggregation: "Disabled" }, ["10.49.0.0/16", "192.168.3.0/24"]],
    ["a single-IP range entry is not an aggregate", { serviceExternalIPs: [{ cidr: "192.168.3.180/32" }] }, []],
    ["IPv6 ranges", { serviceClusterIPs: [{ cidr: "fd00:49::/112" }] }, ["fd00:49::/112"]],
    ["no configuration, no routes", {}, []],
  ])("%s", (_name, spec, expected) => {
    const engine = engineWith(bgpConfig(spec));
    expect(routesByNode(engine)).toEqual(EVERY(...expected));
    for (const n of ["node-1", "node-2", "node-3"]) {
      for (const route of engine.intent(n)!.routes) expect(route.reasons[0].source).toBe("default");
    }
  });

  it("only the BGPConfiguration named default is in force", () => {
    const engine = engineWith(bgpConfig(RANGES, { name: "other" }));
    expect(routesByNode(engine)).toEqual(EVERY());
  });

  it("an excluded node advertises nothing but keeps its identity", () => {
    const engine = engineWith(bgpConfig({ ...RANGES, advertisePodCIDRs: true }), node("node-4", { ip: "192.168.1.13", excluded: true, podCIDRs: ["10.48.4.0/24"] }));
    expect(routesByNode(engine)["node-4"]).toEqual([]);
    expect(engine.intent("node-4")!.routerId).toBe("192.168.1.13");
    expect(engine.nodeSummary("node-4")).toEqual({ nodeName: "node-4", routeCount: 0, peerCount: 0, excluded: true });
    expect(engine.nodeSummary("node-1")).toMatchObject({ routeCount: 3, excluded: false });
  });
});

describe("per-Service host routes", () => {
  it.each<[string, KubeObject[], Record<string, unknown>, Record<string, string[]>]>([
    [
      "Cluster policy: covered by the aggregate, no host route",
      [service("web", { clusterIP: "10.49.0.10", externalIPs: ["192.168.3.10"] }), slice("web-1", "web", { endpoints: on("node-1") })],
      RANGES,
      EVERY(),
    ],
    [
      "eTP Local: cluster, external and LB IPs from endpoint nodes only",
      [
        service("web", { type: "LoadBalancer", clusterIP: "10.49.0.10", externalIPs: ["192.168.3.10"], loadBalancerIPs: ["192.168.4.10"], externalTrafficPolicy: "Local" }),
        slice("web-1", "web", { endpoints: on("node-1", "node-3") }),
      ],
      RANGES,
      { "node-1": ["10.49.0.10/32", "192.168.3.10/32", "192.168.4.10/32"], "node-2": [], "node-3": ["10.49.0.10/32", "192.168.3.10/32", "192.168.4.10/32"] },
    ],
    [
      "iTP Local: the cluster IP only, from endpoint nodes",
      [
        service("web", { clusterIP: "10.49.0.10", externalIPs: ["192.168.3.10"], internalTrafficPolicy: "Local" }),
        slice("web-1", "web", { endpoints: on("node-2") }),
      ],
      RANGES,
      { "node-1": [], "node-2": ["10.49.0.10/32"], "node-3": [] },
    ],
    [
      "aggregation Disabled: LB IP from every node while an endpoint exists anywhere",
      [service("lb", { type: "LoadBalancer", clusterIP: "10.49.0.11", loadBalancerIPs: ["192.168.4.11"] }), slice("lb-1", "lb", { endpoints: on("node-3") })],
      { ...RANGES, serviceLoadBalancerAggregation: "Disabled" },
      EVERY("192.168.4.11/32"),
    ],
    [
      "aggregation Disabled, no endpoint anywhere: nothing",
      [service("lb", { type: "LoadBalancer", clusterIP: "10.49.0.11", loadBalancerIPs: ["192.168.4.11"] })],
      { ...RANGES, serviceLoadBalancerAggregation: "Disabled" },
      EVERY(),
    ],
    [
      "single-IP range entry: host route from every node while an endpoint exists",
      [service("web", { clusterIP: "10.49.0.10", externalIPs: ["192.168.3.180"] }), slice("web-1", "web", { endpoints: on("node-1") })],
      { serviceExternalIPs: [{ cidr: "192.168.3.180/32" }] },
      EVERY("192.168.3.180/32"),
    ],
    [
      "a single-IP entry inside an advertised aggregate stays covered",
      [service("web", { clusterIP: "10.49.0.10", externalIPs: ["192.168.3.180"] }), slice("web-1", "web", { endpoints: on("node-1") })],
      { serviceExternalIPs: [{ cidr: "192.168.3.0/24" }, { cidr: "192.168.3.180/32" }] },
      EVERY(),
    ],
    [
      "ExternalName is never advertised",
      [service("ext", { type: "ExternalName", externalIPs: ["192.168.3.10"], externalTrafficPolicy: "Local" }), slice("ext-1", "ext", { endpoints: on("node-1") })],
      RANGES,
      EVERY(),
    ],
    [
      "headless is never advertised",
      [service("hl", { clusterIP: "None", externalIPs: ["192.168.3.10"], externalTrafficPolicy: "Local" }), slice("hl-1", "hl", { endpoints: on("node-1") })],
      RANGES,
      EVERY(),
    ],
    [
      "LB ingress IPs count only on type LoadBalancer",
      [service("np", { type: "NodePort", clusterIP: "10.49.0.12", loadBalancerIPs: ["192.168.4.12"], externalTrafficPolicy: "Local" }), slice("np-1", "np", { endpoints: on("node-1") })],
      RANGES,
      { "node-1": ["10.49.0.12/32"], "node-2": [], "node-3": [] },
    ],
    [
      "an IP outside the allowed ranges is never advertised",
      [
        service("evil", { type: "LoadBalancer", clusterIP: "10.49.0.13", externalIPs: ["8.8.8.8"], loadBalancerIPs: ["1.1.1.1"], externalTrafficPolicy: "Local" }),
        slice("evil-1", "evil", { endpoints: on("node-1") }),
      ],
      RANGES,
      { "node-1": ["10.49.0.13/32"], "node-2": [], "node-3": [] },
    ],
    [
      "no serviceClusterIPs range: cluster IPs are not advertised even with eTP Local",
      [service("web", { clusterIP: "10.49.0.10", externalIPs: ["192.168.3.10"], externalTrafficPolicy: "Local" }), slice("web-1", "web", { endpoints: on("node-1") })],
      { serviceExternalIPs: [{ cidr: "192.168.3.0/24" }] },
      { "node-1": ["192.168.3.10/32"], "node-2": [], "node-3": [] },
    ],
  ])("%s", (_name, objects, spec, expected) => {
    expect(hostRoutes(engineWith(bgpConfig(spec), ...objects))).toEqual(expected);
  });
});

describe("usable endpoints", () => {
  const local = service("web", { clusterIP: "10.49.0.10", externalTrafficPolicy: "Local" });
  it.each<[string, EndpointOptions[], string[]]>([
    ["ready unset counts as ready", [{ node: "node-1" }], ["node-1"]],
    ["ready false does not count", [{ node: "node-1", ready: false }], []],
    ["serving-and-terminating counts when the node has no ready one", [{ node: "node-1", ready: false, serving: true, terminating: true }], ["node-1"]],
    ["terminating but not serving does not count", [{ node: "node-1", ready: false, serving: false, terminating: true }], []],
    [
      "the fallback is per node",
      [{ node: "node-1", ready: true }, { node: "node-2", ready: false, serving: true, terminating: true }, { node: "node-3", ready: false }],
      ["node-1", "node-2"],
    ],
    ["an endpoint without nodeName serves no node", [{ ready: true }], []],
  ])("Local: %s", (_name, endpoints, nodes) => {
    const engine = engineWith(bgpConfig(RANGES), local, slice("web-1", "web", { endpoints }));
    const withRoute = Object.entries(hostRoutes(engine)).filter(([, p]) => p.length > 0).map(([n]) => n);
    expect(withRoute).toEqual(nodes);
  });

  it.each<[string, EndpointOptions[], boolean]>([
    ["a ready endpoint anywhere", [{ node: "node-1", ready: true }], true],
    ["only serving-and-terminating endpoints (cluster fallback)", [{ node: "node-1", ready: false, serving: true, terminating: true }], true],
    ["only not-ready endpoints", [{ node: "node-1", ready: false }], false],
    ["an endpoint on no node", [{ ready: true }], true],
  ])("Cluster, not covered: %s → %s", (_name, endpoints, advertised) => {
    const engine = engineWith(
      bgpConfig({ serviceExternalIPs: [{ cidr: "192.168.3.180/32" }] }),
      service("web", { clusterIP: "10.49.0.10", externalIPs: ["192.168.3.180"] }),
      slice("web-1", "web", { endpoints }),
    );
    expect(hostRoutes(engine)).toEqual(advertised ? EVERY("192.168.3.180/32") : EVERY());
  });

  it("endpoints of several slices add up and follow slice updates", () => {
    const engine = engineWith(bgpConfig(RANGES), local, slice("web-1", "web", { endpoints: on("node-1") }), slice("web-2", "web", { endpoints: on("node-2") }));
    expect(hostRoutes(engine)["node-2"]).toEqual(["10.49.0.10/32"]);
    const changes = engine.apply(remove("EndpointSlice", slice("web-2", "web")));
    expect(changes.nodes()).toEqual(["node-2"]);
    expect(hostRoutes(engine)).toEqual({ "node-1": ["10.49.0.10/32"], "node-2": [], "node-3": [] });
  });
});

describe("dual-stack", () => {
  const spec = { serviceClusterIPs: [{ cidr: "10.49.0.0/16" }, { cidr: "fd00:49::/112" }] };
  const svc = service("web", { clusterIPs: ["10.49.0.10", "fd00:49::a"], externalTrafficPolicy: "Local" });

  it("decides each family from slices of that address type", () => {
    const engine = engineWith(
      bgpConfig(spec),
      svc,
      slice("web-v4", "web", { endpoints: on("node-1") }),
      slice("web-v6", "web", { addressType: "IPv6", endpoints: on("node-2") }),
    );
    expect(hostRoutes(engine)).toEqual({ "node-1": ["10.49.0.10/32"], "node-2": ["fd00:49::a/128"], "node-3": [] });
  });

  it("a family without endpoints advertises nothing", () => {
    const engine = engineWith(bgpConfig(spec), svc, slice("web-v4", "web", { endpoints: on("node-1") }));
    expect(hostRoutes(engine)).toEqual({ "node-1": ["10.49.0.10/32"], "node-2": [], "node-3": [] });
  });

  it("FQDN slices make no route", () => {
    const engine = engineWith(bgpConfig(spec), svc, slice("web-fqdn", "web", { addressType: "FQDN", endpoints: [{ ip: "example.com", node: "node-1" }] }));
    expect(hostRoutes(engine)).toEqual(EVERY());
  });
});

describe("shared IPs", () => {
  const config = bgpConfig({ ...RANGES, serviceLoadBalancerAggregation: "Disabled" });
  const a = service("a", { type: "LoadBalancer", clusterIP: "10.49.0.1", loadBalancerIPs: ["192.168.4.50"], externalTrafficPolicy: "Local" });
  const b = service("b", { type: "LoadBalancer", clusterIP: "10.49.0.2", loadBalancerIPs: ["192.168.4.50"] });

  it("is advertised while any Service wants it, with every reason", () => {
    const engine = engineWith(config, a, b, slice("a-1", "a", { endpoints: on("node-1") }), slice("b-1", "b", { endpoints: on("node-2") }));
    expect(routesByNode(engine)["node-3"]).toEqual(["10.49.0.0/16", "192.168.3.0/24", "192.168.4.50/32"]);
    expect(engine.route("node-1", "192.168.4.50/32")!.reasons.map((r) => [r.source, r.kind])).toEqual([
      ["default/a", RouteKind.LOAD_BALANCER_IP],
      ["default/b", RouteKind.LOAD_BALANCER_IP],
    ]);
    expect(engine.route("node-3", "192.168.4.50/32")!.reasons.map((r) => r.source)).toEqual(["default/b"]);

    engine.apply(remove("Service", b));
    expect(hostRoutes(engine)).toEqual({ "node-1": ["10.49.0.1/32", "192.168.4.50/32"], "node-2": [], "node-3": [] });
    engine.apply(remove("Service", a));
    expect(hostRoutes(engine)).toEqual(EVERY());
  });
});

describe("range checks and rejections", () => {
  it("records why and exposes it per Service", () => {
    const engine = engineWith(
      bgpConfig({ serviceExternalIPs: [{ cidr: "192.168.3.0/24" }] }),
      service("evil", { type: "LoadBalancer", clusterIP: "10.49.0.13", externalIPs: ["8.8.8.8"], loadBalancerIPs: ["1.1.1.1"] }),
    );
    expect(engine.serviceRejections("default/evil")).toEqual([
      { service: "default/evil", field: "spec.externalIPs[0]", ip: "8.8.8.8", kind: RouteKind.EXTERNAL_IP, reason: "not in serviceExternalIPs (192.168.3.0/24)" },
      {
        service: "default/evil",
        field: "status.loadBalancer.ingress[0].ip",
        ip: "1.1.1.1",
        kind: RouteKind.LOAD_BALANCER_IP,
        reason: "not in serviceLoadBalancerIPs (none configured)",
      },
    ]);
    expect([...engine.allRejections().keys()]).toEqual(["default/evil"]);
    const explained = engine.explain("default", "evil");
    expect(explained.ips.map((ip) => [ip.ip, ip.rejectedReason])).toEqual([
      ["10.49.0.13", "no serviceClusterIPs range configured"],
      ["8.8.8.8", "not in serviceExternalIPs (192.168.3.0/24)"],
      ["1.1.1.1", "not in serviceLoadBalancerIPs (none configured)"],
    ]);
  });

  it("reports rejection changes with the update that caused them", () => {
    const engine = engineWith(bgpConfig(RANGES));
    const added = engine.apply(upsert("Service", service("evil", { clusterIP: "10.49.0.13", externalIPs: ["8.8.8.8"] })));
    expect(added.rejections.get("default/evil")).toHaveLength(1);
    const fixed = engine.apply(upsert("Service", service("evil", { clusterIP: "10.49.0.13", externalIPs: ["192.168.3.8"] })));
    expect(fixed.rejections.get("default/evil")).toEqual([]);
    const again = engine.apply(upsert("Service", service("evil", { clusterIP: "10.49.0.13", externalIPs: ["192.168.3.8"], annotations: { x: "y" } })));
    expect(again.rejections.size).toBe(0);
  });
});

describe("node exclusion", () => {
  it("removes local and shared routes and explains it", () => {
    const engine = engineWith(
      bgpConfig({ ...RANGES, serviceLoadBalancerAggregation: "Disabled" }),
      service("web", { type: "LoadBalancer", clusterIP: "10.49.0.10", loadBalancerIPs: ["192.168.4.10"], externalTrafficPolicy: "Local" }),
      slice("web-1", "web", { endpoints: on("node-1", "node-2") }),
    );
    const changes = engine.apply(upsert("Node", node("node-1", { ip: "192.168.1.10", excluded: true })));
    expect(changes.nodes()).toEqual(["node-1"]);
    expect(changes.forNode("node-1")?.snapshot).toBe(true);
    expect(routesByNode(engine)["node-1"]).toEqual([]);
    expect(hostRoutes(engine)["node-2"]).toEqual(["10.49.0.10/32", "192.168.4.10/32"]);
    const decisions = engine.explain("default", "web").ips[0].nodes;
    expect(decisions[0]).toMatchObject({ nodeName: "node-1", advertisedPrefix: "", reason: "node excluded (label node.kubernetes.io/exclude-from-external-load-balancers)" });
  });
});

describe("communities and local preference", () => {
  const spec = {
    ...RANGES,
    communities: [
      { name: "edge", value: "65000:100" },
      { name: "big", value: "65000:1:2" },
    ],
    prefixAdvertisements: [
      { cidr: "10.49.0.0/16", communities: ["edge"] },
      { cidr: "10.49.0.0/24", communities: ["big", "65000:200"] },
    ],
  };

  it("uses the most specific prefixAdvertisements entry and resolves names", () => {
    const engine = engineWith(
      bgpConfig(spec),
      service("a", { clusterIP: "10.49.0.10", externalTrafficPolicy: "Local" }),
      service("b", { clusterIP: "10.49.9.10", externalTrafficPolicy: "Local" }),
      slice("a-1", "a", { endpoints: on("node-1") }),
      slice("b-1", "b", { endpoints: on("node-1") }),
    );
    const route = (prefix: string) => engine.route("node-1", prefix)!;
    expect([route("10.49.0.0/16").communities, route("10.49.0.0/16").largeCommunities]).toEqual([["65000:100"], []]);
    expect([route("10.49.0.10/32").communities, route("10.49.0.10/32").largeCommunities]).toEqual([["65000:200"], ["65000:1:2"]]);
    expect(route("10.49.9.10/32").communities).toEqual(["65000:100"]);
    expect(route("192.168.3.0/24").communities).toEqual([]);
  });

  it("adds per-Service annotations and local-pref", () => {
    const engine = engineWith(
      bgpConfig(spec),
      service("a", {
        clusterIP: "10.49.9.10",
        externalTrafficPolicy: "Local",
        annotations: { "svcbgp.io/communities": "65000:7, edge ,no-export,65000:9:9", "svcbgp.io/local-pref": "200" },
      }),
      slice("a-1", "a", { endpoints: on("node-1") }),
    );
    const route = engine.route("node-1", "10.49.9.10/32")!;
    expect(route.communities).toEqual(["65000:7", "65000:100", "no-export"]);
    expect(route.largeCommunities).toEqual(["65000:9:9"]);
    expect(route.localPref).toBe(200);
    expect(engine.route("node-1", "10.49.0.0/16")!.localPref).toBeUndefined();
  });

  it("rejects bad annotations visibly and ignores them", () => {
    const engine = engineWith(
      bgpConfig(spec),
      service("a", { clusterIP: "10.49.9.10", externalTrafficPolicy: "Local", annotations: { "svcbgp.io/communities": "nope", "svcbgp.io/local-pref": "high" } }),
      slice("a-1", "a", { endpoints: on("node-1") }),
    );
    expect(engine.route("node-1", "10.49.9.10/32")!.localPref).toBeUndefined();
    expect(engine.serviceRejections("default/a").map((r) => r.field)).toEqual([
      "metadata.annotations[svcbgp.io/communities]",
      "metadata.annotations[svcbgp.io/local-pref]",
    ]);
    expect(engine.explain("default", "a").configIssues.map((i) => i.resource)).toEqual(["Service/default/a", "Service/default/a"]);
  });

  it("takes the highest local-pref among Services sharing an IP", () => {
    const engine = engineWith(
      bgpConfig(spec),
      service("a", { clusterIP: "10.49.9.10", externalIPs: ["192.168.3.3"], externalTrafficPolicy: "Local", annotations: { "svcbgp.io/local-pref": "150" } }),
      service("b", { clusterIP: "10.49.9.11", externalIPs: ["192.168.3.3"], externalTrafficPolicy: "Local", annotations: { "svcbgp.io/local-pref": "300" } }),
      slice("a-1", "a", { endpoints: on("node-1") }),
      slice("b-1", "b", { endpoints: on("node-1") }),
    );
    expect(engine.route("node-1", "192.168.3.3/32")!.localPref).toBe(300);
  });
});

describe("pod CIDRs", () => {
  it.each([
    [true, ["10.48.1.0/24"]],
    [false, []],
  ])("advertisePodCIDRs %s", (enabled, expected) => {
    const engine = new RouteEngine();
    load(engine, [node("node-1", { ip: "192.168.1.10", podCIDRs: ["10.48.1.0/24", "fd00:48:1::/64"] }), node("node-2", { ip: "192.168.1.11", podCIDRs: ["10.48.2.0/24"] })]);
    engine.apply(upsert("BGPConfiguration", bgpConfig({ advertisePodCIDRs: enabled })));
    expect(routesByNode(engine)["node-1"]).toEqual(enabled ? [...expected, "fd00:48:1::/64"] : []);
    expect(routesByNode(engine)["node-2"]).toEqual(enabled ? ["10.48.2.0/24"] : []);
    if (enabled) expect(engine.route("node-1", "10.48.1.0/24")!.reasons).toEqual([expect.objectContaining({ source: "node-1", kind: RouteKind.POD_CIDR })]);
  });

  it("follows node spec changes", () => {
    const engine = new RouteEngine();
    load(engine, [bgpConfig({ advertisePodCIDRs: true }), node("node-1", { ip: "192.168.1.10", podCIDRs: ["10.48.1.0/24"] })]);
    const changes = engine.apply(upsert("Node", node("node-1", { ip: "192.168.1.10", podCIDRs: ["10.48.9.0/24"] })));
    expect(changes.nodes()).toEqual(["node-1"]);
    expect(routesByNode(engine)["node-1"]).toEqual(["10.48.9.0/24"]);
  });
});

describe("incremental change reports", () => {
  it("a Local Service change touches only its endpoint nodes; a Node heartbeat touches nothing", () => {
    const engine = engineWith(bgpConfig(RANGES), slice("web-1", "web", { endpoints: on("node-2") }));
    const added = engine.apply(upsert("Service", service("web", { clusterIP: "10.49.0.10", externalTrafficPolicy: "Local" })));
    expect(added.nodes()).toEqual(["node-2"]);
    expect(engine.delta("node-2", added.forNode("node-2")!).upsertedRoutes.map((r) => r.prefix)).toEqual(["10.49.0.10/32"]);
    const heartbeat = node("node-1", { ip: "192.168.1.10" });
    heartbeat.status = { ...(heartbeat.status as object), conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: "2024-01-01T00:00:00Z" }] };
    expect(engine.apply(upsert("Node", heartbeat)).empty).toBe(true);
    const removed = engine.apply(remove("Service", service("web")));
    expect(removed.nodes()).toEqual(["node-2"]);
    expect(engine.delta("node-2", removed.forNode("node-2")!).withdrawnPrefixes).toEqual(["10.49.0.10/32"]);
  });

  it("a shared route change reaches every non-excluded node without per-node work", () => {
    const engine = engineWith(bgpConfig({ serviceExternalIPs: [{ cidr: "192.168.3.180/32" }] }), node("node-4", { excluded: true }));
    engine.apply(upsert("Service", service("web", { clusterIP: "10.49.0.10", externalIPs: ["192.168.3.180"] })));
    const changes = engine.apply(upsert("EndpointSlice", slice("web-1", "web", { endpoints: on("node-1") })));
    expect(changes.nodes()).toEqual(["node-1", "node-2", "node-3"]);
    expect(changes.forNode("node-4")).toBeUndefined();
    expect(engine.delta("node-3", changes.forNode("node-3")!).upsertedRoutes.map((r) => r.prefix)).toEqual(["192.168.3.180/32"]);
  });

  it("a node that disappears reports a snapshot and has no intent", () => {
    const engine = engineWith(bgpConfig(RANGES));
    const changes = engine.apply(remove("Node", node("node-3")));
    expect(changes.forNode("node-3")).toEqual({ snapshot: true, prefixes: new Set(), peers: new Set() });
    expect(engine.intent("node-3")).toBeUndefined();
    expect(engine.listNodes()).toEqual(["node-1", "node-2"]);
  });

  it("notifies listeners", () => {
    const engine = engineWith(bgpConfig(RANGES));
    const seen: string[][] = [];
    const stop = engine.onChange((changes) => seen.push(changes.nodes()));
    engine.apply(upsert("Service", service("web", { clusterIP: "10.49.0.10", externalTrafficPolicy: "Local" })));
    engine.apply(upsert("EndpointSlice", slice("web-1", "web", { endpoints: on("node-1") })));
    stop();
    engine.apply(remove("EndpointSlice", slice("web-1", "web")));
    expect(seen).toEqual([["node-1"]]);
  });
});
