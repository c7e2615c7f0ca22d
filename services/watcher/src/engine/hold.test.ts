/** hold() … release(): Services are evaluated once, when released, with the same result as evaluating them as they come. */
import { describe, expect, it } from "vitest";
import { RouteEngine } from "./engine.js";
import { bgpConfig, node, routesByNode, service, slice } from "./fixtures.js";

const config = bgpConfig({ serviceClusterIPs: [{ cidr: "10.49.0.0/16" }], serviceLoadBalancerIPs: [{ cidr: "192.168.4.0/24" }], serviceLoadBalancerAggregation: "Disabled" });
const nodes = [node("node-1", { ip: "192.168.1.10" }), node("node-2", { ip: "192.168.1.11" })];
const services = [
  service("web", { type: "LoadBalancer", clusterIP: "10.49.0.1", loadBalancerIPs: ["192.168.4.5"], externalTrafficPolicy: "Local" }),
  service("api", { type: "LoadBalancer", clusterIP: "10.49.0.2", loadBalancerIPs: ["192.168.4.6"] }),
  service("bad", { type: "LoadBalancer", clusterIP: "10.49.0.3", loadBalancerIPs: ["8.8.8.8"] }),
];
const slices = [
  slice("web-1", "web", { endpoints: [{ ip: "10.48.0.1", node: "node-2", ready: true }] }),
  slice("api-1", "api", { endpoints: [{ ip: "10.48.0.2", node: "node-1", ready: true }] }),
];

describe("RouteEngine hold / release", () => {
  it("defers Service evaluation until release, then reports every node it changes", () => {
    const engine = new RouteEngine();
    engine.hold();
    expect(engine.held).toBe(true);
    // The initial lists in an unfavourable order: Services, then their slices, then the config.
    for (const changes of [engine.replace("Node", nodes), engine.replace("Service", services), engine.replace("EndpointSlice", slices)]) {
      expect(changes.rejections.size).toBe(0);
    }
    engine.replace("BGPConfiguration", [config]);
    // Only the aggregate so far: no Service has been evaluated.
    expect(routesByNode(engine)).toEqual({ "node-1": ["10.49.0.0/16"], "node-2": ["10.49.0.0/16"] });
    expect(engine.allRejections().size).toBe(0);

    const released = engine.release();
    expect(engine.held).toBe(false);
    expect(released.nodes()).toEqual(["node-1", "node-2"]);
    expect([...released.rejections.keys()]).toEqual(["default/bad"]);
    expect(routesByNode(engine)).toEqual({
      "node-1": ["10.49.0.0/16", "192.168.4.6/32"],
      // eTP Local: the cluster IP too, from the node with the endpoint.
      "node-2": ["10.49.0.0/16", "10.49.0.1/32", "192.168.4.5/32", "192.168.4.6/32"],
    });

    const direct = new RouteEngine();
    direct.replace("Node", nodes);
    direct.replace("Service", services);
    direct.replace("EndpointSlice", slices);
    direct.replace("BGPConfiguration", [config]);
    expect(routesByNode(engine)).toEqual(routesByNode(direct));
    for (const name of engine.listNodes()) expect(engine.intent(name)).toEqual(direct.intent(name));
    expect(engine.allRejections()).toEqual(direct.allRejections());
  });

  it("evaluates a Service deleted while held as deleted, and updates incrementally after release", () => {
    const engine = new RouteEngine();
    engine.replace("Node", nodes);
    engine.replace("BGPConfiguration", [config]);
    engine.replace("Service", services);
    engine.replace("EndpointSlice", slices);
    engine.hold();
    engine.apply({ type: "delete", kind: "Service", object: services[1] });
    // Still advertised: the deletion waits for release.
    expect(routesByNode(engine)["node-1"]).toContain("192.168.4.6/32");
    const released = engine.release();
    expect(released.nodes()).toEqual(["node-1", "node-2"]);
    expect(routesByNode(engine)["node-1"]).toEqual(["10.49.0.0/16"]);
    const moved = engine.apply({ type: "upsert", kind: "EndpointSlice", object: slice("web-1", "web", { endpoints: [{ ip: "10.48.0.1", node: "node-1", ready: true }] }) });
    expect(moved.nodes()).toEqual(["node-1", "node-2"]);
    expect(routesByNode(engine)).toEqual({ "node-1": ["10.49.0.0/16", "10.49.0.1/32", "192.168.4.5/32"], "node-2": ["10.49.0.0/16"] });
  });

  it("release without hold reports nothing", () => {
    const engine = new RouteEngine();
    engine.replace("Node", nodes);
    expect(engine.release().empty).toBe(true);
  });
});
