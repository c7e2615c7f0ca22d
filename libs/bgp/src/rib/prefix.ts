/**
 * Compact prefix keys for the RIBs. An IPv4 prefix is one number,
 * `address * 64 + length` (< 2^38, exact in a double), so a million of them
 * need no strings and sort numerically in address order. An IPv6 prefix is a
 * fixed-width string, 32 hex digits + "/" + 3-digit length, which sorts
 * lexicographically in address order. Both are canonical: host bits are
 * cleared, so "10.1.2.3/8" and "10.0.0.0/8" share a key.
 */

export type PrefixKey = number | string;

const IPV4_KEY_FACTOR = 64;
const IPV6_GROUPS = 8;

/**
 * Parses a dotted quad into an unsigned 32-bit number, or undefined: four
 * parts of 1-3 decimal digits, each ≤ 255. One pass over the characters, no
 * split or regex (it runs once per route on the RIBs' hot paths).
 */
export function parseIpv4(text: string): number | undefined {
  const n = text.length;
  if (n < 7 || n > 15) return undefined;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return undefined;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + octet;
}

export function formatIpv4(value: number): string {
  return `${Math.floor(value / 0x1000000) & 0xff}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** Parses an IPv6 address (with "::" and an optional trailing dotted quad) into 8 groups, or undefined. */
export function parseIpv6(text: string): number[] | undefined {
  if (text.length === 0 || text.length > 45 || text.includes("%")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string, allowV4: boolean): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (allowV4 && i === items.length - 1 && item.includes(".")) {
        const v4 = parseIpv4(item);
        if (v4 === undefined) return undefined;
        out.push(Math.floor(v4 / 0x10000), v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return undefined;
        out.push(parseInt(item, 16));
      }
    }
    return out;
  };
  if (halves.length === 1) {
    const groups = parseGroups(halves[0], true);
    return groups && groups.length === IPV6_GROUPS ? groups : undefined;
  }
  const head = parseGroups(halves[0], false);
  const tail = parseGroups(halves[1], true);
  if (!head || !tail || head.length + tail.length > IPV6_GROUPS - 1) return undefined;
  return [...head, ...new Array<number>(IPV6_GROUPS - head.length - tail.length).fill(0), ...tail];
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as "::". */
export function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < IPV6_GROUPS; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < IPV6_GROUPS && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(0, IPV6_GROUPS);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, IPV6_GROUPS)}`;
}

function maskIpv4(address: number, length: number): number {
  if (length === 0) return 0;
  const hostBits = 32 - length;
  return Math.floor(address / 2 ** hostBits) * 2 ** hostBits;
}

function maskIpv6(groups: number[], length: number): number[] {
  return groups.map((g, i) => {
    const bits = Math.min(16, Math.max(0, length - i * 16));
    return bits === 16 ? g : bits === 0 ? 0 : g & ((0xffff << (16 - bits)) & 0xffff);
  });
}

function splitPrefix(text: string): [string, number | undefined] | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return [text, undefined];
  const digits = text.length - slash - 1;
  if (digits < 1 || digits > 3) return undefined;
  let length = 0;
  for (let i = slash + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    length = length * 10 + (c - 48);
  }
  return [text.slice(0, slash), length];
}

/** An IPv4 key from parts; the address must already be masked. */
export function ipv4Key(address: number, length: number): number {
  return address * IPV4_KEY_FACTOR + length;
}

/**
 * The key of a clean "a.b.c.d/len" (the form intents use), in one pass with
 * no allocation; -1 for anything else, which prefixToKey's general path then
 * parses (or rejects) as before.
 */
function ipv4PrefixKey(text: string): number {
  const n = text.length;
  if (n < 9 || n > 18) return -1;
  let address = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits > 3) return -1;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
    } else if (c === 46 /* . */ && dots < 3 && digits > 0) {
      address = address * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c === 47 /* / */ && dots === 3 && digits > 0) {
      break;
    } else {
      return -1;
    }
  }
  if (i === n) return -1;
  address = address * 256 + octet;
  let length = 0;
  const lengthDigits = n - i - 1;
  if (lengthDigits < 1 || lengthDigits > 2) return -1;
  for (i++; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    length = length * 10 + (c - 48);
  }
  if (length > 32) return -1;
  return ipv4Key(maskIpv4(address, length), length);
}

/**
 * The canonical key of a CIDR prefix ("10.0.0.0/8", "2001:db8::/32"; a bare
 * address is a host route), or undefined if it is not one.
 */
export function prefixToKey(text: string): PrefixKey | undefined {
  const fast = ipv4PrefixKey(text);
  if (fast >= 0) return fast;
  // Only trim when the ends might be whitespace (the common case is a clean prefix).
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  const clean = first > 32 && first < 127 && last > 32 && last < 127;
  const split = splitPrefix(clean ? text : text.trim());
  if (!split) return undefined;
  const [address, length] = split;
  const v4 = parseIpv4(address);
  if (v4 !== undefined) {
    const len = length ?? 32;
    return len > 32 ? undefined : ipv4Key(maskIpv4(v4, len), len);
  }
  const v6 = parseIpv6(address);
  if (v6 === undefined) return undefined;
  const len = length ?? 128;
  if (len > 128) return undefined;
  return maskIpv6(v6, len).map((g) => g.toString(16).padStart(4, "0")).join("") + "/" + String(len).padStart(3, "0");
}

export function keyToPrefix(key: PrefixKey): string {
  if (typeof key === "number") {
    const length = key % IPV4_KEY_FACTOR;
    return `${formatIpv4((key - length) / IPV4_KEY_FACTOR)}/${length}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < IPV6_GROUPS; i++) groups.push(parseInt(key.slice(i * 4, i * 4 + 4), 16));
  return `${formatIpv6(groups)}/${Number(key.slice(33))}`;
}

/** AFI of a key: 1 (IPv4) or 2 (IPv6). */
export function keyAfi(key: PrefixKey): 1 | 2 {
  return typeof key === "number" ? 1 : 2;
}

/** The canonical text of a prefix, or undefined if it is not one. */
export function normalizePrefix(text: string): string | undefined {
  const key = prefixToKey(text);
  return key === undefined ? undefined : keyToPrefix(key);
}

/** Orders keys: IPv4 before IPv6, then by address, then by length. */
export function compareKeys(a: PrefixKey, b: PrefixKey): number {
  if (typeof a === "number") return typeof b === "number" ? a - b : -1;
  if (typeof b === "number") return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
