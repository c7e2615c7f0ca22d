/**
 * A synthetic cluster for the watcher benchmarks: N nodes, S Services (every
 * other one LoadBalancer with externalTrafficPolicy Local, the rest
 * ClusterIP), one EndpointSlice per Service with E endpoints spread over the
 * nodes, a BGPConfiguration and one global BGPPeer.
 */
import { bgpConfig, bgpPeer, node, service, slice } from "../../../services/watcher/src/engine/fixtures.js";
import type { KubeObject } from "../../../services/watcher/src/sources/source.js";

export const CRD = "svcbgp.io/v1";

export interface ClusterSize {
  nodes: number;
  services: number;
  endpointsPerService: number;
}

/** 10.<a>.<b>.<c> from a base "10.49" and an index (250 per /24). */
export function ipOf(base: string, i: number): string {
  return `${base}.${Math.floor(i / 250) % 256}.${(i % 250) + 1}`;
}

export function makeNode(i: number, ip = ipOf("172.16", i)): KubeObject {
  return node(`node-${i}`, { ip });
}

export function isLocal(i: number): boolean {
  return i % 2 === 0;
}

export function makeService(i: number, annotations?: Record<string, string>): KubeObject {
  const local = isLocal(i);
  return service(`svc-${i}`, {
    type: local ? "LoadBalancer" : "ClusterIP",
    clusterIP: ipOf("10.49", i),
    loadBalancerIPs: local ? [ipOf("10.60", i)] : undefined,
    externalTrafficPolicy: local ? "Local" : "Cluster",
    annotations,
  });
}

/** The Service's slice; `shift` moves its endpoints to other nodes. */
export function makeSlice(i: number, size: ClusterSize, shift = 0, annotations?: Record<string, string>): KubeObject {
  const object = slice(`svc-${i}-abc`, `svc-${i}`, {
    endpoints: Array.from({ length: size.endpointsPerService }, (_, j) => ({
      ip: ipOf("10.48", (i * size.endpointsPerService + j) % 60000),
      node: `node-${(i * 7 + j * 13 + shift) % size.nodes}`,
      ready: true,
    })),
  });
  if (annotations) object.metadata.annotations = { ...(object.metadata.annotations as Record<string, string> | undefined), ...annotations };
  return object;
}

export function configSpec(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { serviceClusterIPs: [{ cidr: "10.49.0.0/16" }], serviceLoadBalancerIPs: [{ cidr: "10.60.0.0/16" }], serviceLoadBalancerAggregation: "Disabled", ...extra };
}

export function makeConfig(extra: Record<string, unknown> = {}): KubeObject {
  return bgpConfig(configSpec(extra), { apiVersion: CRD });
}

export function makePeer(address = "192.168.0.1", asNumber = 64512, extra: Record<string, unknown> = {}): KubeObject {
  return bgpPeer("tor", { peerIP: address, asNumber, ...extra }, CRD);
}

export interface ClusterOptions {
  /** Node IPs to use instead of 172.16.x.y (index → IP). */
  nodeIps?: Record<number, string>;
  peer?: KubeObject;
}

export function clusterObjects(size: ClusterSize, options: ClusterOptions = {}): KubeObject[] {
  const objects: KubeObject[] = [makeConfig(), options.peer ?? makePeer()];
  for (let i = 0; i < size.nodes; i++) objects.push(makeNode(i, options.nodeIps?.[i]));
  for (let i = 0; i < size.services; i++) objects.push(makeService(i), makeSlice(i, size));
  return objects;
}
