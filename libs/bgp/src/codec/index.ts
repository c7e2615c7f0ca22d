/**
 * The BGP-4 wire codec: bytes <-> the message types in types.ts. Pure and
 * synchronous; the FSM, RIBs and session never touch bytes themselves.
 */
export * from "./types.js";
export {
  AS_TRANS,
  AsPathSegmentType,
  AttrFlag,
  AttrType,
  BGP_VERSION,
  CapabilityCode,
  CeaseSubcode,
  FsmErrorSubcode,
  HEADER_LENGTH,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageHeaderErrorSubcode,
  NotificationCode,
  OpenMessageErrorSubcode,
  RouteRefreshErrorSubcode,
  UNSPECIFIC_SUBCODE,
  UpdateMessageErrorSubcode,
  describeNotification,
} from "./constants.js";
export { BgpError, toNotification } from "./errors.js";
export { MessageFramer, maxMessageLength } from "./header.js";
export { decodeMessage, encodeMessage, type DecodeResult } from "./message.js";
export type { UpdateAction } from "./attributes.js";
export { decodeShutdownMessage, shutdownNotification } from "./notification.js";
export { endOfRib, endOfRibFamily } from "./update.js";
export { packIpv4Updates, packUpdates, type PackInput, type PackIpv4Input } from "./pack.js";
export { canonicalAddress, canonicalPrefix, isValidPrefix, prefixFamily } from "./prefix.js";
