/** ExplainService: per IP and per node, what is advertised and why. */
import { RouteKind } from "@svcbgp/api";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../sources/source.js";
import { RouteEngine } from "./engine.js";
import { bgpConfig, load, node, seedNodes, service, slice, type EndpointOptions } from "./fixtures.js";

function explainWith(spec: Record<string, unknown>, svc: KubeObject, endpoints: EndpointOptions[] = [], extra: KubeObject[] = []) {
  const engine = new RouteEngine();
  load(engine, [...seedNodes(), ...extra, bgpConfig(spec), svc, slice(`${svc.metadata.name}-1`, svc.metadata.name, { endpoints })]);
  return engine.explain("default", svc.metadata.name);
}

const decisions = (ip: { nodes: { nodeName: string; advertisedPrefix: string; reason: string }[] }) => ip.nodes.map((n) => [n.nodeName, n.advertisedPrefix, n.reason]);

describe("explain", () => {
  it("unknown Service", () => {
    expect(new RouteEngine().explain("default", "nope").found).toBe(false);
  });

  it("external IP outside serviceExternalIPs, still covered by another aggregate", () => {
    const result = explainWith(
      { serviceClusterIPs: [{ cidr: "10.49.0.0/16" }], serviceExternalIPs: [{ cidr: "192.168.3.0/24" }] },
      service("web", { clusterIP: "10.49.0.10", externalIPs: ["10.49.200.1", "8.8.8.8"] }),
      [{ node: "node-1" }],
    );
    expect(result.found).toBe(true);
    const [, inCluster, outside] = result.ips;
    expect(inCluster).toMatchObject({ ip: "10.49.200.1", kind: RouteKind.EXTERNAL_IP, allowedBy: "", rejectedReason: "not in serviceExternalIPs (192.168.3.0/24)" });
    expect(decisions(inCluster)[0]).toEqual(["node-1", "10.49.0.0/16", "not in serviceExternalIPs (192.168.3.0/24); covered by 10.49.0.0/16"]);
    expect(decisions(outside)[0]).toEqual(["node-1", "", "not in serviceExternalIPs (192.168.3.0/24)"]);
  });

  it("Cluster policy without any usable endpoint", () => {
    const result = explainWith({ serviceExternalIPs: [{ cidr: "192.168.3.180/32" }] }, service("web", { clusterIP: "10.49.0.10", externalIPs: ["192.168.3.180"] }), [
      { node: "node-1", ready: false },
    ]);
    expect(result.ips[1].allowedBy).toBe("192.168.3.180/32");
    expect(decisions(result.ips[1])[0]).toEqual(["node-1", "", "no usable endpoint in the cluster"]);
  });

  it("host route from every node: single-IP range, aggregation Disabled, fallback", () => {
    const single = explainWith({ serviceExternalIPs: [{ cidr: "192.168.3.180/32" }] }, service("web", { clusterIP: "10.49.0.10", externalIPs: ["192.168.3.180"] }), [
      { node: "node-1", ready: false, serving: true, terminating: true },
    ]);
    expect(decisions(single.ips[1])[2]).toEqual([
      "node-3",
      "192.168.3.180/32",
      "host route from every node: single-IP range 192.168.3.180/32 (no ready endpoint; serving-and-terminating endpoints count)",
    ]);
    const disabled = explainWith(
      { serviceLoadBalancerIPs: [{ cidr: "192.168.4.0/24" }], serviceLoadBalancerAggregation: "Disabled" },
      service("lb", { type: "LoadBalancer", clusterIP: "10.49.0.11", loadBalancerIPs: ["192.168.4.11"] }),
      [{ node: "node-2" }],
    );
    expect(disabled.ips[1]).toMatchObject({ ip: "192.168.4.11", kind: RouteKind.LOAD_BALANCER_IP, allowedBy: "192.168.4.0/24" });
    expect(decisions(disabled.ips[1])[0]).toEqual(["node-1", "192.168.4.11/32", "host route from every node: serviceLoadBalancerAggregation Disabled"]);
  });

  it("Local policies, per node, including the terminating fallback and exclusion", () => {
    const result = explainWith(
      { serviceClusterIPs: [{ cidr: "10.49.0.0/16" }] },
      service("web", { clusterIP: "10.49.0.10", internalTrafficPolicy: "Local" }),
      [{ node: "node-1" }, { node: "node-2", ready: false, serving: true, terminating: true }, { node: "node-4" }],
      [node("node-4", { ip: "192.168.1.13", excluded: true })],
    );
    expect(decisions(result.ips[0])).toEqual([
      ["node-1", "10.49.0.10/32", "internalTrafficPolicy Local: local ready endpoint"],
      ["node-2", "10.49.0.10/32", "internalTrafficPolicy Local: no local ready endpoint; a local serving-and-terminating endpoint counts"],
      ["node-3", "10.49.0.0/16", "internalTrafficPolicy Local: no local ready endpoint; covered by 10.49.0.0/16"],
      ["node-4", "", "node excluded (label node.kubernetes.io/exclude-from-external-load-balancers)"],
    ]);
  });

  it("a shared IP advertised for another Service says so", () => {
    const engine = new RouteEngine();
    load(engine, [
      ...seedNodes(),
      bgpConfig({ serviceExternalIPs: [{ cidr: "192.168.3.180/32" }] }),
      service("a", { clusterIP: "10.49.0.1", externalIPs: ["192.168.3.180"], externalTrafficPolicy: "Local" }),
      service("b", { clusterIP: "10.49.0.2", externalIPs: ["192.168.3.180"] }),
      slice("a-1", "a", { endpoints: [{ node: "node-1" }] }),
      slice("b-1", "b", { endpoints: [{ node: "node-2" }] }),
    ]);
    expect(decisions(engine.explain("default", "a").ips[1])[1]).toEqual([
      "node-2",
      "192.168.3.180/32",
      "externalTrafficPolicy Local: no local ready endpoint; advertised for another Service sharing the IP",
    ]);
  });

  it("ineligible Services explain themselves", () => {
    const result = explainWith({ serviceExternalIPs: [{ cidr: "192.168.3.0/24" }] }, service("ext", { type: "ExternalName", externalIPs: ["192.168.3.5"] }));
    expect(result.ips[0].rejectedReason).toBe("Service type ExternalName is not advertised");
    expect(decisions(result.ips[0])[0]).toEqual(["node-1", "192.168.3.0/24", "Service type ExternalName is not advertised; covered by 192.168.3.0/24"]);
  });
});
