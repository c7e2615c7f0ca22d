/**
 * Typed, defensive views of the plain Kubernetes JSON the sources deliver.
 * Everything the engine reads from a Service, EndpointSlice, Node or Secret
 * goes through here, so the rules elsewhere never poke at untyped objects.
 */
import { parseCidrLoose, parseIp, type Cidr, type IpAddress, type IpFamily } from "@svcbgp/config";
import type { KubeObject } from "../sources/source.js";

/** Nodes carrying this label advertise nothing (the label's meaning for load balancers). */
export const EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";
/** EndpointSlices name their Service with this label. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
export const COMMUNITIES_ANNOTATION = "svcbgp.io/communities";
export const LOCAL_PREF_ANNOTATION = "svcbgp.io/local-pref";

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function strings(value: unknown): string[] {
  return list(value).filter((v): v is string => typeof v === "string");
}

export type TrafficPolicy = "Cluster" | "Local";

export interface ServiceAddress {
  readonly ip: string;
  /** "spec.clusterIPs[0]", "spec.externalIPs[1]", "status.loadBalancer.ingress[0].ip". */
  readonly field: string;
  readonly source: "clusterIP" | "externalIP" | "loadBalancerIP";
}

export interface ServiceView {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly type: string;
  /** Why the Service is never advertised (ExternalName, headless), or undefined. */
  readonly ineligible: string | undefined;
  readonly addresses: readonly ServiceAddress[];
  readonly externalTrafficPolicy: TrafficPolicy;
  readonly internalTrafficPolicy: TrafficPolicy;
  readonly annotations: Readonly<Record<string, string>>;
}

export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function readService(object: KubeObject): ServiceView {
  const spec = record(object.spec);
  const status = record(object.status);
  const namespace = object.metadata.namespace ?? "default";
  const type = str(spec.type) ?? "ClusterIP";
  const clusterIPs = strings(spec.clusterIPs);
  if (clusterIPs.length === 0 && str(spec.clusterIP)) clusterIPs.push(str(spec.clusterIP) as string);
  const headless = clusterIPs.includes("None");
  let ineligible: string | undefined;
  if (type === "ExternalName") ineligible = "Service type ExternalName is not advertised";
  else if (type !== "ClusterIP" && type !== "NodePort" && type !== "LoadBalancer") ineligible = `Service type ${type} is not advertised`;
  else if (headless) ineligible = "headless Service (clusterIP None) is not advertised";

  const addresses: ServiceAddress[] = [];
  clusterIPs.forEach((ip, i) => {
    if (ip !== "" && ip !== "None") addresses.push({ ip, field: spec.clusterIPs ? `spec.clusterIPs[${i}]` : "spec.clusterIP", source: "clusterIP" });
  });
  strings(spec.externalIPs).forEach((ip, i) => addresses.push({ ip, field: `spec.externalIPs[${i}]`, source: "externalIP" }));
  // Only LoadBalancer Services own their ingress IPs; a stale status on a
  // Service switched to another type must not keep them advertised.
  if (type === "LoadBalancer") {
    list(record(status.loadBalancer).ingress).forEach((entry, i) => {
      const ip = str(record(entry).ip);
      if (ip) addresses.push({ ip, field: `status.loadBalancer.ingress[${i}].ip`, source: "loadBalancerIP" });
    });
  }
  return {
    key: serviceKey(namespace, object.metadata.name),
    namespace,
    name: object.metadata.name,
    type,
    ineligible,
    addresses,
    externalTrafficPolicy: spec.externalTrafficPolicy === "Local" ? "Local" : "Cluster",
    internalTrafficPolicy: spec.internalTrafficPolicy === "Local" ? "Local" : "Cluster",
    annotations: object.metadata.annotations ?? {},
  };
}

export interface EndpointView {
  readonly nodeName: string | undefined;
  /** Ready true or unset. */
  readonly ready: boolean;
  /** Not ready, but serving and terminating: kube-proxy's fallback. */
  readonly servingTerminating: boolean;
}

export interface SliceView {
  /** "ns/name" of the owning Service, from the kubernetes.io/service-name label. */
  readonly serviceKey: string | undefined;
  /** Undefined for FQDN slices, which never make a route. */
  readonly family: IpFamily | undefined;
  readonly endpoints: readonly EndpointView[];
}

export function readSlice(object: KubeObject): SliceView {
  const service = object.metadata.labels?.[SERVICE_NAME_LABEL];
  const namespace = object.metadata.namespace ?? "default";
  const addressType = str(object.addressType);
  let family: IpFamily | undefined = addressType === "IPv4" ? 4 : addressType === "IPv6" ? 6 : undefined;
  const endpoints: EndpointView[] = [];
  for (const entry of list(object.endpoints)) {
    const endpoint = record(entry);
    if (addressType === undefined && family === undefined) family = parseIp(strings(endpoint.addresses)[0] ?? "")?.family;
    const conditions = record(endpoint.conditions);
    // Unset conditions mean "unknown" and are treated as true / not terminating,
    // as kube-proxy does; serving defaults to ready.
    const ready = conditions.ready !== false;
    const serving = typeof conditions.serving === "boolean" ? conditions.serving : ready;
    const terminating = conditions.terminating === true;
    endpoints.push({ nodeName: str(endpoint.nodeName), ready, servingTerminating: !ready && serving && terminating });
  }
  return { serviceKey: service ? serviceKey(namespace, service) : undefined, family, endpoints };
}

export interface NodeView {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly excluded: boolean;
  /** Every address of the node, for refusing to peer with itself. */
  readonly addresses: readonly string[];
  readonly internalIPv4: string | undefined;
  readonly internalIPv6: string | undefined;
  /** First IPv4 InternalIP, else first IPv4 address of any type, else "". */
  readonly routerId: string;
  readonly podCIDRs: readonly Cidr[];
}

export function readNode(object: KubeObject): NodeView {
  const spec = record(object.spec);
  const status = record(object.status);
  const addresses: { type: string; ip: IpAddress }[] = [];
  for (const entry of list(status.addresses)) {
    const address = record(entry);
    const ip = parseIp(str(address.address) ?? "");
    if (ip) addresses.push({ type: str(address.type) ?? "", ip });
  }
  const internal = (family: IpFamily) => addresses.find((a) => a.type === "InternalIP" && a.ip.family === family)?.ip.text;
  const anyV4 = addresses.find((a) => a.ip.family === 4)?.ip.text;
  const podCIDRTexts = strings(spec.podCIDRs);
  if (podCIDRTexts.length === 0 && str(spec.podCIDR)) podCIDRTexts.push(str(spec.podCIDR) as string);
  const labels = object.metadata.labels ?? {};
  return {
    name: object.metadata.name,
    labels,
    excluded: Object.hasOwn(labels, EXCLUDE_LABEL),
    addresses: addresses.map((a) => a.ip.text),
    internalIPv4: internal(4),
    internalIPv6: internal(6),
    routerId: internal(4) ?? anyV4 ?? "",
    podCIDRs: podCIDRTexts.map((text) => parseCidrLoose(text)).filter((c): c is Cidr => c !== undefined),
  };
}

export function sameNodeView(a: NodeView | undefined, b: NodeView | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.excluded === b.excluded &&
    a.routerId === b.routerId &&
    a.internalIPv4 === b.internalIPv4 &&
    a.internalIPv6 === b.internalIPv6 &&
    a.addresses.join() === b.addresses.join() &&
    a.podCIDRs.map((c) => c.text).join() === b.podCIDRs.map((c) => c.text).join() &&
    JSON.stringify(Object.entries(a.labels).sort()) === JSON.stringify(Object.entries(b.labels).sort())
  );
}

/** A Secret's value for `key` (data is base64; stringData, as in manifests, is plain). */
export function readSecretValue(object: KubeObject, key: string): string | undefined {
  const stringData = record(object.stringData);
  if (typeof stringData[key] === "string") return stringData[key] as string;
  const data = record(object.data);
  if (typeof data[key] === "string") return Buffer.from(data[key] as string, "base64").toString("utf8");
  return undefined;
}
