/**
 * The few IP and CIDR operations the speaker needs: validation, canonical
 * text, family and containment. (libs/config has a fuller version that is
 * not exported yet; this one is small on purpose.)
 */
import { isIPv4, isIPv6 } from "node:net";

export type IpFamily = 4 | 6;

export interface ParsedIp {
  family: IpFamily;
  value: bigint;
  /** Canonical text (RFC 5952 for IPv6). */
  text: string;
}

export interface ParsedCidr {
  family: IpFamily;
  length: number;
  first: bigint;
  last: bigint;
  text: string;
}

function v4Value(text: string): bigint {
  return text.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function v6Value(text: string): bigint {
  let address = text;
  // An embedded IPv4 tail ("::ffff:192.0.2.1") becomes two hex groups.
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (v4Tail) {
    const v = v4Value(v4Tail[1]);
    address = `${address.slice(0, v4Tail.index)}${(v >> 16n).toString(16)}:${(v & 0xffffn).toString(16)}`;
  }
  const [head, tail] = address.split("::");
  const groups = (part: string | undefined) => (part ? part.split(":") : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function formatIp(family: IpFamily, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join(".");
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
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

/** Parses a bare IPv4 or IPv6 address (no zone, no length, no leading-zero octets). */
export function parseIp(text: string): ParsedIp | undefined {
  if (isIPv4(text)) {
    if (text.split(".").some((o) => o.length > 1 && o.startsWith("0"))) return undefined;
    const value = v4Value(text);
    return { family: 4, value, text: formatIp(4, value) };
  }
  if (isIPv6(text) && !text.includes("%")) {
    const value = v6Value(text);
    return { family: 6, value, text: formatIp(6, value) };
  }
  return undefined;
}

export function ipFamily(text: string): IpFamily | undefined {
  return parseIp(text)?.family;
}

export type CidrResult = { ok: true; cidr: ParsedCidr } | { ok: false; reason: string };

/** Parses "address/length"; host bits must be zero. */
export function parseCidr(text: string): CidrResult {
  const slash = text.indexOf("/");
  if (slash < 0) return { ok: false, reason: "not a CIDR (expected address/length, e.g. 10.49.0.0/16)" };
  const ip = parseIp(text.slice(0, slash));
  if (!ip) return { ok: false, reason: `"${text.slice(0, slash)}" is not an IP address` };
  const bits = ip.family === 4 ? 32 : 128;
  const lengthText = text.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(lengthText) || Number(lengthText) > bits) return { ok: false, reason: `prefix length must be 0..${bits}` };
  const length = Number(lengthText);
  const hostMask = (1n << BigInt(bits - length)) - 1n;
  const first = ip.value & ~hostMask;
  const canonical = `${formatIp(ip.family, first)}/${length}`;
  if ((ip.value & hostMask) !== 0n) return { ok: false, reason: `host bits are set (did you mean ${canonical}?)` };
  return { ok: true, cidr: { family: ip.family, length, first, last: first | hostMask, text: canonical } };
}

/** True when `inner` lies inside `outer` (a prefix covers itself). */
export function cidrCovers(outer: ParsedCidr, inner: ParsedCidr): boolean {
  return outer.family === inner.family && outer.length <= inner.length && inner.first >= outer.first && inner.last <= outer.last;
}

/** Orders prefixes by family, network address, then length. */
export function comparePrefixText(a: string, b: string): number {
  const pa = parseCidr(a);
  const pb = parseCidr(b);
  if (!pa.ok || !pb.ok) return a < b ? -1 : a > b ? 1 : 0;
  const x = pa.cidr;
  const y = pb.cidr;
  if (x.family !== y.family) return x.family - y.family;
  if (x.first !== y.first) return x.first < y.first ? -1 : 1;
  return x.length - y.length;
}
