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

function packWithdrawals(prefixes: readonly string[], afi: number, safi: number, max: number): Uint8Array[] {
  const { bytes, ends } = encodePrefixList(prefixes, afi);
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

function packReach(attributes: PathAttributes, nlri: readonly string[], ctx: CodecContext, max: number): Uint8Array[] {
  const mp = attributes.mpReach;
  const afi = mp ? mp.afi : Afi.Ipv4;
  const { bytes, ends } = encodePrefixList(nlri, afi);
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
    return packWithdrawals(input.withdrawn, input.afi, input.safi ?? Safi.Unicast, max);
  }
  if (input.nlri.length === 0) return [];
  return packReach(input.attributes, input.nlri, ctx, max);
}
