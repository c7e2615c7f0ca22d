/**
 * IP address and CIDR utilities: the one place svcbgp parses, canonicalises
 * and compares prefixes. Addresses are held as bigint so containment is two
 * comparisons; parsed values are memoised because the route engine asks about
 * the same few thousand service IPs over and over.
 */
import { Address6 } from "ip-address";

export type IpFamily = 4 | 6;

/** A parsed IP address. `text` is canonical (RFC 5952 for IPv6). */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
  readonly text: string;
}

/** A parsed CIDR with host bits zero. `text` is canonical, e.g. "10.49.0.0/16". */
export interface Cidr {
  readonly family: IpFamily;
  readonly length: number;
  /** First address of the range (the network address). */
  readonly first: bigint;
  /** Last address of the range. */
  readonly last: bigint;
  readonly text: string;
}

export type CidrParseResult =
  | { ok: true; cidr: Cidr }
  | { ok: false; reason: string; /** Set when only host bits were wrong. */ suggestion?: string };

export function familyBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

// Bounded memo: service IPs repeat, but a long-running watcher must not grow
// without limit on churning input.
const MEMO_LIMIT = 200_000;
const ipMemo = new Map<string, IpAddress | null>();
const cidrMemo = new Map<string, CidrParseResult>();

function remember<V>(memo: Map<string, V>, key: string, value: V): V {
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, value);
  return value;
}

const V4_OCTET = /^(0|[1-9][0-9]{0,2})$/;

function parseV4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    // Leading zeros are rejected, as Go's net.ParseIP (and so Kubernetes) does:
    // "010" is octal to some parsers and decimal to others.
    if (!V4_OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return BigInt(value);
}

function parseV6(text: string): bigint | undefined {
  // Address6 also accepts "/len" and "%zone"; a bare address has neither.
  if (text.includes("/") || text.includes("%") || !text.includes(":")) return undefined;
  if (!Address6.isValid(text)) return undefined;
  return new Address6(text).bigInt();
}

export function formatIp(family: IpFamily, value: bigint): string {
  if (family === 4) {
    const n = Number(value);
    return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  // RFC 5952: compress the longest run (length >= 2) of zero groups, the first on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/** Parses an IPv4 or IPv6 address (no prefix length, no zone). */
export function parseIp(text: string): IpAddress | undefined {
  const cached = ipMemo.get(text);
  if (cached !== undefined) return cached ?? undefined;
  const trimmed = text.trim();
  let parsed: IpAddress | null = null;
  const v4 = parseV4(trimmed);
  // A dotted quad parseV4 accepts (no leading zeros) is already canonical: formatIp(4, v4) would give it back.
  if (v4 !== undefined) parsed = { family: 4, value: v4, text: trimmed };
  else {
    const v6 = parseV6(trimmed);
    if (v6 !== undefined) parsed = { family: 6, value: v6, text: formatIp(6, v6) };
  }
  return remember(ipMemo, text, parsed) ?? undefined;
}

export function isIp(text: string): boolean {
  return parseIp(text) !== undefined;
}

/** The canonical text of an IP, or undefined when it is not one. */
export function canonicalIp(text: string): string | undefined {
  return parseIp(text)?.text;
}

export function ipFamily(text: string): IpFamily | undefined {
  return parseIp(text)?.family;
}

function hostMask(family: IpFamily, length: number): bigint {
  return (1n << BigInt(familyBits(family) - length)) - 1n;
}

function makeCidr(family: IpFamily, first: bigint, length: number): Cidr {
  return { family, length, first, last: first | hostMask(family, length), text: `${formatIp(family, first)}/${length}` };
}

/**
 * Parses "addr/len". Host bits must be zero: a range written with host bits
 * set is almost always a typo, so it is reported with the likely intent.
 */
export function parseCidrStrict(text: string): CidrParseResult {
  const cached = cidrMemo.get(text);
  if (cached) return cached;
  return remember(cidrMemo, text, parseCidrUncached(text));
}

function parseCidrUncached(text: string): CidrParseResult {
  const slash = text.indexOf("/");
  if (slash < 0) return { ok: false, reason: `"${text}" is not a CIDR (expected address/length, e.g. 10.49.0.0/16)` };
  const address = parseIp(text.slice(0, slash));
  if (!address) return { ok: false, reason: `"${text}" is not a CIDR: "${text.slice(0, slash)}" is not an IP address` };
  const lengthText = text.slice(slash + 1);
  const bits = familyBits(address.family);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lengthText) || Number(lengthText) > bits) {
    return { ok: false, reason: `"${text}" is not a CIDR: prefix length must be 0..${bits}` };
  }
  const length = Number(lengthText);
  const mask = hostMask(address.family, length);
  const first = address.value & ~mask;
  const cidr = makeCidr(address.family, first, length);
  if ((address.value & mask) !== 0n) {
    return { ok: false, reason: `"${text}" has host bits set; did you mean ${cidr.text}?`, suggestion: cidr.text };
  }
  return { ok: true, cidr };
}

/** Parses a CIDR, or undefined when invalid (including host bits set). */
export function parseCidr(text: string): Cidr | undefined {
  const result = parseCidrStrict(text);
  return result.ok ? result.cidr : undefined;
}

/** Parses a CIDR and clears host bits (lenient, for data such as node pod CIDRs). */
export function parseCidrLoose(text: string): Cidr | undefined {
  const result = parseCidrStrict(text);
  if (result.ok) return result.cidr;
  return result.suggestion ? parseCidr(result.suggestion) : undefined;
}

export function canonicalCidr(text: string): string | undefined {
  return parseCidr(text)?.text;
}

/** The /32 or /128 prefix of one address. */
export function hostCidr(ip: IpAddress): Cidr {
  return makeCidr(ip.family, ip.value, familyBits(ip.family));
}

/** "192.0.2.1" → "192.0.2.1/32", "fd00::1" → "fd00::1/128"; undefined if not an IP. */
export function hostPrefix(ip: string | IpAddress): string | undefined {
  const parsed = typeof ip === "string" ? parseIp(ip) : ip;
  return parsed ? `${parsed.text}/${familyBits(parsed.family)}` : undefined;
}

/** True when the CIDR is a single address (/32 or /128). */
export function isHostCidr(cidr: Cidr): boolean {
  return cidr.length === familyBits(cidr.family);
}

function asCidr(value: string | Cidr): Cidr | undefined {
  return typeof value === "string" ? parseCidr(value) : value;
}

function asIp(value: string | IpAddress): IpAddress | undefined {
  return typeof value === "string" ? parseIp(value) : value;
}

/** True when `ip` is inside `cidr` (same family). Invalid input is never contained. */
export function cidrContains(cidr: string | Cidr, ip: string | IpAddress): boolean {
  const c = asCidr(cidr);
  const a = asIp(ip);
  return !!c && !!a && c.family === a.family && a.value >= c.first && a.value <= c.last;
}

/** True when `inner` lies entirely inside `outer` (a CIDR contains itself). */
export function cidrCovers(outer: string | Cidr, inner: string | Cidr): boolean {
  const o = asCidr(outer);
  const i = asCidr(inner);
  return !!o && !!i && o.family === i.family && o.length <= i.length && i.first >= o.first && i.last <= o.last;
}

/** Orders CIDRs by family, then network address, then prefix length. */
export function compareCidr(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.first !== b.first) return a.first < b.first ? -1 : 1;
  return a.length - b.length;
}

/**
 * Orders prefix texts as compareCidr does (IPv4 first, then network address,
 * then length), for sorting route lists. Text that is not a CIDR sorts after
 * every CIDR, by its text, so the order stays total.
 */
export function comparePrefixText(a: string, b: string): number {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (x && y) return compareCidr(x, y);
  if (x || y) return x ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
