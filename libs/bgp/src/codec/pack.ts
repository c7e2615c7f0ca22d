/**
 * Packing many prefixes into as few UPDATEs as the message size allows — the
 * Adj-RIB-Out's encoder. Prefixes are encoded once into one buffer and each
 * message copies a contiguous run of it, so packing is linear in the input.
 */
import { encodeAttributes, writeMpReach, writeMpUnreach } from "./attributes.js";
import { ByteWriter } from "./bytes.js";
import { HEADER_LENGTH, MIN_UPDATE_LENGTH } from "./constants.js";
import { maxMessageLength, writeHeader } from "./header.js";
import { encodePrefixList } from "./prefix.js";
import { Afi, MessageType, Safi, type CodecContext, type PathAttributes } from "./types.js";

export type PackInput =
  | { attributes: PathAttributes; nlri: string[] }
  | { withdrawn: string[]; afi: number; /** Defaults to unicast. */ safi?: number };

/** Attribute header growth when an MP attribute's length crosses 255 (extended length). */
const EXTENDED_LENGTH_SLACK = 1;
/** MP_UNREACH_NLRI: attribute header with extended length (4) + AFI (2) + SAFI (1). */
const MP_UNREACH_OVERHEAD = 7;

/** Cuts the encoded prefix list into runs whose byte size fits the budget; returns run end indexes. */
function runs(ends: Uint32Array, budget: number): number[] {
  const cuts: number[] = [];
  let runStartByte = 0;
  let runStartIdx = 0;
  for (let i = 0; i < ends.length; i++) {
    if (ends[i] - runStartByte > budget) {
      if (i === runStartIdx) throw new RangeError("path attributes leave no room for a prefix in one message");
      cuts.push(i);
      runStartByte = ends[i - 1];
      runStartIdx = i;
    }
  }
  cuts.push(ends.length);
  return cuts;
}

function byteRange(ends: Uint32Array, from: number, to: number): [number, number] {
  return [from === 0 ? 0 : ends[from - 1], ends[to - 1]];
}

/** A message of the given body, header filled in. */
function frame(body: ByteWriter): Uint8Array {
  const out = body.finish();
  writeHeader(out, out.length, MessageType.Update);
  return out;
}

function newUpdateWriter(capacity: number): ByteWriter {
  const w = new ByteWriter(capacity);
  for (let i = 0; i < HEADER_LENGTH; i++) w.u8(0);
  return w;
}

/**
 * The NLRI encoding of pre-parsed IPv4 keys (`address * 64 + length`, host
 * bits already clear, as the RIBs hold them), written straight into one buffer.
 */
function encodeIpv4Keys(keys: Float64Array): { bytes: Uint8Array; ends: Uint32Array } {
  const bytes = new Uint8Array(keys.length * 5);
  const ends = new Uint32Array(keys.length);
  let pos = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const length = key % 64;
    if (!(length <= 32) || !(key >= 0 && key < 2 ** 38) || key !== Math.floor(key)) throw new TypeError(`invalid IPv4 prefix key: ${key}`);
    const address = (key - length) / 64;
    bytes[pos++] = length;
    if (length > 0) bytes[pos++] = address >>> 24;
    if (length > 8) bytes[pos++] = (address >>> 16) & 0xff;
    if (length > 16) bytes[pos++] = (address >>> 8) & 0xff;
    if (length > 24) bytes[pos++] = address & 0xff;
    ends[i] = pos;
  }
  return { bytes, ends };
}

function packWithdrawals({ bytes, ends }: { bytes: Uint8Array; ends: Uint32Array }, afi: number, safi: number, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const ipv4Field = afi === Afi.Ipv4 && safi === Safi.Unicast;
  const budget = max - MIN_UPDATE_LENGTH - (ipv4Field ? 0 : MP_UNREACH_OVERHEAD);
  let from = 0;
  for (const to of runs(ends, budget)) {
    const [s, e] = byteRange(ends, from, to);
    const slice = bytes.subarray(s, e);
    const w = newUpdateWriter(MIN_UPDATE_LENGTH + MP_UNREACH_OVERHEAD + slice.length);
    if (ipv4Field) {
      w.u16(slice.length).bytes(slice).u16(0);
    } else {
      w.u16(0);
      const at = w.length;
      w.u16(0);
      writeMpUnreach(w, afi, safi, slice);
      w.patchU16(at, w.length - at - 2);
    }
    out.push(frame(w));
    from = to;
  }
  return out;
}

function packReach(attributes: PathAttributes, { bytes, ends }: { bytes: Uint8Array; ends: Uint32Array }, ctx: CodecContext, max: number): Uint8Array[] {
  const mp = attributes.mpReach;
  const out: Uint8Array[] = [];
  // Everything but MP_REACH is identical in every message: encode it once.
  const restWriter = new ByteWriter();
  encodeAttributes(restWriter, { ...attributes, mpReach: undefined }, ctx);
  const rest = restWriter.finish();
  let mpBase = 0;
  if (mp) {
    const probe = new ByteWriter();
    writeMpReach(probe, mp, new Uint8Array(0));
    mpBase = probe.length + EXTENDED_LENGTH_SLACK;
  }
  const budget = max - MIN_UPDATE_LENGTH - rest.length - mpBase;
  let from = 0;
  for (const to of runs(ends, budget)) {
    const [s, e] = byteRange(ends, from, to);
    const slice = bytes.subarray(s, e);
    const w = newUpdateWriter(MIN_UPDATE_LENGTH + mpBase + rest.length + slice.length);
    w.u16(0);
    const at = w.length;
    w.u16(0);
    if (mp) writeMpReach(w, mp, slice);
    w.bytes(rest);
    w.patchU16(at, w.length - at - 2);
    if (!mp) w.bytes(slice);
    out.push(frame(w));
    from = to;
  }
  return out;
}

/**
 * Encodes announcements (all sharing one attribute set) or withdrawals into as
 * few UPDATEs as fit the negotiated maximum size, preserving input order.
 * IPv4 unicast uses the classic NLRI / Withdrawn Routes fields; other families
 * use MP_REACH_NLRI (the caller provides attributes.mpReach with afi, safi and
 * next hops; its nlri is ignored) or MP_UNREACH_NLRI. Empty input gives no messages.
 * Throws on invalid prefixes or prefixes of the wrong family (programmer errors).
 */
export function packUpdates(input: PackInput, ctx: CodecContext): Uint8Array[] {
  const max = maxMessageLength(ctx);
  if ("withdrawn" in input) {
    if (input.withdrawn.length === 0) return [];
    return packWithdrawals(encodePrefixList(input.withdrawn, input.afi), input.afi, input.safi ?? Safi.Unicast, max);
  }
  if (input.nlri.length === 0) return [];
  return packReach(input.attributes, encodePrefixList(input.nlri, input.attributes.mpReach ? input.attributes.mpReach.afi : Afi.Ipv4), ctx, max);
}

export type PackIpv4Input = { attributes: PathAttributes; ipv4: Float64Array } | { withdrawn: Float64Array };

/**
 * packUpdates for IPv4 unicast prefixes already parsed into keys
 * (`address * 64 + length`, host bits clear — what the Adj-RIB-Out holds):
 * the same messages, byte for byte, as packUpdates given the same prefixes as
 * text, without parsing them again. Throws on a key that is not one, or when
 * the attributes carry an MP_REACH of another family.
 */
export function packIpv4Updates(input: PackIpv4Input, ctx: CodecContext): Uint8Array[] {
  const max = maxMessageLength(ctx);
  if ("withdrawn" in input) {
    if (input.withdrawn.length === 0) return [];
    return packWithdrawals(encodeIpv4Keys(input.withdrawn), Afi.Ipv4, Safi.Unicast, max);
  }
  if (input.ipv4.length === 0) return [];
  const mp = input.attributes.mpReach;
  if (mp && mp.afi !== Afi.Ipv4) throw new TypeError(`IPv4 prefixes with an MP_REACH of AFI ${mp.afi}`);
  return packReach(input.attributes, encodeIpv4Keys(input.ipv4), ctx, max);
}
