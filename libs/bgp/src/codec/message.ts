/**
 * Whole-message encoding and decoding: header checks (RFC 4271 §6.1), the
 * per-type dispatch, KEEPALIVE and ROUTE-REFRESH (RFC 2918, RFC 7313 subtypes).
 */
import type { UpdateAction } from "./attributes.js";
import { ByteWriter, readU16 } from "./bytes.js";
import {
  HEADER_LENGTH,
  KEEPALIVE_LENGTH,
  MARKER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageHeaderErrorSubcode,
  NotificationCode,
  ROUTE_REFRESH_LENGTH,
  UNSPECIFIC_SUBCODE,
} from "./constants.js";
import { BgpError } from "./errors.js";
import { badLength, maxMessageLength, notSynchronized } from "./header.js";
import { decodeNotification, encodeNotificationBody } from "./notification.js";
import { decodeOpen, encodeOpenBody } from "./open.js";
import { decodeUpdate, encodeUpdateBody } from "./update.js";
import { DEFAULT_CODEC_CONTEXT, MessageType, type BgpMessage, type CodecContext } from "./types.js";

export type DecodeResult =
  | {
      ok: true;
      message: BgpMessage;
      /** RFC 7606 handling the receiver must apply to this UPDATE. */
      action?: UpdateAction;
      /** Type codes of attributes that were dropped (attribute-discard or duplicates). */
      discarded?: number[];
      /** Human-readable notes about recoverable problems, for logs. */
      warnings?: string[];
    }
  | { ok: false; error: BgpError };

/** Encodes a whole message. Throws only on programmer errors (invalid addresses, values out of range, oversize). */
export function encodeMessage(msg: BgpMessage, ctx: CodecContext = DEFAULT_CODEC_CONTEXT): Uint8Array {
  const w = new ByteWriter(msg.type === MessageType.Update ? 512 : 64);
  for (let i = 0; i < MARKER_LENGTH; i++) w.u8(0xff);
  w.u16(0).u8(msg.type);
  let max = maxMessageLength(ctx);
  switch (msg.type) {
    case MessageType.Open:
      encodeOpenBody(msg, w);
      max = MAX_MESSAGE_LENGTH; // RFC 8654 §3: OPEN is never extended
      break;
    case MessageType.Update:
      encodeUpdateBody(msg, ctx, w);
      break;
    case MessageType.Notification:
      encodeNotificationBody(msg, w);
      break;
    case MessageType.Keepalive:
      break;
    case MessageType.RouteRefresh:
      w.u16(msg.afi).u8(msg.subtype ?? 0).u8(msg.safi);
      break;
    default:
      throw new TypeError(`unknown message type ${(msg as { type: unknown }).type}`);
  }
  if (w.length > max) throw new RangeError(`message of ${w.length} bytes exceeds the ${max}-byte limit`);
  const out = w.finish();
  out[16] = out.length >>> 8;
  out[17] = out.length & 0xff;
  return out;
}

function decodeUnchecked(b: Uint8Array, ctx: CodecContext): DecodeResult {
  if (b.length < HEADER_LENGTH) return { ok: false, error: badLength(b.length, "shorter than a header") };
  for (let i = 0; i < MARKER_LENGTH; i++) {
    if (b[i] !== 0xff) return { ok: false, error: notSynchronized() };
  }
  const length = readU16(b, 16);
  const type = b[18];
  if (length !== b.length) return { ok: false, error: badLength(length, `buffer holds ${b.length} bytes`) };
  const max = type === MessageType.Open || type === MessageType.Keepalive ? MAX_MESSAGE_LENGTH : maxMessageLength(ctx);
  if (length < HEADER_LENGTH || length > max) return { ok: false, error: badLength(length) };
  switch (type) {
    case MessageType.Open: {
      const m = decodeOpen(b);
      return m instanceof BgpError ? { ok: false, error: m } : { ok: true, message: m };
    }
    case MessageType.Update: {
      const u = decodeUpdate(b, ctx);
      if (u instanceof BgpError) return { ok: false, error: u };
      const r: DecodeResult = { ok: true, message: u.message };
      if (u.action) r.action = u.action;
      if (u.discarded.length > 0) r.discarded = u.discarded;
      if (u.warnings.length > 0) r.warnings = u.warnings;
      return r;
    }
    case MessageType.Notification: {
      const m = decodeNotification(b);
      return m instanceof BgpError ? { ok: false, error: m } : { ok: true, message: m };
    }
    case MessageType.Keepalive:
      if (length !== KEEPALIVE_LENGTH) return { ok: false, error: badLength(length) };
      return { ok: true, message: { type: MessageType.Keepalive } };
    case MessageType.RouteRefresh: {
      if (length !== ROUTE_REFRESH_LENGTH) return { ok: false, error: badLength(length) };
      const subtype = b[21];
      const message = { type: MessageType.RouteRefresh, afi: readU16(b, 19), safi: b[22] } as const;
      return { ok: true, message: subtype === 0 ? message : { ...message, subtype } };
    }
    default:
      return {
        ok: false,
        error: new BgpError(NotificationCode.MessageHeaderError, MessageHeaderErrorSubcode.BadMessageType, Uint8Array.of(type)),
      };
  }
}

/**
 * Decodes one whole message (header included). Never throws: malformed input
 * yields ok:false with the NOTIFICATION to send, or ok:true with an RFC 7606 action.
 */
export function decodeMessage(bytes: Uint8Array, ctx: CodecContext = DEFAULT_CODEC_CONTEXT): DecodeResult {
  try {
    return decodeUnchecked(bytes, ctx);
  } catch (e) {
    // A decoder bug must still reset the session cleanly; the fuzz suite asserts this is unreachable.
    const detail = `internal decoder error: ${e instanceof Error ? e.message : String(e)}`;
    const type = bytes instanceof Uint8Array && bytes.length > 18 ? bytes[18] : 0;
    const code = type === MessageType.Update ? NotificationCode.UpdateMessageError : NotificationCode.MessageHeaderError;
    return { ok: false, error: new BgpError(code, UNSPECIFIC_SUBCODE, undefined, detail) };
  }
}
