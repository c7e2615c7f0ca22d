/**
 * What the BGPConfiguration in force means for routes: the allowed ranges per
 * Service address kind, which ranges are advertised as aggregates, and the
 * communities a prefix carries. Built once per config change; lookups are
 * linear over the (few) configured ranges.
 */
import { RouteKind } from "@svcbgp/api";
import {
  cidrCovers,
  DEFAULT_AS_NUMBER,
  isHostCidr,
  parseCidr,
  resolveCommunity,
  type BGPConfigurationValue,
  type Cidr,
  type CommunityValue,
  type IpAddress,
} from "@svcbgp/config";

/** The Service address kinds and the BGPConfiguration field that allows each. */
export type AddressKind = RouteKind.CLUSTER_IP | RouteKind.EXTERNAL_IP | RouteKind.LOAD_BALANCER_IP;

export const RANGE_FIELD: Record<AddressKind, string> = {
  [RouteKind.CLUSTER_IP]: "serviceClusterIPs",
  [RouteKind.EXTERNAL_IP]: "serviceExternalIPs",
  [RouteKind.LOAD_BALANCER_IP]: "serviceLoadBalancerIPs",
};

export const RANGE_KIND: Record<AddressKind, RouteKind> = {
  [RouteKind.CLUSTER_IP]: RouteKind.CLUSTER_IP_RANGE,
  [RouteKind.EXTERNAL_IP]: RouteKind.EXTERNAL_IP_RANGE,
  [RouteKind.LOAD_BALANCER_IP]: RouteKind.LOAD_BALANCER_IP_RANGE,
};

export interface Aggregate {
  readonly cidr: Cidr;
  readonly kind: RouteKind;
}

export interface CommunitySet {
  readonly standard: readonly string[];
  readonly large: readonly string[];
}

const NO_COMMUNITIES: CommunitySet = { standard: [], large: [] };

function contains(cidr: Cidr, ip: IpAddress): boolean {
  return cidr.family === ip.family && ip.value >= cidr.first && ip.value <= cidr.last;
}

/** The most specific CIDR of `ranges` containing `ip`. */
function mostSpecific(ranges: readonly Cidr[], ip: IpAddress): Cidr | undefined {
  let best: Cidr | undefined;
  for (const range of ranges) if (contains(range, ip) && (!best || range.length > best.length)) best = range;
  return best;
}

export function splitCommunities(values: Iterable<CommunityValue>): CommunitySet {
  const standard = new Set<string>();
  const large = new Set<string>();
  for (const value of values) (value.kind === "large" ? large : standard).add(value.text);
  return { standard: [...standard], large: [...large] };
}

/** What changed between two config views, as far as routes are concerned. */
export interface ConfigDiff {
  /** local_asn or listen_port: a field of every NodeIntent (snapshot everywhere). */
  readonly nodeFields: boolean;
  readonly advertisePodCIDRs: boolean;
  /** Ranges added or removed, per address kind (allowedRange of an IP inside one may change). */
  readonly ranges: Record<AddressKind, readonly Cidr[]>;
  /** The range list of a kind changed at all (the rejection reason of a refused IP lists it). */
  readonly rangeLists: Record<AddressKind, boolean>;
  /** Aggregates added or removed (coveringAggregate of an IP inside one may change). */
  readonly aggregates: readonly Cidr[];
  /** Named communities changed (Services' community annotations resolve through them). */
  readonly namedCommunities: boolean;
  /** prefixAdvertisements changed (communitiesFor of any prefix may change). */
  readonly prefixAdvertisements: boolean;
}

const ADDRESS_KINDS: readonly AddressKind[] = [RouteKind.CLUSTER_IP, RouteKind.EXTERNAL_IP, RouteKind.LOAD_BALANCER_IP];

/** Cidrs in exactly one of the two lists (by text, which is canonical). */
function symmetricDifference(a: readonly Cidr[], b: readonly Cidr[]): Cidr[] {
  const inA = new Set(a.map((c) => c.text));
  const inB = new Set(b.map((c) => c.text));
  return [...a.filter((c) => !inB.has(c.text)), ...b.filter((c) => !inA.has(c.text))];
}

function sameList<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean {
  return a.length === b.length && a.every((x, i) => same(x, b[i]));
}

const sameCommunity = (a: CommunityValue, b: CommunityValue): boolean => a.kind === b.kind && a.text === b.text;

function sameNamedCommunities(a: ReadonlyMap<string, CommunityValue> | undefined, b: ReadonlyMap<string, CommunityValue> | undefined): boolean {
  const x = a ?? new Map<string, CommunityValue>();
  const y = b ?? new Map<string, CommunityValue>();
  if (x.size !== y.size) return false;
  for (const [name, value] of x) {
    const other = y.get(name);
    if (!other || !sameCommunity(value, other)) return false;
  }
  return true;
}

/** Whether `ip` lies in any of `cidrs`. */
export function inAny(cidrs: readonly Cidr[], ip: IpAddress): boolean {
  for (const cidr of cidrs) if (contains(cidr, ip)) return true;
  return false;
}

export class ConfigView {
  readonly asNumber: number;
  readonly listenPort: number;
  readonly advertisePodCIDRs: boolean;
  readonly aggregation: boolean;
  /** Ranges that are advertised from every node, in configuration order. */
  readonly aggregates: readonly Aggregate[];
  private readonly aggregateCidrs: readonly Cidr[];
  private readonly ranges: Record<AddressKind, readonly Cidr[]>;
  private readonly communityCache = new Map<string, CommunitySet>();

  constructor(readonly config: BGPConfigurationValue | undefined) {
    this.asNumber = config?.asNumber ?? DEFAULT_AS_NUMBER;
    this.listenPort = config?.listenPort ?? 0;
    this.advertisePodCIDRs = config?.advertisePodCIDRs ?? false;
    this.aggregation = (config?.serviceLoadBalancerAggregation ?? "Enabled") === "Enabled";
    this.ranges = {
      [RouteKind.CLUSTER_IP]: config?.serviceClusterIPs ?? [],
      [RouteKind.EXTERNAL_IP]: config?.serviceExternalIPs ?? [],
      [RouteKind.LOAD_BALANCER_IP]: config?.serviceLoadBalancerIPs ?? [],
    };
    const aggregates: Aggregate[] = [];
    const addAll = (kind: AddressKind) => {
      // A single-address entry is not an aggregate: it is advertised as a
      // host route, and only while a Service backs it.
      for (const cidr of this.ranges[kind]) if (!isHostCidr(cidr)) aggregates.push({ cidr, kind: RANGE_KIND[kind] });
    };
    addAll(RouteKind.CLUSTER_IP);
    addAll(RouteKind.EXTERNAL_IP);
    if (this.aggregation) addAll(RouteKind.LOAD_BALANCER_IP);
    this.aggregates = aggregates;
    this.aggregateCidrs = aggregates.map((a) => a.cidr);
  }

  /** What differs from `previous` that can change a route, a decision or a rejection. */
  diff(previous: ConfigView): ConfigDiff {
    const ranges = {} as Record<AddressKind, readonly Cidr[]>;
    const rangeLists = {} as Record<AddressKind, boolean>;
    for (const kind of ADDRESS_KINDS) {
      ranges[kind] = symmetricDifference(previous.ranges[kind], this.ranges[kind]);
      rangeLists[kind] = !sameList(previous.ranges[kind], this.ranges[kind], (a, b) => a.text === b.text);
    }
    const before = previous.config?.prefixAdvertisements ?? [];
    const after = this.config?.prefixAdvertisements ?? [];
    return {
      nodeFields: previous.asNumber !== this.asNumber || previous.listenPort !== this.listenPort,
      advertisePodCIDRs: previous.advertisePodCIDRs !== this.advertisePodCIDRs,
      ranges,
      rangeLists,
      aggregates: symmetricDifference(previous.aggregateCidrs, this.aggregateCidrs),
      namedCommunities: !sameNamedCommunities(previous.config?.communities, this.config?.communities),
      prefixAdvertisements: !sameList(before, after, (a, b) => a.cidr.text === b.cidr.text && sameList(a.communities, b.communities, sameCommunity)),
    };
  }

  rangesFor(kind: AddressKind): readonly Cidr[] {
    return this.ranges[kind];
  }

  /** The most specific configured range of `kind` allowing `ip`. */
  allowedRange(kind: AddressKind, ip: IpAddress): Cidr | undefined {
    return mostSpecific(this.ranges[kind], ip);
  }

  /** The most specific advertised aggregate (of any kind) containing `ip`. */
  coveringAggregate(ip: IpAddress): Cidr | undefined {
    return mostSpecific(this.aggregateCidrs, ip);
  }

  /** Resolves a community name (from spec.communities) or literal. */
  resolveCommunity(reference: string): CommunityValue | undefined {
    return resolveCommunity(reference, this.config?.communities ?? new Map());
  }

  /** Communities from the most specific prefixAdvertisements entry covering `prefix`. */
  communitiesFor(prefix: string): CommunitySet {
    const advertisements = this.config?.prefixAdvertisements ?? [];
    // Nothing to look up (and nothing worth caching for every prefix).
    if (advertisements.length === 0) return NO_COMMUNITIES;
    const cached = this.communityCache.get(prefix);
    if (cached) return cached;
    let result = NO_COMMUNITIES;
    const cidr = parseCidr(prefix);
    let best: (typeof advertisements)[number] | undefined;
    for (const entry of advertisements) {
      if (cidr && cidrCovers(entry.cidr, cidr) && (!best || entry.cidr.length > best.cidr.length)) best = entry;
    }
    if (best) result = splitCommunities(best.communities);
    if (this.communityCache.size > 100_000) this.communityCache.clear();
    this.communityCache.set(prefix, result);
    return result;
  }
}
