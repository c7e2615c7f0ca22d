/**
 * The per-Service rules of ARCHITECTURE.md "Route semantics": which host
 * routes one Service wants, from which nodes, and which of its IPs are
 * refused and why. Pure: Service + its endpoints + config in, contributions
 * and decisions out.
 */
import { RouteKind } from "@svcbgp/api";
import { hostPrefix, parseIp, type Cidr, type IpAddress, type IpFamily } from "@svcbgp/config";
import { RANGE_FIELD, splitCommunities, type AddressKind, type ConfigView } from "./config-view.js";
import { usability, type FamilyEndpoints, type ServiceEndpoints, type Usability } from "./endpoints.js";
import { COMMUNITIES_ANNOTATION, LOCAL_PREF_ANNOTATION, type ServiceAddress, type ServiceView } from "./kube.js";
import { contributionKey, type Contribution } from "./route-table.js";

/** One reason a Service's address (or annotation) is not honoured; feeds explain and Kubernetes Events. */
export interface ServiceRejection {
  /** "namespace/name". */
  readonly service: string;
  /** Field path, e.g. "spec.externalIPs[0]" or "metadata.annotations[svcbgp.io/local-pref]". */
  readonly field: string;
  /** The refused IP; empty for annotation problems. */
  readonly ip: string;
  /** Address kind; UNSPECIFIED for annotation problems. */
  readonly kind: RouteKind;
  readonly reason: string;
}

/**
 * What the rules decided for one address, independent of node:
 * - ineligible: the Service type is never advertised;
 * - invalid: not an IP;
 * - rejected: outside the allowed ranges;
 * - local: traffic policy Local, host route from nodes with a local usable endpoint;
 * - covered: Cluster policy, an advertised aggregate covers it;
 * - everywhere: Cluster policy, host route from every node;
 * - noEndpoints: Cluster policy, not covered, no usable endpoint anywhere.
 */
export type IpMode = "ineligible" | "invalid" | "rejected" | "local" | "covered" | "everywhere" | "noEndpoints";

export interface IpDecision {
  readonly ip: string;
  readonly parsed: IpAddress | undefined;
  readonly kind: AddressKind;
  readonly field: string;
  readonly mode: IpMode;
  readonly allowedBy: Cidr | undefined;
  readonly rejectedReason: string | undefined;
  readonly coveredBy: Cidr | undefined;
  /** For mode local: which policy made it local. */
  readonly policy: "externalTrafficPolicy" | "internalTrafficPolicy" | undefined;
  /** Cluster-wide usable endpoints of the address's family. */
  readonly cluster: Usability;
}

/** A contribution with its contributionKey. */
export interface KeyedContribution {
  readonly key: string;
  readonly contribution: Contribution;
}

/** A node-specific contribution and the nodes it comes from. */
export interface LocalContribution extends KeyedContribution {
  /** Nodes with a usable local endpoint of the address's family (no duplicates). */
  readonly nodes: readonly string[];
}

export interface ServiceEvaluation {
  /** Contributions from every (non-excluded) node; at most one per key. */
  readonly shared: readonly KeyedContribution[];
  /** Contributions from some nodes only (traffic policy Local); at most one per key. */
  readonly local: readonly LocalContribution[];
  readonly rejections: readonly ServiceRejection[];
  readonly decisions: readonly IpDecision[];
}

export const EMPTY_EVALUATION: ServiceEvaluation = { shared: [], local: [], rejections: [], decisions: [] };

/** The entry of `list` under `key` (lists hold a few entries: one per address of a Service). */
export function findKeyed<T extends KeyedContribution>(list: readonly T[], key: string): T | undefined {
  for (const entry of list) if (entry.key === key) return entry;
  return undefined;
}

const ADDRESS_KIND: Record<ServiceAddress["source"], AddressKind> = {
  clusterIP: RouteKind.CLUSTER_IP,
  externalIP: RouteKind.EXTERNAL_IP,
  loadBalancerIP: RouteKind.LOAD_BALANCER_IP,
};

interface RouteAttributes {
  readonly communities: readonly string[];
  readonly largeCommunities: readonly string[];
  readonly localPref: number | undefined;
}

const NO_ATTRIBUTES: RouteAttributes = { communities: [], largeCommunities: [], localPref: undefined };

/** Communities and local-pref from the Service's annotations; bad values become rejections. */
function readAnnotations(svc: ServiceView, config: ConfigView, rejections: ServiceRejection[]): RouteAttributes {
  const communities = svc.annotations[COMMUNITIES_ANNOTATION];
  const localPrefText = svc.annotations[LOCAL_PREF_ANNOTATION];
  if (communities === undefined && localPrefText === undefined) return NO_ATTRIBUTES;
  const values = [];
  if (communities !== undefined) {
    for (const reference of communities.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
      const value = config.resolveCommunity(reference);
      if (value) values.push(value);
      else {
        rejections.push({
          service: svc.key,
          field: `metadata.annotations[${COMMUNITIES_ANNOTATION}]`,
          ip: "",
          kind: RouteKind.UNSPECIFIED,
          reason: `"${reference}" is neither a community value ("asn:value" or "global:local1:local2") nor a name in BGPConfiguration communities; ignored`,
        });
      }
    }
  }
  let localPref: number | undefined;
  if (localPrefText !== undefined) {
    const trimmed = localPrefText.trim();
    if (/^[0-9]{1,10}$/.test(trimmed) && Number(trimmed) <= 0xffffffff) localPref = Number(trimmed);
    else {
      rejections.push({
        service: svc.key,
        field: `metadata.annotations[${LOCAL_PREF_ANNOTATION}]`,
        ip: "",
        kind: RouteKind.UNSPECIFIED,
        reason: `"${localPrefText}" is not a local preference (an integer 0..4294967295); ignored`,
      });
    }
  }
  const split = splitCommunities(values);
  return { communities: [...split.standard].sort(), largeCommunities: [...split.large].sort(), localPref };
}

function rejectionReason(kind: AddressKind, config: ConfigView): string {
  const ranges = config.rangesFor(kind);
  const field = RANGE_FIELD[kind];
  // A cluster IP is advertised only when cluster-IP advertisement is switched
  // on at all; say so rather than listing an empty range set.
  if (kind === RouteKind.CLUSTER_IP && ranges.length === 0) return "no serviceClusterIPs range configured";
  const list = ranges.length === 0 ? "none configured" : ranges.map((r) => r.text).join(", ");
  return `not in ${field} (${list})`;
}

function decision(
  ip: string,
  parsed: IpAddress | undefined,
  kind: AddressKind,
  field: string,
  mode: IpMode,
  allowedBy: Cidr | undefined,
  rejectedReason: string | undefined,
  coveredBy: Cidr | undefined,
  policy: IpDecision["policy"],
  cluster: Usability,
): IpDecision {
  return { ip, parsed, kind, field, mode, allowedBy, rejectedReason, coveredBy, policy, cluster };
}

/** Nodes with a usable local endpoint, as a list. */
function usableNodes(endpoints: FamilyEndpoints | undefined): readonly string[] {
  if (!endpoints) return NO_NODES;
  const nodes: string[] = [];
  for (const node of endpoints.usableNodes()) nodes.push(node);
  return nodes;
}

const NO_NODES: readonly string[] = [];

export function evaluateService(svc: ServiceView, endpoints: ServiceEndpoints | undefined, config: ConfigView): ServiceEvaluation {
  const rejections: ServiceRejection[] = [];
  const decisions: IpDecision[] = [];
  const shared: KeyedContribution[] = [];
  const local: LocalContribution[] = [];

  if (svc.ineligible) {
    for (const address of svc.addresses) {
      decisions.push(decision(address.ip, parseIp(address.ip), ADDRESS_KIND[address.source], address.field, "ineligible", undefined, svc.ineligible, undefined, undefined, "none"));
    }
    return { shared, local, rejections, decisions };
  }

  const attributes = readAnnotations(svc, config, rejections);
  const contribution = (prefix: string, kind: AddressKind): Contribution => ({
    prefix,
    kind,
    source: svc.key,
    communities: attributes.communities,
    largeCommunities: attributes.largeCommunities,
    localPref: attributes.localPref,
  });
  // Per family: the nodes advertising a Local-policy address (shared by the Service's addresses of that family).
  let localNodes4: readonly string[] | undefined;
  let localNodes6: readonly string[] | undefined;

  for (const address of svc.addresses) {
    const kind = ADDRESS_KIND[address.source];
    const ip = parseIp(address.ip);
    if (!ip) {
      const reason = `"${address.ip}" is not an IP address`;
      decisions.push(decision(address.ip, undefined, kind, address.field, "invalid", undefined, reason, undefined, undefined, "none"));
      rejections.push({ service: svc.key, field: address.field, ip: address.ip, kind, reason });
      continue;
    }
    const family: IpFamily = ip.family;
    const familyEndpoints = endpoints?.family(family);
    const cluster = usability(familyEndpoints?.cluster);
    const allowedBy = config.allowedRange(kind, ip);
    if (!allowedBy) {
      const reason = rejectionReason(kind, config);
      decisions.push(decision(ip.text, ip, kind, address.field, "rejected", allowedBy, reason, undefined, undefined, cluster));
      // Cluster IPs are allocated by Kubernetes, not chosen by tenants: not
      // advertising them is configuration, not a refusal worth an Event.
      if (kind !== RouteKind.CLUSTER_IP) rejections.push({ service: svc.key, field: address.field, ip: ip.text, kind, reason });
      continue;
    }
    const prefix = hostPrefix(ip) as string;
    let policy: IpDecision["policy"];
    if (svc.externalTrafficPolicy === "Local") policy = "externalTrafficPolicy";
    else if (kind === RouteKind.CLUSTER_IP && svc.internalTrafficPolicy === "Local") policy = "internalTrafficPolicy";
    if (policy) {
      decisions.push(decision(ip.text, ip, kind, address.field, "local", allowedBy, undefined, undefined, policy, cluster));
      const c = contribution(prefix, kind);
      const key = contributionKey(c);
      if (findKeyed(local, key)) continue;
      const nodes = family === 4 ? (localNodes4 ??= usableNodes(familyEndpoints)) : (localNodes6 ??= usableNodes(familyEndpoints));
      // A Service with no usable local endpoint anywhere advertises nothing for it.
      if (nodes.length > 0) local.push({ key, contribution: c, nodes });
      continue;
    }
    const coveredBy = config.coveringAggregate(ip);
    if (coveredBy) {
      decisions.push(decision(ip.text, ip, kind, address.field, "covered", allowedBy, undefined, coveredBy, undefined, cluster));
      continue;
    }
    if (cluster === "none") {
      decisions.push(decision(ip.text, ip, kind, address.field, "noEndpoints", allowedBy, undefined, undefined, undefined, cluster));
      continue;
    }
    decisions.push(decision(ip.text, ip, kind, address.field, "everywhere", allowedBy, undefined, undefined, undefined, cluster));
    const c = contribution(prefix, kind);
    const key = contributionKey(c);
    if (!findKeyed(shared, key)) shared.push({ key, contribution: c });
  }
  return { shared, local, rejections, decisions };
}

export function sameRejections(a: readonly ServiceRejection[], b: readonly ServiceRejection[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((r, i) => r.field === b[i].field && r.ip === b[i].ip && r.kind === b[i].kind && r.reason === b[i].reason);
}
