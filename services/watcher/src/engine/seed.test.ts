/** The seed scenario (ARCHITECTURE.md), step by step, with exact routes per node. */
import { RouteKind } from "@svcbgp/api";
import { describe, expect, it } from "vitest";
import { RouteEngine } from "./engine.js";
import { bgpConfig, routesByNode, seedNginx, seedNodes, seedPeer, service, upsert, load } from "./fixtures.js";

describe("seed scenario", () => {
  const engine = new RouteEngine();

  it("1. a global BGPPeer makes every node peer with the ToR", () => {
    load(engine, seedNodes());
    const changes = engine.apply(upsert("BGPPeer", seedPeer()));
    expect(changes.nodes()).toEqual(["node-1", "node-2", "node-3"]);
    expect(engine.configIssues()).toEqual([]);
    for (const [name, ip] of [["node-1", "192.168.1.10"], ["node-2", "192.168.1.11"], ["node-3", "192.168.1.12"]]) {
      const intent = engine.intent(name)!;
      expect(intent.routerId).toBe(ip);
      expect(intent.localAsn).toBe(64512);
      expect(intent.listenPort).toBe(0);
      expect(intent.routes).toEqual([]);
      expect(intent.peers).toHaveLength(1);
      expect(intent.peers[0]).toMatchObject({
        address: "192.168.1.1",
        port: 0,
        asn: 64512,
        localAsn: 0,
        sourceAddress: ip,
        holdTime: 0,
        gracefulRestart: { enabled: true, restartTime: 0 },
        password: "",
        name: "bgppeer-global-64512",
      });
    }
  });

  it("2. serviceClusterIPs advertises 10.49.0.0/16 from every node (ECMP)", () => {
    const changes = engine.apply(upsert("BGPConfiguration", bgpConfig({ serviceClusterIPs: [{ cidr: "10.49.0.0/16" }] })));
    expect(changes.nodes()).toEqual(["node-1", "node-2", "node-3"]);
    expect(routesByNode(engine)).toEqual({ "node-1": ["10.49.0.0/16"], "node-2": ["10.49.0.0/16"], "node-3": ["10.49.0.0/16"] });
    expect(engine.intent("node-1")!.routes[0].reasons).toEqual([expect.objectContaining({ source: "default", kind: RouteKind.CLUSTER_IP_RANGE })]);
  });

  it("3. a ClusterIP Service is reachable through the aggregate: no host route, no change", () => {
    const changes = [upsert("Service", seedNginx()[0]), upsert("EndpointSlice", seedNginx()[1])].map((event) => engine.apply(event));
    expect(changes.every((c) => c.empty)).toBe(true);
    expect(routesByNode(engine)).toEqual({ "node-1": ["10.49.0.0/16"], "node-2": ["10.49.0.0/16"], "node-3": ["10.49.0.0/16"] });
    const explained = engine.explain("default", "nginx");
    expect(explained.ips[0]).toMatchObject({ ip: "10.49.62.131", kind: RouteKind.CLUSTER_IP, allowedBy: "10.49.0.0/16", rejectedReason: "" });
    expect(explained.ips[0].nodes.map((n) => [n.advertisedPrefix, n.reason])).toEqual([
      ["10.49.0.0/16", "covered by 10.49.0.0/16"],
      ["10.49.0.0/16", "covered by 10.49.0.0/16"],
      ["10.49.0.0/16", "covered by 10.49.0.0/16"],
    ]);
  });

  it("4. externalTrafficPolicy Local adds the /32 from the nodes running nginx only", () => {
    const changes = engine.apply(upsert("Service", service("nginx", { type: "NodePort", clusterIP: "10.49.62.131", externalTrafficPolicy: "Local" })));
    expect(changes.nodes()).toEqual(["node-2", "node-3"]);
    expect(changes.forNode("node-2")).toEqual({ snapshot: false, prefixes: new Set(["10.49.62.131/32"]), peers: new Set() });
    expect(routesByNode(engine)).toEqual({
      "node-1": ["10.49.0.0/16"],
      "node-2": ["10.49.0.0/16", "10.49.62.131/32"],
      "node-3": ["10.49.0.0/16", "10.49.62.131/32"],
    });
    expect(engine.route("node-2", "10.49.62.131/32")!.reasons).toEqual([expect.objectContaining({ source: "default/nginx", kind: RouteKind.CLUSTER_IP })]);
    const reasons = engine.explain("default", "nginx").ips[0].nodes.map((n) => n.reason);
    expect(reasons).toEqual([
      "externalTrafficPolicy Local: no local ready endpoint; covered by 10.49.0.0/16",
      "externalTrafficPolicy Local: local ready endpoint",
      "externalTrafficPolicy Local: local ready endpoint",
    ]);
  });

  it("5. switching to serviceExternalIPs withdraws the cluster range and the /32", () => {
    const changes = engine.apply(upsert("BGPConfiguration", bgpConfig({ serviceClusterIPs: null, serviceExternalIPs: [{ cidr: "192.168.3.0/24" }] })));
    expect(changes.nodes()).toEqual(["node-1", "node-2", "node-3"]);
    expect(routesByNode(engine)).toEqual({ "node-1": ["192.168.3.0/24"], "node-2": ["192.168.3.0/24"], "node-3": ["192.168.3.0/24"] });
    const ip = engine.explain("default", "nginx").ips[0];
    expect(ip.rejectedReason).toBe("no serviceClusterIPs range configured");
    expect(ip.nodes.every((n) => n.advertisedPrefix === "")).toBe(true);
  });

  it("6. an external IP in the range is advertised from the endpoint nodes (still eTP Local)", () => {
    const changes = engine.apply(
      upsert("Service", service("nginx", { type: "NodePort", clusterIP: "10.49.62.131", externalTrafficPolicy: "Local", externalIPs: ["192.168.3.180"] })),
    );
    expect(changes.nodes()).toEqual(["node-2", "node-3"]);
    expect(routesByNode(engine)).toEqual({
      "node-1": ["192.168.3.0/24"],
      "node-2": ["192.168.3.0/24", "192.168.3.180/32"],
      "node-3": ["192.168.3.0/24", "192.168.3.180/32"],
    });
    // The ToR runs graceful restart: every session advertises it.
    expect(engine.intent("node-1")!.peers[0].gracefulRestart?.enabled).toBe(true);
    expect(engine.serviceRejections("default/nginx")).toEqual([]);
  });
});
