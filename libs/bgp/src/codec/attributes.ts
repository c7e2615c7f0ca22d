/**
 * Path attributes (RFC 4271 §4.3, §5): encoding, and decoding with the
 * RFC 7606 error handling — each malformed attribute maps to treat-as-withdraw,
 * attribute-discard or a session reset according to its type.
 */
import { ByteWriter, readU16, readU32, toHex } from "./bytes.js";
import { AS_TRANS, AsPathSegmentType, AttrFlag, AttrType, NotificationCode, UpdateMessageErrorSubcode } from "./constants.js";
import { BgpError } from "./errors.js";
import { formatIpv4, formatIpv6, parseAddressInto, readPrefixes, writeAddress, writePrefix } from "./prefix.js";
import { Afi, type AsPathSegment, type CodecContext, type PathAttributes, type RawAttribute } from "./types.js";

/** RFC 7606 outcome of an UPDATE whose attributes had recoverable errors. */
export type UpdateAction = "treat-as-withdraw" | "attribute-discard";

const WELL_KNOWN = AttrFlag.Transitive;
const OPTIONAL_TRANSITIVE = AttrFlag.Optional | AttrFlag.Transitive;
const OPTIONAL_NON_TRANSITIVE = AttrFlag.Optional;
const FLAG_CLASS_MASK = AttrFlag.Optional | AttrFlag.Transitive;
const MAX_SHORT_ATTR_LENGTH = 255;
const MAX_SEGMENT_ASNS = 255;
const MAX_ORIGIN = 2;
const MAX_U16 = 0xffff;
const IPV4_LEN = 4;
const IPV6_LEN = 16;
const IPV6_PAIR_LEN = 32;
const AGGREGATOR_LEN_2 = 6;
const AGGREGATOR_LEN_4 = 8;
const COMMUNITY_LEN = 4;
const LARGE_COMMUNITY_LEN = 12;
/** AFI (2) + SAFI (1) + next hop length (1) + reserved (1). */
const MP_REACH_FIXED = 5;
/** AFI (2) + SAFI (1). */
const MP_UNREACH_FIXED = 3;
/** SAFIs whose NLRI is a plain prefix list: unicast (1) and multicast (2). */
const PREFIX_SAFIS = new Set([1, 2]);

type Policy = "withdraw" | "discard" | "reset";

/** Expected flag class and RFC 7606 handling for each attribute the codec interprets. */
const KNOWN: Record<number, { flags: number; policy: Policy; name: string }> = {
  [AttrType.Origin]: { flags: WELL_KNOWN, policy: "withdraw", name: "ORIGIN" },
  [AttrType.AsPath]: { flags: WELL_KNOWN, policy: "withdraw", name: "AS_PATH" },
  [AttrType.NextHop]: { flags: WELL_KNOWN, policy: "withdraw", name: "NEXT_HOP" },
  [AttrType.Med]: { flags: OPTIONAL_NON_TRANSITIVE, policy: "withdraw", name: "MULTI_EXIT_DISC" },
  [AttrType.LocalPref]: { flags: WELL_KNOWN, policy: "withdraw", name: "LOCAL_PREF" },
  [AttrType.AtomicAggregate]: { flags: WELL_KNOWN, policy: "discard", name: "ATOMIC_AGGREGATE" },
  [AttrType.Aggregator]: { flags: OPTIONAL_TRANSITIVE, policy: "discard", name: "AGGREGATOR" },
  [AttrType.Communities]: { flags: OPTIONAL_TRANSITIVE, policy: "withdraw", name: "COMMUNITIES" },
  [AttrType.MpReachNlri]: { flags: OPTIONAL_NON_TRANSITIVE, policy: "reset", name: "MP_REACH_NLRI" },
  [AttrType.MpUnreachNlri]: { flags: OPTIONAL_NON_TRANSITIVE, policy: "reset", name: "MP_UNREACH_NLRI" },
  [AttrType.As4Path]: { flags: OPTIONAL_TRANSITIVE, policy: "discard", name: "AS4_PATH" },
  [AttrType.As4Aggregator]: { flags: OPTIONAL_TRANSITIVE, policy: "discard", name: "AS4_AGGREGATOR" },
  [AttrType.LargeCommunities]: { flags: OPTIONAL_TRANSITIVE, policy: "withdraw", name: "LARGE_COMMUNITY" },
};

// ---------------------------------------------------------------- encoding

function attrHeader(w: ByteWriter, flags: number, type: number, length: number): void {
  if (length > MAX_U16) throw new RangeError(`path attribute ${type} is too long (${length} bytes)`);
  if (length > MAX_SHORT_ATTR_LENGTH || flags & AttrFlag.ExtendedLength) {
    w.u8(flags | AttrFlag.ExtendedLength).u8(type).u16(length);
  } else {
    w.u8(flags).u8(type).u8(length);
  }
}

/** Splits long sequences into ≤255-ASN segments (the count is one octet). */
function normalizeSegments(path: readonly AsPathSegment[]): AsPathSegment[] {
  const out: AsPathSegment[] = [];
  for (const seg of path) {
    if (seg.asns.length <= MAX_SEGMENT_ASNS) {
      out.push(seg);
    } else if (seg.type === AsPathSegmentType.Sequence || seg.type === AsPathSegmentType.ConfedSequence) {
      for (let i = 0; i < seg.asns.length; i += MAX_SEGMENT_ASNS) {
        out.push({ type: seg.type, asns: seg.asns.slice(i, i + MAX_SEGMENT_ASNS) });
      }
    } else {
      throw new RangeError(`AS_SET segments hold at most ${MAX_SEGMENT_ASNS} ASNs`);
    }
  }
  return out;
}

function writeAsPath(w: ByteWriter, type: number, segments: readonly AsPathSegment[], fourOctet: boolean): void {
  let len = 0;
  for (const s of segments) len += 2 + s.asns.length * (fourOctet ? 4 : 2);
  attrHeader(w, type === AttrType.AsPath ? WELL_KNOWN : OPTIONAL_TRANSITIVE, type, len);
  for (const s of segments) {
    w.u8(s.type).u8(s.asns.length);
    for (const asn of s.asns) {
      if (fourOctet) w.u32(asn);
      else w.u16(asn > MAX_U16 ? AS_TRANS : asn);
    }
  }
}

function isConfed(t: number): boolean {
  return t === AsPathSegmentType.ConfedSequence || t === AsPathSegmentType.ConfedSet;
}

/** Writes MP_REACH_NLRI with pre-encoded NLRI bytes (packing reuses one encoding for many messages). */
export function writeMpReach(w: ByteWriter, mp: NonNullable<PathAttributes["mpReach"]>, nlri: Uint8Array): void {
  if (mp.nextHops.length < 1 || mp.nextHops.length > 2) {
    throw new RangeError(`MP_REACH_NLRI needs one or two next hops, got ${mp.nextHops.length}`);
  }
  const nhAfi = parseAddressInto(mp.nextHops[0], new Uint8Array(IPV6_LEN));
  if (nhAfi === 0) throw new TypeError(`invalid next hop ${JSON.stringify(mp.nextHops[0])}`);
  if (nhAfi === Afi.Ipv4 && mp.nextHops.length !== 1) throw new RangeError("an IPv4 next hop cannot have a second address");
  const nhLen = (nhAfi === Afi.Ipv4 ? IPV4_LEN : IPV6_LEN) * mp.nextHops.length;
  attrHeader(w, OPTIONAL_NON_TRANSITIVE, AttrType.MpReachNlri, MP_REACH_FIXED + nhLen + nlri.length);
  w.u16(mp.afi).u8(mp.safi).u8(nhLen);
  for (const nh of mp.nextHops) writeAddress(w, nh, nhAfi);
  w.u8(0).bytes(nlri);
}

/** Writes MP_UNREACH_NLRI with pre-encoded withdrawn prefixes. */
export function writeMpUnreach(w: ByteWriter, afi: number, safi: number, withdrawn: Uint8Array): void {
  attrHeader(w, OPTIONAL_NON_TRANSITIVE, AttrType.MpUnreachNlri, MP_UNREACH_FIXED + withdrawn.length);
  w.u16(afi).u8(safi).bytes(withdrawn);
}

export function encodePrefixes(prefixes: readonly string[], afi: number): Uint8Array {
  const w = new ByteWriter(prefixes.length * (afi === Afi.Ipv4 ? 5 : 17) + 1);
  for (const p of prefixes) writePrefix(w, p, afi);
  return w.finish();
}

/**
 * Appends all path attributes. MP_REACH/MP_UNREACH come first (RFC 7606 §5.1
 * lets receivers find the NLRI even if a later attribute is malformed); the
 * rest follow in type-code order, unknown attributes last in their given order.
 * `mpReachNlri` overrides the encoding of attrs.mpReach.nlri (used by packing).
 */
export function encodeAttributes(w: ByteWriter, a: PathAttributes, ctx: CodecContext, mpReachNlri?: Uint8Array): void {
  if (a.mpReach) writeMpReach(w, a.mpReach, mpReachNlri ?? encodePrefixes(a.mpReach.nlri, a.mpReach.afi));
  if (a.mpUnreach) writeMpUnreach(w, a.mpUnreach.afi, a.mpUnreach.safi, encodePrefixes(a.mpUnreach.withdrawn, a.mpUnreach.afi));
  if (a.origin !== undefined) {
    attrHeader(w, WELL_KNOWN, AttrType.Origin, 1);
    w.u8(a.origin);
  }
  let needAs4Path = false;
  let as4Segments: AsPathSegment[] = [];
  if (a.asPath) {
    const segments = normalizeSegments(a.asPath);
    writeAsPath(w, AttrType.AsPath, segments, ctx.fourOctetAs);
    if (!ctx.fourOctetAs) {
      // RFC 6793 §4.2.2: toward a 2-octet peer, the true path rides in AS4_PATH (without confederation segments).
      as4Segments = segments.filter((s) => !isConfed(s.type));
      needAs4Path = as4Segments.some((s) => s.asns.some((asn) => asn > MAX_U16));
    }
  }
  if (a.nextHop !== undefined) {
    attrHeader(w, WELL_KNOWN, AttrType.NextHop, IPV4_LEN);
    writeAddress(w, a.nextHop, Afi.Ipv4);
  }
  if (a.med !== undefined) {
    attrHeader(w, OPTIONAL_NON_TRANSITIVE, AttrType.Med, 4);
    w.u32(a.med);
  }
  if (a.localPref !== undefined) {
    attrHeader(w, WELL_KNOWN, AttrType.LocalPref, 4);
    w.u32(a.localPref);
  }
  if (a.atomicAggregate) attrHeader(w, WELL_KNOWN, AttrType.AtomicAggregate, 0);
  const needAs4Aggregator = !ctx.fourOctetAs && a.aggregator !== undefined && a.aggregator.asn > MAX_U16;
  if (a.aggregator) {
    attrHeader(w, OPTIONAL_TRANSITIVE, AttrType.Aggregator, ctx.fourOctetAs ? AGGREGATOR_LEN_4 : AGGREGATOR_LEN_2);
    if (ctx.fourOctetAs) w.u32(a.aggregator.asn);
    else w.u16(needAs4Aggregator ? AS_TRANS : a.aggregator.asn);
    writeAddress(w, a.aggregator.address, Afi.Ipv4);
  }
  if (a.communities && a.communities.length > 0) {
    attrHeader(w, OPTIONAL_TRANSITIVE, AttrType.Communities, a.communities.length * COMMUNITY_LEN);
    for (const c of a.communities) w.u32(c);
  }
  if (needAs4Path) writeAsPath(w, AttrType.As4Path, as4Segments, true);
  if (needAs4Aggregator && a.aggregator) {
    attrHeader(w, OPTIONAL_TRANSITIVE, AttrType.As4Aggregator, AGGREGATOR_LEN_4);
    w.u32(a.aggregator.asn);
    writeAddress(w, a.aggregator.address, Afi.Ipv4);
  }
  if (a.largeCommunities && a.largeCommunities.length > 0) {
    attrHeader(w, OPTIONAL_TRANSITIVE, AttrType.LargeCommunities, a.largeCommunities.length * LARGE_COMMUNITY_LEN);
    for (const [g, l1, l2] of a.largeCommunities) w.u32(g).u32(l1).u32(l2);
  }
  for (const u of a.unknown ?? []) {
    attrHeader(w, u.flags, u.typeCode, u.data.length);
    w.bytes(u.data);
  }
}

// ---------------------------------------------------------------- decoding

export interface DecodedAttributes {
  attributes: PathAttributes;
  action?: UpdateAction;
  discarded: number[];
  warnings: string[];
}

/** Why a single attribute value is unusable; the caller applies the attribute's policy. */
class Malformed {
  constructor(readonly reason: string) {}
}

type AttrValue<T> = T | Malformed;

function parseAsPath(b: Uint8Array, start: number, end: number, asnSize: 2 | 4): AttrValue<AsPathSegment[]> {
  const segments: AsPathSegment[] = [];
  let i = start;
  while (i < end) {
    if (i + 2 > end) return new Malformed("truncated segment header");
    const type = b[i];
    const count = b[i + 1];
    i += 2;
    if (type < AsPathSegmentType.Set || type > AsPathSegmentType.ConfedSet) return new Malformed(`segment type ${type}`);
    if (count === 0) return new Malformed("empty segment");
    if (i + count * asnSize > end) return new Malformed("segment overruns the attribute");
    const asns = new Array<number>(count);
    for (let k = 0; k < count; k++, i += asnSize) asns[k] = asnSize === 4 ? readU32(b, i) : readU16(b, i);
    segments.push({ type: type as AsPathSegment["type"], asns });
  }
  return segments;
}

type MpReach = NonNullable<PathAttributes["mpReach"]>;
type MpUnreach = NonNullable<PathAttributes["mpUnreach"]>;

function updateError(subcode: number, data?: Uint8Array, detail?: string): BgpError {
  return new BgpError(NotificationCode.UpdateMessageError, subcode, data, detail);
}

/** MP_REACH_NLRI (RFC 4760 §3). Undefined means an AFI/SAFI the codec does not parse (kept raw). */
function parseMpReach(b: Uint8Array, start: number, end: number, raw: Uint8Array): MpReach | BgpError | undefined {
  const bad = (why: string) => updateError(UpdateMessageErrorSubcode.OptionalAttributeError, raw.slice(), `MP_REACH_NLRI: ${why}`);
  if (end - start < MP_REACH_FIXED) return bad("too short");
  const afi = readU16(b, start);
  const safi = b[start + 2];
  const nhLen = b[start + 3];
  const nlriStart = start + 4 + nhLen + 1;
  if (nlriStart > end) return bad("next hop overruns the attribute");
  if ((afi !== Afi.Ipv4 && afi !== Afi.Ipv6) || !PREFIX_SAFIS.has(safi)) return undefined;
  const nh = start + 4;
  let nextHops: string[];
  if (nhLen === IPV4_LEN && afi === Afi.Ipv4) nextHops = [formatIpv4(b, nh)];
  else if (nhLen === IPV6_LEN) nextHops = [formatIpv6(b, nh)];
  else if (nhLen === IPV6_PAIR_LEN) nextHops = [formatIpv6(b, nh), formatIpv6(b, nh + IPV6_LEN)];
  else return bad(`next hop length ${nhLen} for AFI ${afi}`);
  const nlri: string[] = [];
  if (!readPrefixes(b, nlriStart, end, afi, nlri)) {
    return updateError(UpdateMessageErrorSubcode.InvalidNetworkField, raw.slice(), "MP_REACH_NLRI: malformed NLRI");
  }
  return { afi, safi, nextHops, nlri };
}

/** MP_UNREACH_NLRI (RFC 4760 §4). An empty one of any family is an End-of-RIB marker, so that is always decoded. */
function parseMpUnreach(b: Uint8Array, start: number, end: number, raw: Uint8Array): MpUnreach | BgpError | undefined {
  if (end - start < MP_UNREACH_FIXED) {
    return updateError(UpdateMessageErrorSubcode.OptionalAttributeError, raw.slice(), "MP_UNREACH_NLRI: too short");
  }
  const afi = readU16(b, start);
  const safi = b[start + 2];
  const withdrawn: string[] = [];
  if (end === start + MP_UNREACH_FIXED) return { afi, safi, withdrawn };
  if ((afi !== Afi.Ipv4 && afi !== Afi.Ipv6) || !PREFIX_SAFIS.has(safi)) return undefined;
  if (!readPrefixes(b, start + MP_UNREACH_FIXED, end, afi, withdrawn)) {
    return updateError(UpdateMessageErrorSubcode.InvalidNetworkField, raw.slice(), "MP_UNREACH_NLRI: malformed withdrawn routes");
  }
  return { afi, safi, withdrawn };
}

function countAsns(path: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of path) {
    if (s.type === AsPathSegmentType.Sequence) n += s.asns.length;
    else if (s.type === AsPathSegmentType.Set) n += 1;
  }
  return n;
}

function copySegment(s: AsPathSegment): AsPathSegment {
  return { type: s.type, asns: [...s.asns] };
}

/**
 * Reconstructs the 4-octet path from AS_PATH and AS4_PATH (RFC 6793 §4.2.3):
 * keep as many leading ASNs of AS_PATH as AS4_PATH is shorter by, then append
 * AS4_PATH. Confederation segments never travel in AS4_PATH, so those of
 * AS_PATH are put back at the same position (counted in ASNs) — which makes
 * decode(encode(path)) exact toward 2-octet peers.
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  const as4 = as4Path.filter((s) => !isConfed(s.type));
  const n = countAsns(asPath);
  const n4 = countAsns(as4);
  if (n < n4) return asPath.map(copySegment);
  let need = n - n4;
  const head: AsPathSegment[] = [];
  const confeds: Array<{ at: number; seg: AsPathSegment }> = [];
  let tailUnits = 0;
  for (const s of asPath) {
    if (isConfed(s.type)) {
      if (need > 0) head.push(copySegment(s));
      else confeds.push({ at: tailUnits, seg: copySegment(s) });
    } else if (need === 0) {
      tailUnits += s.type === AsPathSegmentType.Set ? 1 : s.asns.length;
    } else if (s.type === AsPathSegmentType.Set) {
      head.push(copySegment(s));
      need -= 1;
    } else {
      const take = Math.min(need, s.asns.length);
      head.push({ type: s.type, asns: s.asns.slice(0, take) });
      need -= take;
      tailUnits += s.asns.length - take;
    }
  }

  // The tail is AS4_PATH with the confederation segments re-inserted at their offsets.
  const tail: AsPathSegment[] = [];
  let units = 0;
  let ci = 0;
  const flushConfeds = () => {
    while (ci < confeds.length && confeds[ci].at <= units) tail.push(confeds[ci++].seg);
  };
  for (const s of as4) {
    flushConfeds();
    if (s.type !== AsPathSegmentType.Sequence) {
      tail.push(copySegment(s));
      units += 1;
      continue;
    }
    let asns = s.asns;
    while (ci < confeds.length && confeds[ci].at < units + asns.length) {
      const k = confeds[ci].at - units;
      tail.push({ type: s.type, asns: asns.slice(0, k) });
      units += k;
      asns = asns.slice(k);
      flushConfeds();
    }
    tail.push({ type: s.type, asns: [...asns] });
    units += asns.length;
  }
  while (ci < confeds.length) tail.push(confeds[ci++].seg);

  // A 2-octet speaker's prepends and the AS4_PATH head form one sequence.
  const last = head[head.length - 1];
  const first = tail[0];
  if (
    need === 0 &&
    n > n4 &&
    last?.type === AsPathSegmentType.Sequence &&
    first?.type === AsPathSegmentType.Sequence &&
    last.asns.length + first.asns.length <= MAX_SEGMENT_ASNS
  ) {
    last.asns.push(...first.asns);
    tail.shift();
  }
  return [...head, ...tail];
}

/**
 * Decodes the path attribute field b[start, end). Returns a BgpError for
 * session-reset class errors; otherwise the attributes with the RFC 7606
 * action for any recoverable errors.
 */
export function decodeAttributes(b: Uint8Array, start: number, end: number, ctx: CodecContext): DecodedAttributes | BgpError {
  const a: PathAttributes = {};
  const seen = new Uint8Array(256);
  const discarded: number[] = [];
  const warnings: string[] = [];
  let withdraw = false;
  let discard = false;
  let as4Path: AsPathSegment[] | undefined;
  let as4Aggregator: { asn: number; address: string } | undefined;

  let i = start;
  while (i < end) {
    // RFC 7606 §4: a header or value overrunning the field makes the rest unparsable: treat-as-withdraw.
    if (i + 3 > end || (b[i] & AttrFlag.ExtendedLength && i + 4 > end)) {
      withdraw = true;
      warnings.push("truncated path attribute header");
      break;
    }
    const flags = b[i];
    const type = b[i + 1];
    const ext = (flags & AttrFlag.ExtendedLength) !== 0;
    const len = ext ? readU16(b, i + 2) : b[i + 2];
    const vs = i + (ext ? 4 : 3);
    const ve = vs + len;
    if (ve > end) {
      withdraw = true;
      warnings.push(`path attribute ${type} overruns the attribute field`);
      break;
    }
    const raw = b.subarray(i, ve);
    i = ve;

    const known = KNOWN[type];
    if (!known) {
      if (!(flags & AttrFlag.Optional)) {
        return updateError(UpdateMessageErrorSubcode.UnrecognizedWellKnownAttribute, raw.slice(), `type ${type}`);
      }
    }
    if (seen[type]) {
      if (type === AttrType.MpReachNlri || type === AttrType.MpUnreachNlri) {
        return updateError(UpdateMessageErrorSubcode.MalformedAttributeList, undefined, `duplicate ${known?.name}`);
      }
      // RFC 7606 §3(g): keep the first occurrence.
      discard = true;
      discarded.push(type);
      warnings.push(`duplicate path attribute ${type} discarded`);
      continue;
    }
    seen[type] = 1;
    if (!known) {
      const u: RawAttribute = { flags, typeCode: type, data: b.slice(vs, ve) };
      (a.unknown ??= []).push(u);
      continue;
    }

    const fail = (reason: string): BgpError | undefined => {
      const msg = `${known.name}: ${reason}`;
      if (known.policy === "reset") {
        const sub = reason === "flags" ? UpdateMessageErrorSubcode.AttributeFlagsError : UpdateMessageErrorSubcode.OptionalAttributeError;
        return updateError(sub, raw.slice(), msg);
      }
      if (known.policy === "withdraw") withdraw = true;
      else {
        discard = true;
        discarded.push(type);
      }
      warnings.push(`${msg} (${known.policy === "withdraw" ? "treat-as-withdraw" : "attribute discarded"}; ${toHex(raw.subarray(0, 32))})`);
      return undefined;
    };

    if ((flags & FLAG_CLASS_MASK) !== known.flags) {
      const err = fail("flags");
      if (err) return err;
      continue;
    }

    const value = decodeKnown(type, b, vs, ve, ctx, raw);
    if (value instanceof BgpError) return value;
    if (value instanceof Malformed) {
      const err = fail(value.reason);
      if (err) return err;
      continue;
    }
    switch (type) {
      case AttrType.As4Path:
        as4Path = value as AsPathSegment[];
        break;
      case AttrType.As4Aggregator:
        as4Aggregator = value as { asn: number; address: string };
        break;
      case AttrType.MpReachNlri:
      case AttrType.MpUnreachNlri:
        if (value === undefined) {
          warnings.push(`${known.name} for an unsupported AFI/SAFI kept as a raw attribute`);
          (a.unknown ??= []).push({ flags, typeCode: type, data: b.slice(vs, ve) });
        } else if (type === AttrType.MpReachNlri) a.mpReach = value as MpReach;
        else a.mpUnreach = value as MpUnreach;
        break;
      default:
        Object.assign(a, value);
    }
  }

  applyAs4(a, as4Path, as4Aggregator, ctx, warnings);

  const result: DecodedAttributes = { attributes: a, discarded, warnings };
  if (withdraw) result.action = "treat-as-withdraw";
  else if (discard) result.action = "attribute-discard";
  return result;
}

/** RFC 6793 §4.2.3 reconciliation of AS4_PATH / AS4_AGGREGATOR received from a 2-octet session. */
function applyAs4(
  a: PathAttributes,
  as4Path: AsPathSegment[] | undefined,
  as4Aggregator: { asn: number; address: string } | undefined,
  ctx: CodecContext,
  warnings: string[],
): void {
  if (!as4Path && !as4Aggregator) return;
  if (ctx.fourOctetAs) {
    warnings.push("AS4_PATH/AS4_AGGREGATOR from a 4-octet AS session ignored");
    return;
  }
  if (as4Aggregator && a.aggregator) {
    // An AGGREGATOR that is not AS_TRANS means a 2-octet speaker aggregated after the AS4 attributes were set: they are stale.
    if (a.aggregator.asn !== AS_TRANS) {
      warnings.push("AS4_PATH/AS4_AGGREGATOR ignored: AGGREGATOR is not AS_TRANS");
      return;
    }
    a.aggregator = as4Aggregator;
  }
  if (as4Path && a.asPath) a.asPath = mergeAs4Path(a.asPath, as4Path);
}

/** The decoded value of a known attribute, as a partial PathAttributes (or the AS4/MP values themselves). */
function decodeKnown(
  type: number,
  b: Uint8Array,
  vs: number,
  ve: number,
  ctx: CodecContext,
  raw: Uint8Array,
): AttrValue<unknown> | BgpError {
  const len = ve - vs;
  switch (type) {
    case AttrType.Origin:
      if (len !== 1) return new Malformed(`length ${len}`);
      if (b[vs] > MAX_ORIGIN) return new Malformed(`value ${b[vs]}`);
      return { origin: b[vs] as PathAttributes["origin"] };
    case AttrType.AsPath: {
      const path = parseAsPath(b, vs, ve, ctx.fourOctetAs ? 4 : 2);
      return path instanceof Malformed ? path : { asPath: path };
    }
    case AttrType.NextHop:
      if (len !== IPV4_LEN) return new Malformed(`length ${len}`);
      return { nextHop: formatIpv4(b, vs) };
    case AttrType.Med:
      if (len !== 4) return new Malformed(`length ${len}`);
      return { med: readU32(b, vs) };
    case AttrType.LocalPref:
      if (len !== 4) return new Malformed(`length ${len}`);
      return { localPref: readU32(b, vs) };
    case AttrType.AtomicAggregate:
      if (len !== 0) return new Malformed(`length ${len}`);
      return { atomicAggregate: true };
    case AttrType.Aggregator: {
      const expect = ctx.fourOctetAs ? AGGREGATOR_LEN_4 : AGGREGATOR_LEN_2;
      if (len !== expect) return new Malformed(`length ${len}`);
      const asn = ctx.fourOctetAs ? readU32(b, vs) : readU16(b, vs);
      return { aggregator: { asn, address: formatIpv4(b, ve - IPV4_LEN) } };
    }
    case AttrType.Communities: {
      if (len === 0 || len % COMMUNITY_LEN !== 0) return new Malformed(`length ${len}`);
      const communities: number[] = [];
      for (let k = vs; k < ve; k += COMMUNITY_LEN) communities.push(readU32(b, k));
      return { communities };
    }
    case AttrType.LargeCommunities: {
      if (len === 0 || len % LARGE_COMMUNITY_LEN !== 0) return new Malformed(`length ${len}`);
      const largeCommunities: Array<[number, number, number]> = [];
      for (let k = vs; k < ve; k += LARGE_COMMUNITY_LEN) {
        largeCommunities.push([readU32(b, k), readU32(b, k + 4), readU32(b, k + 8)]);
      }
      return { largeCommunities };
    }
    case AttrType.As4Path: {
      return parseAsPath(b, vs, ve, 4);
    }
    case AttrType.As4Aggregator:
      if (len !== AGGREGATOR_LEN_4) return new Malformed(`length ${len}`);
      return { asn: readU32(b, vs), address: formatIpv4(b, vs + 4) };
    case AttrType.MpReachNlri:
      return parseMpReach(b, vs, ve, raw);
    case AttrType.MpUnreachNlri:
      return parseMpUnreach(b, vs, ve, raw);
    default:
      return new Malformed("unexpected type");
  }
}
