/**
 * The typed error every malformed input maps to: exactly what goes into the
 * NOTIFICATION the session must send before closing.
 */
import { MAX_MESSAGE_LENGTH, MIN_NOTIFICATION_LENGTH, describeNotification } from "./constants.js";
import { MessageType, type NotificationMessage } from "./types.js";

const EMPTY = new Uint8Array(0);
const MAX_NOTIFICATION_DATA = MAX_MESSAGE_LENGTH - MIN_NOTIFICATION_LENGTH;

export class BgpError extends Error {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;

  constructor(code: number, subcode: number, data: Uint8Array = EMPTY, detail?: string) {
    const base = describeNotification(code, subcode);
    super(detail ? `${base}: ${detail}` : base);
    this.name = "BgpError";
    this.code = code;
    this.subcode = subcode;
    this.data = data;
  }
}

/**
 * The NOTIFICATION to send for an error. Data (which may echo a whole
 * attribute) is cut so the NOTIFICATION fits a non-extended message.
 */
export function toNotification(err: BgpError): NotificationMessage {
  const data = err.data.length > MAX_NOTIFICATION_DATA ? err.data.subarray(0, MAX_NOTIFICATION_DATA) : err.data;
  return { type: MessageType.Notification, code: err.code, subcode: err.subcode, data };
}

/** A 2-byte big-endian value, used as NOTIFICATION data for length and version errors. */
export function u16Data(value: number): Uint8Array {
  return Uint8Array.of((value >>> 8) & 0xff, value & 0xff);
}
