/** The cluster model: validation, last-valid-in-force, and re-list diffing. */
import { describe, expect, it } from "vitest";
import { RouteEngine } from "./engine.js";
import { bgpConfig, bgpPeer, load, remove, routesByNode, seedNginx, seedNodes, seedPeer, service, upsert } from "./fixtures.js";
import { ClusterModel } from "./model.js";

describe("config validation in the model", () => {
  it("keeps the last valid BGPConfiguration in force and records the issue", () => {
    const engine = new RouteEngine();
    load(engine, [...seedNodes(), bgpConfig({ serviceClusterIPs: [{ cidr: "10.49.0.0/16" }] })]);
    const bad = engine.apply(upsert("BGPConfiguration", bgpConfig({ serviceClusterIPs: [{ cidr: "10.50.0.1/16" }] })));
    expect(bad.empty).toBe(true);
    expect(bad.issues).toEqual([
      { resource: "BGPConfiguration/default", field: "spec.serviceClusterIPs[0].cidr", reason: '"10.50.0.1/16" has host bits set; did you mean 10.50.0.0/16?' },
    ]);
    expect(bad.issuesChanged).toBe(true);
    expect(routesByNode(engine)["node-1"]).toEqual(["10.49.0.0/16"]);
    load(engine, seedNginx());
    expect(engine.explain("default", "nginx").configIssues).toEqual([expect.objectContaining({ resource: "BGPConfiguration/default", field: "spec.serviceClusterIPs[0].cidr" })]);

    const fixed = engine.apply(upsert("BGPConfiguration", bgpConfig({ serviceClusterIPs: [{ cidr: "10.50.0.0/16" }] })));
    expect(fixed.issuesChanged).toBe(true);
    expect(engine.configIssues()).toEqual([]);
    expect(routesByNode(engine)["node-1"]).toEqual(["10.50.0.0/16"]);
  });

  it("ignores a never-valid resource, and deleting it clears its issue", () => {
    const engine = new RouteEngine();
    load(engine, seedNodes());
    const peer = bgpPeer("tor", { peerIP: "192.168.1.300", asNumber: 64512 });
    engine.apply(upsert("BGPPeer", peer));
    expect(engine.intent("node-1")!.peers).toEqual([]);
    expect(engine.configIssues()).toEqual([{ resource: "BGPPeer/tor", field: "spec.peerIP", reason: expect.stringContaining("192.168.1.300") }]);
    const deleted = engine.apply(remove("BGPPeer", peer));
    expect(deleted.issuesChanged).toBe(true);
    expect(engine.configIssues()).toEqual([]);
  });

  it("keeps the last valid BGPPeer when an update is invalid", () => {
    const engine = new RouteEngine();
    load(engine, [...seedNodes(), seedPeer()]);
    engine.apply(upsert("BGPPeer", bgpPeer("bgppeer-global-64512", { peerIP: "192.168.1.1", asNumber: 0 })));
    expect(engine.intent("node-1")!.peers[0].asn).toBe(64512);
    expect(engine.configIssues()[0]).toMatchObject({ resource: "BGPPeer/bgppeer-global-64512", field: "spec.asNumber" });
  });
});

describe("replace", () => {
  it("a re-list of the same objects changes nothing; absent objects are deleted", () => {
    const engine = new RouteEngine();
    load(engine, [...seedNodes(), seedPeer(), bgpConfig({ serviceClusterIPs: [{ cidr: "10.49.0.0/16" }] })]);
    const nginx = seedNginx({ externalTrafficPolicy: "Local", type: "NodePort" });
    engine.replace("Service", [nginx[0], service("other", { clusterIP: "10.49.0.20" })]);
    engine.replace("EndpointSlice", [nginx[1]]);
    const before = routesByNode(engine);

    for (const kind of ["Service", "EndpointSlice", "Node", "BGPPeer", "BGPConfiguration"] as const) {
      const objects = kind === "Service" ? [nginx[0], service("other", { clusterIP: "10.49.0.20" })] : kind === "EndpointSlice" ? [nginx[1]] : undefined;
      const current =
        objects ??
        (kind === "Node" ? seedNodes() : kind === "BGPPeer" ? [seedPeer()] : [bgpConfig({ serviceClusterIPs: [{ cidr: "10.49.0.0/16" }] })]);
      const changes = engine.replace(kind, structuredClone(current));
      expect(changes.empty, kind).toBe(true);
    }
    expect(routesByNode(engine)).toEqual(before);

    const dropped = engine.replace("EndpointSlice", []);
    expect(dropped.nodes()).toEqual(["node-2", "node-3"]);
    expect(routesByNode(engine)["node-2"]).toEqual(["10.49.0.0/16"]);
  });

  it("trusts an equal resourceVersion and otherwise compares content", () => {
    const model = new ClusterModel();
    const a = service("a", { clusterIP: "10.49.0.1", resourceVersion: "5" });
    expect(model.apply(upsert("Service", a)).changes).toHaveLength(1);
    expect(model.apply(upsert("Service", service("a", { clusterIP: "10.49.0.1", resourceVersion: "5" }))).changes).toHaveLength(0);
    // A new resourceVersion with the same content (e.g. a re-created watch) is no change either.
    expect(model.apply(upsert("Service", service("a", { clusterIP: "10.49.0.1", resourceVersion: "6" }))).changes).toHaveLength(0);
    expect(model.apply(upsert("Service", service("a", { clusterIP: "10.49.0.2", resourceVersion: "7" }))).changes).toHaveLength(1);
  });
});
