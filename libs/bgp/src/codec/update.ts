/**
 * UPDATE (RFC 4271 §4.3) and End-of-RIB markers (RFC 4724 §2).
 */
import { encodeAttributes, decodeAttributes, encodePrefixes, type UpdateAction } from "./attributes.js";
import { ByteWriter, readU16 } from "./bytes.js";
import { MIN_UPDATE_LENGTH, NotificationCode, UpdateMessageErrorSubcode } from "./constants.js";
import { BgpError } from "./errors.js";
import { badLength } from "./header.js";
import { readPrefixes } from "./prefix.js";
import { Afi, MessageType, Safi, type AfiSafi, type CodecContext, type UpdateMessage } from "./types.js";

export interface DecodedUpdate {
  message: UpdateMessage;
  action?: UpdateAction;
  discarded: number[];
  warnings: string[];
}

/** Appends the UPDATE body (after the header). */
export function encodeUpdateBody(m: UpdateMessage, ctx: CodecContext, w: ByteWriter): void {
  const withdrawn = encodePrefixes(m.withdrawn, Afi.Ipv4);
  w.u16(withdrawn.length).bytes(withdrawn);
  const attrLenAt = w.length;
  w.u16(0);
  encodeAttributes(w, m.attributes, ctx);
  const attrLen = w.length - attrLenAt - 2;
  if (attrLen > 0xffff) throw new RangeError("path attributes exceed 65535 bytes");
  w.patchU16(attrLenAt, attrLen);
  w.bytes(encodePrefixes(m.nlri, Afi.Ipv4));
}

function updateError(subcode: number, detail: string): BgpError {
  return new BgpError(NotificationCode.UpdateMessageError, subcode, undefined, detail);
}

/** Decodes a whole UPDATE (header included). */
export function decodeUpdate(b: Uint8Array, ctx: CodecContext): DecodedUpdate | BgpError {
  const length = b.length;
  if (length < MIN_UPDATE_LENGTH) return badLength(length);
  const withdrawnLen = readU16(b, 19);
  const withdrawnEnd = 21 + withdrawnLen;
  // RFC 4271 §6.3 / RFC 7606 §4: inconsistent field lengths leave nothing trustworthy: session reset.
  if (withdrawnEnd + 2 > length) return updateError(UpdateMessageErrorSubcode.MalformedAttributeList, "withdrawn routes length overruns the message");
  const attrLen = readU16(b, withdrawnEnd);
  const attrStart = withdrawnEnd + 2;
  const attrEnd = attrStart + attrLen;
  if (attrEnd > length) return updateError(UpdateMessageErrorSubcode.MalformedAttributeList, "total path attribute length overruns the message");

  const withdrawn: string[] = [];
  if (!readPrefixes(b, 21, withdrawnEnd, Afi.Ipv4, withdrawn)) {
    return updateError(UpdateMessageErrorSubcode.InvalidNetworkField, "malformed withdrawn routes");
  }
  const nlri: string[] = [];
  if (!readPrefixes(b, attrEnd, length, Afi.Ipv4, nlri)) {
    return updateError(UpdateMessageErrorSubcode.InvalidNetworkField, "malformed NLRI");
  }
  const decoded = decodeAttributes(b, attrStart, attrEnd, ctx);
  if (decoded instanceof BgpError) return decoded;
  const { attributes: a, warnings, discarded } = decoded;
  let action = decoded.action;

  // RFC 7606 §3(d): missing well-known mandatory attributes only matter when there is NLRI.
  const missing: string[] = [];
  const reach = nlri.length > 0 || (a.mpReach !== undefined && a.mpReach.nlri.length > 0);
  if (reach) {
    if (a.origin === undefined) missing.push("ORIGIN");
    if (a.asPath === undefined) missing.push("AS_PATH");
    if (nlri.length > 0 && a.nextHop === undefined) missing.push("NEXT_HOP");
  }
  if (missing.length > 0) {
    action = "treat-as-withdraw";
    warnings.push(`missing well-known attribute(s) ${missing.join(", ")} (treat-as-withdraw)`);
  }
  const message: UpdateMessage = { type: MessageType.Update, withdrawn, attributes: a, nlri };
  const out: DecodedUpdate = { message, discarded, warnings };
  if (action) out.action = action;
  return out;
}

/** The End-of-RIB marker for a family: an empty UPDATE for IPv4 unicast, else an empty MP_UNREACH_NLRI. */
export function endOfRib(afi: number, safi: number): UpdateMessage {
  if (afi === Afi.Ipv4 && safi === Safi.Unicast) {
    return { type: MessageType.Update, withdrawn: [], attributes: {}, nlri: [] };
  }
  return { type: MessageType.Update, withdrawn: [], attributes: { mpUnreach: { afi, safi, withdrawn: [] } }, nlri: [] };
}

/** The family an UPDATE is the End-of-RIB marker of, or undefined when it is not one. */
export function endOfRibFamily(u: UpdateMessage): AfiSafi | undefined {
  if (u.withdrawn.length > 0 || u.nlri.length > 0) return undefined;
  const a = u.attributes;
  let count = 0;
  for (const key of Object.keys(a) as Array<keyof typeof a>) {
    if (a[key] !== undefined) count++;
  }
  if (count === 0) return { afi: Afi.Ipv4, safi: Safi.Unicast };
  if (count === 1 && a.mpUnreach && a.mpUnreach.withdrawn.length === 0) {
    return { afi: a.mpUnreach.afi, safi: a.mpUnreach.safi };
  }
  return undefined;
}
