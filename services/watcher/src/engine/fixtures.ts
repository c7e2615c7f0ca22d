/**
 * Builders for the Kubernetes and Calico objects the engine consumes, and
 * small helpers for reading intents in tests. Shared by the engine's tests
 * and by other suites (sources, gRPC) that need realistic objects.
 */
import type { NodeIntent } from "@svcbgp/api";
import type { KubeObject, ResourceEvent, ResourceKind } from "../sources/source.js";
import { EXCLUDE_LABEL, SERVICE_NAME_LABEL } from "./kube.js";
import type { RouteEngine } from "./engine.js";

export interface ServiceOptions {
  namespace?: string;
  type?: "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName";
  clusterIP?: string;
  /** Dual-stack cluster IPs; overrides clusterIP. */
  clusterIPs?: string[];
  externalIPs?: string[];
  loadBalancerIPs?: string[];
  externalTrafficPolicy?: "Cluster" | "Local";
  internalTrafficPolicy?: "Cluster" | "Local";
  annotations?: Record<string, string>;
  resourceVersion?: string;
}

export function service(name: string, options: ServiceOptions = {}): KubeObject {
  const clusterIPs = options.clusterIPs ?? (options.clusterIP !== undefined ? [options.clusterIP] : []);
  const spec: Record<string, unknown> = { type: options.type ?? "ClusterIP", ports: [{ port: 80, protocol: "TCP", targetPort: 80 }] };
  if (clusterIPs.length > 0) {
    spec.clusterIP = clusterIPs[0];
    spec.clusterIPs = clusterIPs;
  }
  if (options.externalIPs) spec.externalIPs = options.externalIPs;
  if (options.externalTrafficPolicy) spec.externalTrafficPolicy = options.externalTrafficPolicy;
  if (options.internalTrafficPolicy) spec.internalTrafficPolicy = options.internalTrafficPolicy;
  const object: KubeObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: options.namespace ?? "default", ...(options.annotations ? { annotations: options.annotations } : {}) },
    spec,
  };
  if (options.resourceVersion) object.metadata.resourceVersion = options.resourceVersion;
  if (options.loadBalancerIPs) object.status = { loadBalancer: { ingress: options.loadBalancerIPs.map((ip) => ({ ip })) } };
  return object;
}

export interface EndpointOptions {
  ip?: string;
  node?: string;
  /** undefined leaves the condition unset (which counts as ready). */
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface SliceOptions {
  namespace?: string;
  addressType?: "IPv4" | "IPv6" | "FQDN";
  endpoints?: EndpointOptions[];
}

let podCounter = 0;

export function slice(name: string, serviceName: string, options: SliceOptions = {}): KubeObject {
  const addressType = options.addressType ?? "IPv4";
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name, namespace: options.namespace ?? "default", labels: { [SERVICE_NAME_LABEL]: serviceName } },
    addressType,
    endpoints: (options.endpoints ?? []).map((endpoint) => {
      const conditions: Record<string, boolean> = {};
      if (endpoint.ready !== undefined) conditions.ready = endpoint.ready;
      if (endpoint.serving !== undefined) conditions.serving = endpoint.serving;
      if (endpoint.terminating !== undefined) conditions.terminating = endpoint.terminating;
      podCounter = (podCounter + 1) % 250;
      const ip = endpoint.ip ?? (addressType === "IPv6" ? `fd00:48::${podCounter + 1}` : `10.48.0.${podCounter + 1}`);
      return { addresses: [ip], conditions, ...(endpoint.node ? { nodeName: endpoint.node } : {}) };
    }),
    ports: [{ port: 80, protocol: "TCP" }],
  };
}

export interface NodeOptions {
  ip?: string;
  ipv6?: string;
  labels?: Record<string, string>;
  podCIDRs?: string[];
  excluded?: boolean;
  resourceVersion?: string;
}

export function node(name: string, options: NodeOptions = {}): KubeObject {
  const labels: Record<string, string> = { "kubernetes.io/hostname": name, ...options.labels };
  if (options.excluded) labels[EXCLUDE_LABEL] = "";
  const addresses = [
    ...(options.ip ? [{ type: "InternalIP", address: options.ip }] : []),
    ...(options.ipv6 ? [{ type: "InternalIP", address: options.ipv6 }] : []),
    { type: "Hostname", address: name },
  ];
  const object: KubeObject = {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels },
    spec: options.podCIDRs ? { podCIDR: options.podCIDRs[0], podCIDRs: options.podCIDRs } : {},
    status: { addresses },
  };
  if (options.resourceVersion) object.metadata.resourceVersion = options.resourceVersion;
  return object;
}

export function bgpConfig(spec: Record<string, unknown>, options: { name?: string; apiVersion?: string } = {}): KubeObject {
  return { apiVersion: options.apiVersion ?? "projectcalico.org/v3", kind: "BGPConfiguration", metadata: { name: options.name ?? "default" }, spec };
}

export function bgpPeer(name: string, spec: Record<string, unknown>, apiVersion = "projectcalico.org/v3"): KubeObject {
  return { apiVersion, kind: "BGPPeer", metadata: { name }, spec };
}

export function secret(name: string, data: Record<string, string>, namespace = "svcbgp-system"): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  };
}

export function upsert(kind: ResourceKind, object: KubeObject): ResourceEvent {
  return { type: "upsert", kind, object };
}

export function remove(kind: ResourceKind, object: KubeObject): ResourceEvent {
  return { type: "delete", kind, object };
}

/** The kind an object is filed under, from its `kind` field. */
export function kindOf(object: KubeObject): ResourceKind {
  return object.kind as ResourceKind;
}

/** Feeds objects to an engine as upserts, in order. */
export function load(engine: RouteEngine, objects: KubeObject[]): void {
  for (const object of objects) engine.apply(upsert(kindOf(object), object));
}

/** The prefixes of a node's intent, in intent order. */
export function prefixes(intent: NodeIntent | undefined): string[] {
  return intent?.routes.map((route) => route.prefix) ?? [];
}

/** node → advertised prefixes, for every known node. */
export function routesByNode(engine: RouteEngine): Record<string, string[]> {
  return Object.fromEntries(engine.listNodes().map((name) => [name, prefixes(engine.intent(name))]));
}

/** The seed's three nodes: node-1..3 at 192.168.1.10-12. */
export function seedNodes(): KubeObject[] {
  return [node("node-1", { ip: "192.168.1.10" }), node("node-2", { ip: "192.168.1.11" }), node("node-3", { ip: "192.168.1.12" })];
}

/** The seed's ToR peer, exactly as the seed writes it. */
export function seedPeer(): KubeObject {
  return bgpPeer("bgppeer-global-64512", { peerIP: "192.168.1.1", asNumber: 64512 });
}

/** The seed's nginx Service (cluster IP 10.49.62.131) and its 2 endpoints on node-2 and node-3. */
export function seedNginx(options: ServiceOptions = {}): KubeObject[] {
  return [
    service("nginx", { clusterIP: "10.49.62.131", ...options }),
    slice("nginx-abcde", "nginx", { endpoints: [{ ip: "10.48.2.5", node: "node-2", ready: true }, { ip: "10.48.3.7", node: "node-3", ready: true }] }),
  ];
}
