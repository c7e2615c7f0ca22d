/**
 * Export policy: turns an intent route (what the watcher wants advertised)
 * into the path attributes sent to one peer, given facts about the session.
 *
 * - ORIGIN IGP: these routes originate here.
 * - AS_PATH empty on iBGP; on eBGP one AS_SEQUENCE with our AS (RFC 4271
 *   §5.1.2). Kept in 4-octet form; the codec applies AS_TRANS/AS4_PATH for a
 *   2-octet peer, so `fourOctetAs` changes nothing here.
 * - Next hop self (the route's explicit next hop wins): IPv4 in NEXT_HOP,
 *   IPv6 in MP_REACH next hops (global, plus link-local when known).
 * - LOCAL_PREF only on iBGP (RFC 4271 §5.1.5), 100 unless the route says.
 * - Communities and large communities parsed, de-duplicated and sorted, so
 *   equal intent produces equal (interned) attribute sets.
 */
import type { PathAttributes } from "../codec/types.js";
import type { RibOutRoute } from "./adj-rib-out.js";
import { Ipv4Table } from "./ipv4-table.js";
import { keyAfi, keyToPrefix, parseIpv4, parseIpv6, prefixToKey, type PrefixKey } from "./prefix.js";

export const DEFAULT_LOCAL_PREF = 100;
const ORIGIN_IGP = 0;
const AS_SEQUENCE = 2;
const UINT16_MAX = 0xffff;
const UINT32_MAX = 0xffffffff;

/** Well-known communities (IANA registry; RFC 1997, 3765, 7999, 8326, 7611). */
export const WELL_KNOWN_COMMUNITIES: Readonly<Record<string, number>> = {
  "graceful-shutdown": 0xffff0000,
  "accept-own": 0xffff0001,
  blackhole: 0xffff029a,
  "no-export": 0xffffff01,
  "no-advertise": 0xffffff02,
  "no-export-subconfed": 0xffffff03,
  "no-peer": 0xffffff04,
};

export interface IntentRoute {
  /** CIDR; canonicalised. */
  prefix: string;
  /** Explicit next hop; default: our address of the prefix's family. */
  nextHop?: string;
  /** "65000:100" or a well-known name ("no-export"). */
  communities?: readonly string[];
  /** "global:local1:local2". */
  largeCommunities?: readonly string[];
  /** iBGP only; default 100. */
  localPref?: number;
  med?: number;
}

export interface SessionFacts {
  ibgp: boolean;
  localAsn: number;
  /** Our addresses on this session, for next-hop self. */
  localAddress: { ipv4?: string; ipv6?: string; ipv6LinkLocal?: string };
  fourOctetAs: boolean;
}

export type PolicyResult = { ok: true; attributes: PathAttributes } | { ok: false; error: string };

function decimal(text: string, max: number): number | undefined {
  if (!/^[0-9]{1,10}$/.test(text)) return undefined;
  const value = Number(text);
  return value <= max ? value : undefined;
}

/** "65000:100" → 0xFDE80064; a well-known name → its value; anything else → undefined. */
export function parseCommunity(text: string): number | undefined {
  const trimmed = text.trim();
  const known = WELL_KNOWN_COMMUNITIES[trimmed.toLowerCase()];
  if (known !== undefined) return known;
  const parts = trimmed.split(":");
  if (parts.length !== 2) return undefined;
  const high = decimal(parts[0], UINT16_MAX);
  const low = decimal(parts[1], UINT16_MAX);
  return high === undefined || low === undefined ? undefined : high * 0x10000 + low;
}

export function formatCommunity(value: number): string {
  for (const [name, known] of Object.entries(WELL_KNOWN_COMMUNITIES)) if (known === value) return name;
  return `${Math.floor(value / 0x10000)}:${value & 0xffff}`;
}

/** "a:b:c" with 32-bit parts → [a, b, c]; anything else → undefined. */
export function parseLargeCommunity(text: string): [number, number, number] | undefined {
  const parts = text.trim().split(":");
  if (parts.length !== 3) return undefined;
  const values = parts.map((p) => decimal(p, UINT32_MAX));
  return values.every((v) => v !== undefined) ? (values as [number, number, number]) : undefined;
}

function sameLarge(a: [number, number, number], b: [number, number, number]): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}

export function buildAttributes(route: IntentRoute, facts: SessionFacts): PolicyResult {
  const key = prefixToKey(route.prefix);
  if (key === undefined) return { ok: false, error: `invalid prefix ${JSON.stringify(route.prefix)}` };
  const afi = keyAfi(key);
  const attributes: PathAttributes = {
    origin: ORIGIN_IGP,
    asPath: facts.ibgp ? [] : [{ type: AS_SEQUENCE, asns: [facts.localAsn] }],
  };

  if (afi === 1) {
    const nextHop = route.nextHop ?? facts.localAddress.ipv4;
    if (nextHop === undefined) return { ok: false, error: `no IPv4 next hop for ${route.prefix}: the session has no local IPv4 address` };
    if (parseIpv4(nextHop) === undefined) return { ok: false, error: `next hop ${nextHop} is not an IPv4 address (${route.prefix})` };
    attributes.nextHop = nextHop;
  } else {
    const global = route.nextHop ?? facts.localAddress.ipv6;
    if (global === undefined) return { ok: false, error: `no IPv6 next hop for ${route.prefix}: the session has no local IPv6 address` };
    if (parseIpv6(global) === undefined) return { ok: false, error: `next hop ${global} is not an IPv6 address (${route.prefix})` };
    // The link-local next hop is ours; it only goes with our own global address.
    const linkLocal = route.nextHop === undefined ? facts.localAddress.ipv6LinkLocal : undefined;
    attributes.mpReach = { afi: 2, safi: 1, nextHops: linkLocal ? [global, linkLocal] : [global], nlri: [] };
  }

  if (route.med !== undefined) attributes.med = route.med;
  if (facts.ibgp) attributes.localPref = route.localPref ?? DEFAULT_LOCAL_PREF;

  if (route.communities && route.communities.length > 0) {
    const values = new Set<number>();
    for (const text of route.communities) {
      const value = parseCommunity(text);
      if (value === undefined) return { ok: false, error: `invalid community ${JSON.stringify(text)} (${route.prefix})` };
      values.add(value);
    }
    attributes.communities = [...values].sort((a, b) => a - b);
  }

  if (route.largeCommunities && route.largeCommunities.length > 0) {
    const values: Array<[number, number, number]> = [];
    for (const text of route.largeCommunities) {
      const value = parseLargeCommunity(text);
      if (value === undefined) return { ok: false, error: `invalid large community ${JSON.stringify(text)} (${route.prefix})` };
      if (!values.some((v) => sameLarge(v, value))) values.push(value);
    }
    attributes.largeCommunities = values.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  }

  return { ok: true, attributes };
}

export interface DesiredTable {
  /** Canonical prefix → route, ready for AdjRibOut.setDesired. */
  routes: Map<string, RibOutRoute>;
  /** Routes that could not be exported, and why (the rest are unaffected). */
  errors: Array<{ prefix: string; error: string }>;
}

/**
 * Everything buildAttributes reads from a route except its prefix (whose
 * family stands in for it): routes with equal signatures get equal
 * attributes. Exact (JSON) where the fields are free text, so an invalid
 * community can never share a valid route's signature.
 */
function routeSignature(route: IntentRoute, afi: number): string {
  if (route.nextHop === undefined && route.localPref === undefined && route.med === undefined && !route.communities?.length && !route.largeCommunities?.length) return afi === 1 ? "4" : "6";
  // The numbers first and the next hop last: no field can bleed into another.
  const head = `${afi}|${route.localPref}|${route.med}|`;
  if (!route.communities?.length && !route.largeCommunities?.length) return `${head}|${route.nextHop}`;
  return `${head}${JSON.stringify([route.communities ?? [], route.largeCommunities ?? []])}|${route.nextHop}`;
}

/** Routes keyed, with their attributes, in input order per family: what the Adj-RIB-Out's keyed methods take. */
export interface KeyedRoutes {
  readonly ipv4: readonly number[];
  readonly ipv4Attributes: readonly PathAttributes[];
  readonly ipv6: readonly string[];
  readonly ipv6Attributes: readonly PathAttributes[];
}

/** Routes of one intent, keyed, without duplicates (the first of a repeated prefix is kept). */
export class KeyedDesired implements KeyedRoutes {
  readonly ipv4: number[] = [];
  readonly ipv4Attributes: PathAttributes[] = [];
  readonly ipv6: string[] = [];
  readonly ipv6Attributes: PathAttributes[] = [];
  readonly errors: Array<{ prefix: string; error: string }> = [];
  /** Accepted IPv4 prefixes (value unused) and IPv6 keys, for duplicate detection and `has`. */
  private readonly seen4 = new Ipv4Table();
  private readonly seen6 = new Set<string>();

  /** `expected`: how many routes are coming, so the duplicate table is sized once. */
  constructor(expected = 0) {
    this.seen4.reserve(expected);
  }

  get size(): number {
    return this.ipv4.length + this.ipv6.length;
  }

  has(key: PrefixKey): boolean {
    if (typeof key === "string") return this.seen6.has(key);
    const length = key % 64;
    return this.seen4.get((key - length) / 64, length) !== undefined;
  }

  /** Adds a route unless its key is already here; false for a duplicate. */
  add(key: PrefixKey, attributes: PathAttributes): boolean {
    if (typeof key === "string") {
      if (this.seen6.has(key)) return false;
      this.seen6.add(key);
      this.ipv6.push(key);
      this.ipv6Attributes.push(attributes);
      return true;
    }
    const length = key % 64;
    if (this.seen4.set((key - length) / 64, length, 1) !== undefined) return false;
    this.ipv4.push(key);
    this.ipv4Attributes.push(attributes);
    return true;
  }

}

/**
 * buildDesired's work, each prefix parsed once: `accept` gets the canonical
 * key and the (shared) attributes of every exportable, non-duplicate route.
 */
function buildEach(routes: Iterable<IntentRoute>, facts: SessionFacts, errors: Array<{ prefix: string; error: string }>, accept: (key: PrefixKey, attributes: PathAttributes) => boolean): void {
  const built = new Map<string, PathAttributes>();
  for (const route of routes) {
    const key = prefixToKey(route.prefix);
    if (key === undefined) {
      errors.push({ prefix: route.prefix, error: `invalid prefix ${JSON.stringify(route.prefix)}` });
      continue;
    }
    const signature = routeSignature(route, keyAfi(key));
    let attributes = built.get(signature);
    if (attributes === undefined) {
      const result = buildAttributes(route, facts);
      if (!result.ok) {
        errors.push({ prefix: route.prefix, error: result.error });
        continue;
      }
      attributes = result.attributes;
      built.set(signature, attributes);
    }
    if (!accept(key, attributes)) errors.push({ prefix: route.prefix, error: `duplicate route for ${keyToPrefix(key)}` });
  }
}

/**
 * Applies buildAttributes to a whole intent; a prefix given twice keeps its
 * first route. Routes that differ only in their prefix share one attribute
 * object (built once), which is what the Adj-RIB-Out interns anyway.
 */
export function buildDesired(routes: Iterable<IntentRoute>, facts: SessionFacts): DesiredTable {
  const out: DesiredTable = { routes: new Map(), errors: [] };
  buildEach(routes, facts, out.errors, (key, attributes) => {
    const prefix = keyToPrefix(key);
    if (out.routes.has(prefix)) return false;
    out.routes.set(prefix, { attributes });
    return true;
  });
  return out;
}

/**
 * A batch of routes for AdjRibOut.changeKeys, without the duplicate check:
 * the Adj-RIB-Out keeps the last route of a repeated prefix, as the
 * session's wanted set does. What the session sends, slice by slice.
 */
export function buildKeyedBatch(routes: Iterable<IntentRoute>, facts: SessionFacts): KeyedRoutes & { errors: Array<{ prefix: string; error: string }> } {
  const out = { ipv4: [] as number[], ipv4Attributes: [] as PathAttributes[], ipv6: [] as string[], ipv6Attributes: [] as PathAttributes[], errors: [] as Array<{ prefix: string; error: string }> };
  buildEach(routes, facts, out.errors, (key, attributes) => {
    if (typeof key === "number") {
      out.ipv4.push(key);
      out.ipv4Attributes.push(attributes);
    } else {
      out.ipv6.push(key);
      out.ipv6Attributes.push(attributes);
    }
    return true;
  });
  return out;
}

/** buildDesired without prefix strings: keys for AdjRibOut's keyed methods. */
export function buildDesiredKeyed(routes: Iterable<IntentRoute>, facts: SessionFacts): KeyedDesired {
  const out = new KeyedDesired(Array.isArray(routes) ? routes.length : 0);
  buildEach(routes, facts, out.errors, (key, attributes) => out.add(key, attributes));
  return out;
}
