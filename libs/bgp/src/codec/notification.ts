/**
 * NOTIFICATION (RFC 4271 §4.5) and the shutdown communication carried in
 * Cease/Administrative Shutdown and Reset (RFC 8203, extended to 255 bytes by RFC 9003).
 */
import type { ByteWriter } from "./bytes.js";
import { CeaseSubcode, MIN_NOTIFICATION_LENGTH, NotificationCode } from "./constants.js";
import { BgpError } from "./errors.js";
import { badLength } from "./header.js";
import { MessageType, type NotificationMessage } from "./types.js";

/** RFC 9003 §2: the communication is at most 255 octets of UTF-8. */
const MAX_SHUTDOWN_MESSAGE_BYTES = 255;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeNotificationBody(m: NotificationMessage, w: ByteWriter): void {
  w.u8(m.code).u8(m.subcode).bytes(m.data);
}

export function decodeNotification(b: Uint8Array): NotificationMessage | BgpError {
  if (b.length < MIN_NOTIFICATION_LENGTH) return badLength(b.length);
  return { type: MessageType.Notification, code: b[19], subcode: b[20], data: b.slice(21) };
}

/** Truncates UTF-8 to at most max bytes without splitting a character. */
function truncateUtf8(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // step back over continuation bytes
  return bytes.subarray(0, end);
}

/**
 * A Cease NOTIFICATION carrying an operator's reason (RFC 8203/9003).
 * Reasons longer than 255 UTF-8 bytes are truncated at a character boundary.
 */
export function shutdownNotification(reason: string, subcode: number = CeaseSubcode.AdministrativeShutdown): NotificationMessage {
  const text = truncateUtf8(utf8Encoder.encode(reason), MAX_SHUTDOWN_MESSAGE_BYTES);
  const data = new Uint8Array(1 + text.length);
  data[0] = text.length;
  data.set(text, 1);
  return { type: MessageType.Notification, code: NotificationCode.Cease, subcode, data };
}

/**
 * The shutdown communication of a Cease/Administrative Shutdown or Reset, or
 * undefined when there is none, it is empty, or it is malformed (a length
 * beyond the data or invalid UTF-8 — RFC 8203 §4 says to ignore it then).
 */
export function decodeShutdownMessage(n: NotificationMessage): string | undefined {
  if (n.code !== NotificationCode.Cease) return undefined;
  if (n.subcode !== CeaseSubcode.AdministrativeShutdown && n.subcode !== CeaseSubcode.AdministrativeReset) return undefined;
  if (n.data.length < 1) return undefined;
  const len = n.data[0];
  if (len === 0 || len + 1 > n.data.length) return undefined;
  try {
    return utf8Decoder.decode(n.data.subarray(1, 1 + len));
  } catch {
    return undefined;
  }
}
