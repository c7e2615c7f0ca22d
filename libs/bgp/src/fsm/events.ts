/**
 * The session's glue from a codec decode result to an FSM event, so that the
 * mapping of message kinds and error codes onto RFC 4271 events lives next to
 * the FSM rather than in every caller.
 */
import type { BgpMessage } from "../codec/types.js";
import type { FsmEvent, NotificationError } from "./types.js";

const OPEN_MESSAGE_ERROR = 2;
const UPDATE_MESSAGE_ERROR = 3;
const UNSUPPORTED_VERSION = 1;

/** Structurally the codec's DecodeResult (only the fields the FSM needs). */
export type DecodedMessage =
  | { ok: true; message: BgpMessage; action?: "treat-as-withdraw" | "attribute-discard" }
  | { ok: false; error: NotificationError };

/**
 * OPEN → BGPOpen, UPDATE → UpdateMsg (with its RFC 7606 action), KEEPALIVE →
 * KeepAliveMsg, ROUTE-REFRESH → RouteRefresh, NOTIFICATION → NotifMsg (or
 * NotifMsgVerErr for Unsupported Version Number). Errors: OPEN Message Error →
 * BGPOpenMsgErr, UPDATE Message Error → UpdateMsgErr, anything else (header,
 * ROUTE-REFRESH length) → BGPHeaderErr, which sends the given NOTIFICATION.
 */
export function eventFromDecoded(result: DecodedMessage): FsmEvent {
  if (!result.ok) {
    const error: NotificationError = { code: result.error.code, subcode: result.error.subcode, data: result.error.data ?? new Uint8Array(0) };
    if (error.code === OPEN_MESSAGE_ERROR) return { type: "BGPOpenMsgErr", error };
    if (error.code === UPDATE_MESSAGE_ERROR) return { type: "UpdateMsgErr", error };
    return { type: "BGPHeaderErr", error };
  }
  const message = result.message;
  switch (message.type) {
    case 1:
      return { type: "BGPOpen", message };
    case 2:
      return result.action ? { type: "UpdateMsg", message, action: result.action } : { type: "UpdateMsg", message };
    case 3:
      return message.code === OPEN_MESSAGE_ERROR && message.subcode === UNSUPPORTED_VERSION
        ? { type: "NotifMsgVerErr", message }
        : { type: "NotifMsg", message };
    case 4:
      return { type: "KeepAliveMsg" };
    case 5:
      return { type: "RouteRefresh", message };
  }
}
