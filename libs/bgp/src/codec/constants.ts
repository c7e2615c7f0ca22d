/**
 * Wire constants: header layout, attribute and capability codes, and the
 * NOTIFICATION code/subcode registry with human-readable names.
 */

/** Fixed header: 16-byte marker, 2-byte length, 1-byte type (RFC 4271 §4.1). */
export const MARKER_LENGTH = 16;
export const HEADER_LENGTH = 19;
/** Maximum message size without / with the extended message capability (RFC 8654). */
export const MAX_MESSAGE_LENGTH = 4096;
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;

/** Minimum whole-message lengths per type (RFC 4271 §4.2-4.5, RFC 2918). */
export const MIN_OPEN_LENGTH = 29;
export const MIN_UPDATE_LENGTH = 23;
export const MIN_NOTIFICATION_LENGTH = 21;
export const KEEPALIVE_LENGTH = 19;
export const ROUTE_REFRESH_LENGTH = 23;

export const BGP_VERSION = 4;
/** The 2-octet AS placeholder for 4-octet ASNs (RFC 6793). */
export const AS_TRANS = 23456;

/** Path attribute flag bits (RFC 4271 §4.3). */
export const AttrFlag = {
  Optional: 0x80,
  Transitive: 0x40,
  Partial: 0x20,
  ExtendedLength: 0x10,
} as const;

/** Path attribute type codes the codec understands. */
export const AttrType = {
  Origin: 1,
  AsPath: 2,
  NextHop: 3,
  Med: 4,
  LocalPref: 5,
  AtomicAggregate: 6,
  Aggregator: 7,
  Communities: 8,
  MpReachNlri: 14,
  MpUnreachNlri: 15,
  As4Path: 17,
  As4Aggregator: 18,
  LargeCommunities: 32,
} as const;

/** AS_PATH segment types (RFC 4271, RFC 5065). */
export const AsPathSegmentType = { Set: 1, Sequence: 2, ConfedSequence: 3, ConfedSet: 4 } as const;

/** Capability codes (IANA "Capability Codes"). */
export const CapabilityCode = {
  Multiprotocol: 1,
  RouteRefresh: 2,
  ExtendedMessage: 6,
  GracefulRestart: 64,
  FourOctetAs: 65,
} as const;

/** OPEN optional parameter types: only Capabilities is defined today (RFC 5492); 255 marks RFC 9072 extended lengths. */
export const OptionalParameterType = { Capabilities: 2, ExtendedLength: 255 } as const;

/** NOTIFICATION error codes (RFC 4271 §4.5, RFC 7313). */
export const NotificationCode = {
  MessageHeaderError: 1,
  OpenMessageError: 2,
  UpdateMessageError: 3,
  HoldTimerExpired: 4,
  FsmError: 5,
  Cease: 6,
  RouteRefreshMessageError: 7,
} as const;
export type NotificationCode = (typeof NotificationCode)[keyof typeof NotificationCode];

/** Subcode 0 means "unspecific" for every code. */
export const UNSPECIFIC_SUBCODE = 0;

/** Message Header Error subcodes (RFC 4271 §6.1). */
export const MessageHeaderErrorSubcode = {
  ConnectionNotSynchronized: 1,
  BadMessageLength: 2,
  BadMessageType: 3,
} as const;

/** OPEN Message Error subcodes (RFC 4271 §6.2, RFC 5492, RFC 9234). */
export const OpenMessageErrorSubcode = {
  UnsupportedVersionNumber: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  /** Deprecated (Authentication Failure in RFC 1771). */
  AuthenticationFailure: 5,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
  RoleMismatch: 11,
} as const;

/** UPDATE Message Error subcodes (RFC 4271 §6.3). */
export const UpdateMessageErrorSubcode = {
  MalformedAttributeList: 1,
  UnrecognizedWellKnownAttribute: 2,
  MissingWellKnownAttribute: 3,
  AttributeFlagsError: 4,
  AttributeLengthError: 5,
  InvalidOriginAttribute: 6,
  /** Deprecated (AS Routing Loop in RFC 1771). */
  AsRoutingLoop: 7,
  InvalidNextHopAttribute: 8,
  OptionalAttributeError: 9,
  InvalidNetworkField: 10,
  MalformedAsPath: 11,
} as const;

/** Finite State Machine Error subcodes (RFC 6608). */
export const FsmErrorSubcode = {
  Unspecified: 0,
  UnexpectedMessageInOpenSent: 1,
  UnexpectedMessageInOpenConfirm: 2,
  UnexpectedMessageInEstablished: 3,
} as const;

/** Cease subcodes (RFC 4486, RFC 8538, RFC 9384). */
export const CeaseSubcode = {
  MaximumNumberOfPrefixesReached: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
  HardReset: 9,
  BfdDown: 10,
} as const;

/** ROUTE-REFRESH Message Error subcodes (RFC 7313). */
export const RouteRefreshErrorSubcode = {
  InvalidMessageLength: 1,
} as const;

const CODE_NAMES: Record<number, string> = {
  1: "Message Header Error",
  2: "OPEN Message Error",
  3: "UPDATE Message Error",
  4: "Hold Timer Expired",
  5: "Finite State Machine Error",
  6: "Cease",
  7: "ROUTE-REFRESH Message Error",
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: "Connection Not Synchronized", 2: "Bad Message Length", 3: "Bad Message Type" },
  2: {
    1: "Unsupported Version Number",
    2: "Bad Peer AS",
    3: "Bad BGP Identifier",
    4: "Unsupported Optional Parameter",
    5: "Authentication Failure (deprecated)",
    6: "Unacceptable Hold Time",
    7: "Unsupported Capability",
    11: "Role Mismatch",
  },
  3: {
    1: "Malformed Attribute List",
    2: "Unrecognized Well-known Attribute",
    3: "Missing Well-known Attribute",
    4: "Attribute Flags Error",
    5: "Attribute Length Error",
    6: "Invalid ORIGIN Attribute",
    7: "AS Routing Loop (deprecated)",
    8: "Invalid NEXT_HOP Attribute",
    9: "Optional Attribute Error",
    10: "Invalid Network Field",
    11: "Malformed AS_PATH",
  },
  5: {
    1: "Receive Unexpected Message in OpenSent State",
    2: "Receive Unexpected Message in OpenConfirm State",
    3: "Receive Unexpected Message in Established State",
  },
  6: {
    1: "Maximum Number of Prefixes Reached",
    2: "Administrative Shutdown",
    3: "Peer De-configured",
    4: "Administrative Reset",
    5: "Connection Rejected",
    6: "Other Configuration Change",
    7: "Connection Collision Resolution",
    8: "Out of Resources",
    9: "Hard Reset",
    10: "BFD Down",
  },
  7: { 1: "Invalid Message Length" },
};

/** "Cease / Administrative Shutdown" — for logs, events and the CLI; never throws on unknown values. */
export function describeNotification(code: number, subcode: number): string {
  const codeName = CODE_NAMES[code] ?? `Unknown error code ${code}`;
  if (subcode === UNSPECIFIC_SUBCODE) return `${codeName} / Unspecific`;
  const subName = SUBCODE_NAMES[code]?.[subcode] ?? `subcode ${subcode}`;
  return `${codeName} / ${subName}`;
}
