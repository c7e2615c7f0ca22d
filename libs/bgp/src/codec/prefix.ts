/**
 * IP addresses and prefixes: parsing, canonical formatting and the NLRI wire
 * form (RFC 4271 §4.3: a length octet then the fewest octets holding it).
 *
 * Hand-written because the Adj-RIB-Out encodes hundreds of thousands of
 * prefixes; the hot paths write into a caller-supplied buffer and allocate
 * nothing per prefix.
 */
import { Afi } from "./types.js";
import type { ByteWriter } from "./bytes.js";

const IPV4_BYTES = 4;
const IPV6_BYTES = 16;
const IPV4_BITS = 32;
const IPV6_BITS = 128;
const IPV6_WORDS = 8;
const CHAR_0 = 48;
const CHAR_9 = 57;
const CHAR_DOT = 46;

/** Scratch space for the hot paths; the codec is synchronous so one suffices. */
const scratch = new Uint8Array(IPV6_BYTES);

/** Parses a dotted quad strictly (no leading zeros, which some stacks read as octal). Returns the address or -1. */
function parseIpv4(s: string, start: number, end: number): number {
  let value = 0;
  let octets = 0;
  let i = start;
  while (i <= end) {
    let n = 0;
    let digits = 0;
    const first = i;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c < CHAR_0 || c > CHAR_9) break;
      n = n * 10 + (c - CHAR_0);
      digits++;
      i++;
    }
    if (digits === 0 || digits > 3 || n > 255) return -1;
    if (digits > 1 && s.charCodeAt(first) === CHAR_0) return -1;
    value = value * 256 + n;
    octets++;
    if (i === end) break;
    if (s.charCodeAt(i) !== CHAR_DOT || octets === 4) return -1;
    i++;
  }
  return octets === 4 ? value : -1;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses an IPv6 address (with "::" and an optional embedded dotted quad) into out[0..16). */
function parseIpv6(s: string, start: number, end: number, out: Uint8Array): boolean {
  const words: number[] = [];
  let gap = -1;
  let i = start;
  if (end - start < 2) return false;
  if (s.charCodeAt(i) === 58) {
    if (s.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
  }
  while (i < end) {
    if (words.length >= IPV6_WORDS) return false;
    let j = i;
    let v = 0;
    while (j < end && j - i < 5) {
      const d = hexDigit(s.charCodeAt(j));
      if (d < 0) break;
      v = v * 16 + d;
      j++;
    }
    if (j < end && s.charCodeAt(j) === CHAR_DOT) {
      // Embedded IPv4 tail: must be last and fit in two words.
      const v4 = parseIpv4(s, i, end);
      if (v4 < 0 || words.length > 6) return false;
      words.push(Math.floor(v4 / 65536), v4 & 0xffff);
      i = end;
      break;
    }
    if (j === i || j - i > 4) return false;
    words.push(v);
    i = j;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = words.length;
      i++;
    } else if (i === end) {
      return false; // trailing single colon
    }
  }
  if (gap < 0 && words.length !== IPV6_WORDS) return false;
  if (gap >= 0 && words.length > IPV6_WORDS - 1) return false;
  out.fill(0);
  const tail = words.length - (gap < 0 ? words.length : gap);
  const head = words.length - tail;
  for (let w = 0; w < head; w++) {
    out[w * 2] = words[w] >>> 8;
    out[w * 2 + 1] = words[w] & 0xff;
  }
  for (let w = 0; w < tail; w++) {
    const pos = IPV6_WORDS - tail + w;
    out[pos * 2] = words[head + w] >>> 8;
    out[pos * 2 + 1] = words[head + w] & 0xff;
  }
  return true;
}

/** Parses an address into out (4 or 16 bytes used). Returns the AFI, or 0 when invalid. */
export function parseAddressInto(s: string, out: Uint8Array, start = 0, end = s.length): 0 | 1 | 2 {
  for (let i = start; i < end; i++) {
    if (s.charCodeAt(i) === 58) return parseIpv6(s, start, end, out) ? Afi.Ipv6 : 0;
  }
  const v4 = parseIpv4(s, start, end);
  if (v4 < 0) return 0;
  out[0] = v4 >>> 24;
  out[1] = (v4 >>> 16) & 0xff;
  out[2] = (v4 >>> 8) & 0xff;
  out[3] = v4 & 0xff;
  return Afi.Ipv4;
}

export function formatIpv4(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** RFC 5952 text: lowercase, no leading zeros, the longest (first on ties) run of 2+ zero words as "::". */
export function formatIpv6(b: Uint8Array, at = 0): string {
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let w = 0; w <= IPV6_WORDS; w++) {
    const zero = w < IPV6_WORDS && b[at + w * 2] === 0 && b[at + w * 2 + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = w;
    } else if (runStart >= 0) {
      if (w - runStart > bestLen) {
        bestStart = runStart;
        bestLen = w - runStart;
      }
      runStart = -1;
    }
  }
  let s = "";
  for (let w = 0; w < IPV6_WORDS; w++) {
    if (w === bestStart) {
      s += "::";
      w += bestLen - 1;
      continue;
    }
    if (s.length > 0 && !s.endsWith(":")) s += ":";
    s += ((b[at + w * 2] << 8) | b[at + w * 2 + 1]).toString(16);
  }
  return s;
}

/** Zeroes the bits beyond `length` in an address of `bytes` bytes. */
function maskInPlace(b: Uint8Array, bytes: number, length: number): void {
  const full = length >>> 3;
  const rest = length & 7;
  if (full < bytes) {
    b[full] &= rest === 0 ? 0 : (0xff << (8 - rest)) & 0xff;
    for (let i = full + 1; i < bytes; i++) b[i] = 0;
  }
}

/**
 * Parses "addr/len" (or a bare address, meaning a host route) into out with host bits zeroed.
 * Returns afi * 256 + length, or -1 when invalid — a number so the hot path allocates nothing.
 */
function parsePrefixInto(s: string, out: Uint8Array): number {
  const slash = s.indexOf("/");
  const addrEnd = slash < 0 ? s.length : slash;
  const afi = parseAddressInto(s, out, 0, addrEnd);
  if (afi === 0) return -1;
  const maxBits = afi === Afi.Ipv4 ? IPV4_BITS : IPV6_BITS;
  let length = maxBits;
  if (slash >= 0) {
    const digits = s.length - slash - 1;
    if (digits < 1 || digits > 3) return -1;
    length = 0;
    for (let i = slash + 1; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < CHAR_0 || c > CHAR_9) return -1;
      length = length * 10 + (c - CHAR_0);
    }
    if (digits > 1 && s.charCodeAt(slash + 1) === CHAR_0) return -1;
    if (length > maxBits) return -1;
  }
  maskInPlace(out, afi === Afi.Ipv4 ? IPV4_BYTES : IPV6_BYTES, length);
  return afi * 256 + length;
}

function invalidPrefix(s: string): never {
  throw new TypeError(`invalid IP prefix: ${JSON.stringify(s)}`);
}

function format(afi: number, b: Uint8Array, length: number): string {
  return `${afi === Afi.Ipv4 ? formatIpv4(b) : formatIpv6(b)}/${length}`;
}

/**
 * The canonical form of a prefix: host bits zeroed, IPv6 compressed lowercase
 * (RFC 5952, without mixed IPv4 notation). A bare address becomes a host route.
 * Throws TypeError on anything else.
 */
export function canonicalPrefix(s: string): string {
  const r = parsePrefixInto(s, scratch);
  if (r < 0) invalidPrefix(s);
  return format(r >>> 8, scratch, r & 0xff);
}

/** The AFI of a prefix or address string (1 IPv4, 2 IPv6). Cheap: it does not validate. */
export function prefixFamily(s: string): 1 | 2 {
  return s.includes(":") ? Afi.Ipv6 : Afi.Ipv4;
}

/** The canonical text of an address (dotted quad or RFC 5952). Throws TypeError when invalid. */
export function canonicalAddress(s: string): string {
  const afi = parseAddressInto(s, scratch);
  if (afi === 0) throw new TypeError(`invalid IP address: ${JSON.stringify(s)}`);
  return afi === Afi.Ipv4 ? formatIpv4(scratch) : formatIpv6(scratch);
}

/** True when s is a valid prefix or address (see canonicalPrefix). */
export function isValidPrefix(s: string): boolean {
  return parsePrefixInto(s, scratch) >= 0;
}

/** Writes an address's 4 or 16 bytes; throws when it is not of the expected family. */
export function writeAddress(w: ByteWriter, s: string, afi: 1 | 2): void {
  if (parseAddressInto(s, scratch) !== afi) {
    throw new TypeError(`invalid ${afi === Afi.Ipv4 ? "IPv4" : "IPv6"} address: ${JSON.stringify(s)}`);
  }
  w.bytes(scratch.subarray(0, afi === Afi.Ipv4 ? IPV4_BYTES : IPV6_BYTES));
}

/** The wire length of a parsed prefix. */
function wireLength(length: number): number {
  return 1 + ((length + 7) >>> 3);
}

/** Appends the NLRI encoding of a prefix of the given family; throws on invalid input (a programmer error). */
export function writePrefix(w: ByteWriter, s: string, afi: number): void {
  const r = parsePrefixInto(s, scratch);
  if (r < 0 || r >>> 8 !== afi) invalidPrefix(s);
  const length = r & 0xff;
  w.u8(length);
  w.bytes(scratch.subarray(0, wireLength(length) - 1));
}

/**
 * Encodes many prefixes into one buffer and records where each ends, so
 * packing can slice message-sized runs without re-encoding.
 */
export function encodePrefixList(prefixes: readonly string[], afi: number): { bytes: Uint8Array; ends: Uint32Array } {
  const maxEach = afi === Afi.Ipv4 ? 1 + IPV4_BYTES : 1 + IPV6_BYTES;
  const bytes = new Uint8Array(prefixes.length * maxEach);
  const ends = new Uint32Array(prefixes.length);
  let pos = 0;
  for (let i = 0; i < prefixes.length; i++) {
    const s = prefixes[i];
    const r = parsePrefixInto(s, scratch);
    if (r < 0 || r >>> 8 !== afi) invalidPrefix(s);
    const length = r & 0xff;
    const n = (length + 7) >>> 3;
    bytes[pos++] = length;
    for (let k = 0; k < n; k++) bytes[pos++] = scratch[k];
    ends[i] = pos;
  }
  return { bytes, ends };
}

/**
 * Decodes an NLRI field b[start, end) of the given family, appending canonical
 * strings to out. Returns false when the field is malformed (a length beyond
 * 32/128 or a prefix overrunning the field): RFC 7606 makes that a session reset.
 */
export function readPrefixes(b: Uint8Array, start: number, end: number, afi: number, out: string[]): boolean {
  const bytes = afi === Afi.Ipv4 ? IPV4_BYTES : IPV6_BYTES;
  const maxBits = bytes * 8;
  let i = start;
  while (i < end) {
    const length = b[i++];
    if (length > maxBits) return false;
    const n = (length + 7) >>> 3;
    if (i + n > end) return false;
    if (afi === Afi.Ipv4) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      if (n > 0) a0 = b[i];
      if (n > 1) a1 = b[i + 1];
      if (n > 2) a2 = b[i + 2];
      if (n > 3) a3 = b[i + 3];
      const rest = length & 7;
      if (rest !== 0) {
        const mask = (0xff << (8 - rest)) & 0xff;
        if (n === 1) a0 &= mask;
        else if (n === 2) a1 &= mask;
        else if (n === 3) a2 &= mask;
        else a3 &= mask;
      }
      out.push(`${a0}.${a1}.${a2}.${a3}/${length}`);
    } else {
      scratch.fill(0);
      for (let k = 0; k < n; k++) scratch[k] = b[i + k];
      maskInPlace(scratch, IPV6_BYTES, length);
      out.push(`${formatIpv6(scratch)}/${length}`);
    }
    i += n;
  }
  return true;
}
