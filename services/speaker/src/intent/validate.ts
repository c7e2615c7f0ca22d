/**
 * Intent validation. Every issue names the field (proto3 JSON path, e.g.
 * "peers[1].holdTime") and the reason, so an operator can fix an intent file
 * from the log line alone.
 */
import type { IntentDelta, NodeIntent, Peer, Route } from "@svcbgp/api";
import { parseCidrStrict, parseIp as parseIpLenient } from "@svcbgp/config";
import { peerKey } from "./keys.js";

export interface IntentIssue {
  /** JSON path of the offending field. */
  field: string;
  reason: string;
  /** Which item it belongs to, so a stream can drop just that item. */
  item: { kind: "node" } | { kind: "route"; index: number } | { kind: "peer"; index: number };
}

/** An intent's addresses must be exact: libs/config's parseIp also accepts surrounding white space. */
function parseIp(text: string) {
  return text.trim() === text ? parseIpLenient(text) : undefined;
}

/** Why a route prefix is unusable, or undefined. */
function prefixProblem(prefix: string, parsed: ReturnType<typeof parseCidrStrict>): string | undefined {
  if (!parsed.ok) return parsed.suggestion ? `"${prefix}": host bits are set (did you mean ${parsed.suggestion}?)` : parsed.reason;
  if (parsed.cidr.text !== prefix) return `"${prefix}" is not canonical (write ${parsed.cidr.text})`;
  return undefined;
}

export function formatIssues(issues: IntentIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.reason}`).join("; ");
}

const WELL_KNOWN_COMMUNITIES = new Set(["no-export", "no-advertise", "no-export-subconfed", "no-peer", "blackhole", "graceful-shutdown"]);
const U16 = 0xffff;
const U32 = 0xffffffff;

function isUint(text: string, max: number): boolean {
  return /^(0|[1-9]\d*)$/.test(text) && Number(text) <= max;
}

function communityProblem(text: string): string | undefined {
  if (WELL_KNOWN_COMMUNITIES.has(text)) return undefined;
  const parts = text.split(":");
  if (parts.length === 2 && parts.every((p) => isUint(p, U16))) return undefined;
  return `"${text}" is not a community (asn:value with 16-bit numbers, or ${[...WELL_KNOWN_COMMUNITIES].join(", ")})`;
}

function largeCommunityProblem(text: string): string | undefined {
  const parts = text.split(":");
  if (parts.length === 3 && parts.every((p) => isUint(p, U32))) return undefined;
  return `"${text}" is not a large community (global:local1:local2, 32-bit numbers)`;
}

export function validateRoute(route: Route, index: number, path = "routes"): IntentIssue[] {
  const issues: IntentIssue[] = [];
  const item = { kind: "route" as const, index };
  const at = `${path}[${index}]`;
  const parsed = parseCidrStrict(route.prefix);
  const problem = route.prefix ? prefixProblem(route.prefix, parsed) : "is required";
  if (problem) issues.push({ field: `${at}.prefix`, reason: problem, item });
  if (route.nextHop) {
    const nextHop = parseIp(route.nextHop);
    if (!nextHop) issues.push({ field: `${at}.nextHop`, reason: `"${route.nextHop}" is not an IP address`, item });
    else if (parsed.ok && nextHop.family !== parsed.cidr.family && nextHop.family === 4) {
      issues.push({ field: `${at}.nextHop`, reason: `IPv4 next hop ${route.nextHop} for IPv6 prefix ${route.prefix}`, item });
    }
  }
  route.communities.forEach((c, i) => {
    const problem = communityProblem(c);
    if (problem) issues.push({ field: `${at}.communities[${i}]`, reason: problem, item });
  });
  route.largeCommunities.forEach((c, i) => {
    const problem = largeCommunityProblem(c);
    if (problem) issues.push({ field: `${at}.largeCommunities[${i}]`, reason: problem, item });
  });
  return issues;
}

export function validatePeer(peer: Peer, index: number, nodeLocalAsn: number, path = "peers"): IntentIssue[] {
  const issues: IntentIssue[] = [];
  const item = { kind: "peer" as const, index };
  const at = `${path}[${index}]`;
  const address = parseIp(peer.address);
  if (!peer.address) issues.push({ field: `${at}.address`, reason: "is required", item });
  else if (!address) issues.push({ field: `${at}.address`, reason: `"${peer.address}" is not an IP address (write the port in the port field)`, item });
  if (peer.port > 65535) issues.push({ field: `${at}.port`, reason: `${peer.port} is not a TCP port`, item });
  if (peer.asn === 0) issues.push({ field: `${at}.asn`, reason: "is required (the peer's AS number)", item });
  if (peer.localAsn === 0 && nodeLocalAsn === 0) issues.push({ field: `${at}.localAsn`, reason: "neither the peer nor the intent (localAsn) sets a local AS number", item });
  if (peer.holdTime === 1 || peer.holdTime === 2) issues.push({ field: `${at}.holdTime`, reason: `${peer.holdTime} s is invalid (RFC 4271: 0 or at least 3)`, item });
  else if (peer.holdTime > 65535) issues.push({ field: `${at}.holdTime`, reason: `${peer.holdTime} s is more than 65535`, item });
  const holdTime = peer.holdTime || 90;
  if (peer.keepalive > 0 && peer.keepalive >= holdTime) {
    issues.push({ field: `${at}.keepalive`, reason: `${peer.keepalive} s is not less than the hold time (${holdTime} s)`, item });
  }
  if (peer.sourceAddress) {
    const source = parseIp(peer.sourceAddress);
    if (!source) issues.push({ field: `${at}.sourceAddress`, reason: `"${peer.sourceAddress}" is not an IP address`, item });
    else if (address && source.family !== address.family) {
      issues.push({ field: `${at}.sourceAddress`, reason: `${peer.sourceAddress} is not of the same family as the peer ${peer.address}`, item });
    }
  }
  if (peer.ttlSecurity > 255) issues.push({ field: `${at}.ttlSecurity`, reason: `${peer.ttlSecurity} hops is more than 255`, item });
  return issues;
}

export interface ValidateOptions {
  /** When set, an intent for another node is rejected. */
  nodeName?: string;
}

/** All problems of a complete intent; an empty list means it can be applied as is. */
export function validateIntent(intent: NodeIntent, options: ValidateOptions = {}): IntentIssue[] {
  const issues: IntentIssue[] = [];
  const node = { kind: "node" as const };
  if (options.nodeName && intent.nodeName && intent.nodeName !== options.nodeName) {
    issues.push({ field: "nodeName", reason: `the intent is for node "${intent.nodeName}", this speaker is "${options.nodeName}"`, item: node });
  }
  if (intent.routerId) {
    const routerId = parseIp(intent.routerId);
    if (!routerId || routerId.family !== 4) issues.push({ field: "routerId", reason: `"${intent.routerId}" is not a dotted-quad BGP identifier`, item: node });
  } else if (intent.peers.length > 0) {
    issues.push({ field: "routerId", reason: "is required when there are peers (a dotted-quad BGP identifier, usually the node's IPv4 address)", item: node });
  }
  if (intent.listenPort > 65535) issues.push({ field: "listenPort", reason: `${intent.listenPort} is not a TCP port`, item: node });

  const prefixes = new Map<string, number>();
  intent.routes.forEach((route, i) => {
    issues.push(...validateRoute(route, i));
    const first = prefixes.get(route.prefix);
    if (first !== undefined) issues.push({ field: `routes[${i}].prefix`, reason: `duplicate prefix ${route.prefix} (also routes[${first}])`, item: { kind: "route", index: i } });
    else prefixes.set(route.prefix, i);
  });
  const peers = new Map<string, number>();
  intent.peers.forEach((peer, i) => {
    issues.push(...validatePeer(peer, i, intent.localAsn));
    const key = peerKey(peer);
    const first = peers.get(key);
    if (first !== undefined) issues.push({ field: `peers[${i}]`, reason: `duplicate peer ${key} (also peers[${first}])`, item: { kind: "peer", index: i } });
    else peers.set(key, i);
  });
  return issues;
}

/** Problems of a delta's items (paths relative to the delta). */
export function validateDelta(delta: IntentDelta, nodeLocalAsn: number): IntentIssue[] {
  return [
    ...delta.upsertedRoutes.flatMap((r, i) => validateRoute(r, i, "upsertedRoutes")),
    ...delta.upsertedPeers.flatMap((p, i) => validatePeer(p, i, nodeLocalAsn, "upsertedPeers")),
  ];
}

/** True when an issue makes the whole intent unusable (not just one route or peer). */
export function hasNodeIssue(issues: IntentIssue[]): boolean {
  return issues.some((i) => i.item.kind === "node");
}

/** Drops the routes and peers that have issues, keeping the rest (indexes as in the issues). */
export function dropInvalidItems(routes: Route[], peers: Peer[], issues: IntentIssue[]): { routes: Route[]; peers: Peer[] } {
  const badRoutes = new Set(issues.flatMap((i) => (i.item.kind === "route" ? [i.item.index] : [])));
  const badPeers = new Set(issues.flatMap((i) => (i.item.kind === "peer" ? [i.item.index] : [])));
  return { routes: routes.filter((_, i) => !badRoutes.has(i)), peers: peers.filter((_, i) => !badPeers.has(i)) };
}
