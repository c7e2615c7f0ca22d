/**
 * Scale smoke test at the benchmark's size (5,000 nodes, 10,000 Services,
 * 100,000 endpoints): initial sync and per-event cost stay within the
 * targets (≤ 5 s, p99 ≤ 5 ms) in order of magnitude; the bounds asserted are
 * loose so a loaded CI machine does not flake. The real benchmark is test/bench.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../sources/source.js";
import { RouteEngine } from "./engine.js";
import { bgpConfig, bgpPeer, node, service, slice, upsert } from "./fixtures.js";

const NODES = 5000;
const SERVICES = 10_000;
const ENDPOINTS_PER_SERVICE = 10;

function ipOf(base: string, i: number): string {
  return `${base}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

function makeService(i: number, variant = 0): KubeObject {
  const local = i % 5 === 0;
  return service(`svc-${i}`, {
    type: local ? "LoadBalancer" : "ClusterIP",
    clusterIP: ipOf("10.49", i),
    loadBalancerIPs: local ? [ipOf("10.60", i)] : undefined,
    externalTrafficPolicy: local ? "Local" : "Cluster",
    annotations: variant ? { "svcbgp.io/local-pref": String(100 + variant) } : undefined,
  });
}

function makeSlice(i: number, shift = 0): KubeObject {
  return slice(`svc-${i}-abc`, `svc-${i}`, {
    endpoints: Array.from({ length: ENDPOINTS_PER_SERVICE }, (_, j) => ({ ip: ipOf("10.48", (i * ENDPOINTS_PER_SERVICE + j) % 60000), node: `node-${(i * 7 + j * 13 + shift) % NODES}`, ready: true })),
  });
}

describe("scale", () => {
  it("syncs 5k nodes / 10k Services / 100k endpoints and handles events quickly", { timeout: 120_000 }, () => {
    const engine = new RouteEngine();
    const started = performance.now();
    engine.replace("BGPConfiguration", [bgpConfig({ serviceClusterIPs: [{ cidr: "10.49.0.0/16" }], serviceLoadBalancerIPs: [{ cidr: "10.60.0.0/16" }], serviceLoadBalancerAggregation: "Disabled" })]);
    engine.replace("BGPPeer", [bgpPeer("tor", { peerIP: "192.168.0.1", asNumber: 64512 })]);
    engine.replace("Node", Array.from({ length: NODES }, (_, i) => node(`node-${i}`, { ip: ipOf("172.16", i) })));
    engine.replace("Service", Array.from({ length: SERVICES }, (_, i) => makeService(i)));
    engine.replace("EndpointSlice", Array.from({ length: SERVICES }, (_, i) => makeSlice(i)));
    const syncMs = performance.now() - started;

    const routeCount = engine.intent("node-0")!.routes.length;

    expect(routeCount).toBeGreaterThan(1);

    const samples: number[] = [];
    for (let k = 0; k < 2000; k++) {
      const i = (k * 7919) % SERVICES;
      const event = k % 2 === 0 ? upsert("EndpointSlice", makeSlice(i, k + 1)) : upsert("Service", makeService(i, k));
      const t = performance.now();
      const changes = engine.apply(event);
      for (const name of changes.nodes()) {
        const change = changes.forNode(name)!;
        if (!change.snapshot) engine.delta(name, change);
      }
      samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);

    const p99 = samples[Math.floor(samples.length * 0.99)];
    console.log(`scale: sync ${syncMs.toFixed(0)} ms, per-event p50 ${samples[samples.length >> 1].toFixed(3)} ms p99 ${p99.toFixed(3)} ms, node-0 routes ${routeCount}`);
    // Loose bounds: this guards against accidental O(nodes × services) work,
    // not against a busy CI machine (measured ~1.3 s sync, p99 ~4 ms idle).
    expect(syncMs).toBeLessThan(30_000);
    expect(p99).toBeLessThan(100);
  });
});
