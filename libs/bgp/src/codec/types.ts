/**
 * The decoded forms of BGP-4 messages (RFC 4271 and extensions). The codec
 * turns bytes into these and back; the FSM and session never see bytes.
 *
 * Prefixes are canonical CIDR strings ("10.0.0.0/8", "2001:db8::/32"); the
 * codec owns the conversion to and from wire form.
 */

/** Message type codes (RFC 4271 §4.1, RFC 2918). */
export const MessageType = {
  Open: 1,
  Update: 2,
  Notification: 3,
  Keepalive: 4,
  RouteRefresh: 5,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Address family identifiers (IANA). */
export const Afi = { Ipv4: 1, Ipv6: 2 } as const;
export type Afi = (typeof Afi)[keyof typeof Afi];

/** Subsequent address family identifiers (IANA). */
export const Safi = { Unicast: 1 } as const;
export type Safi = (typeof Safi)[keyof typeof Safi];

export interface AfiSafi {
  afi: number;
  safi: number;
}

/** Graceful restart capability (RFC 4724, with the RFC 8538 N bit). */
export interface GracefulRestartCapability {
  restarting: boolean; // R bit
  notification: boolean; // N bit (RFC 8538)
  restartTime: number; // seconds, 12 bits
  families: Array<AfiSafi & { forwardingPreserved: boolean }>;
}

/** Capabilities (RFC 5492). Unknown ones are kept as raw bytes. */
export type Capability =
  | { code: 1; kind: "multiprotocol"; afi: number; safi: number }
  | { code: 2; kind: "route-refresh" }
  | { code: 6; kind: "extended-message" }
  | { code: 64; kind: "graceful-restart"; value: GracefulRestartCapability }
  | { code: 65; kind: "four-octet-as"; asn: number }
  | { code: number; kind: "unknown"; data: Uint8Array };

export interface OpenMessage {
  type: typeof MessageType.Open;
  version: number; // always 4 when encoding
  /** The 2-octet "My Autonomous System" field as sent (AS_TRANS 23456 for 4-octet ASNs). */
  myAsn: number;
  holdTime: number;
  /** BGP identifier, dotted quad. */
  routerId: string;
  capabilities: Capability[];
}

/** ORIGIN values. */
export const Origin = { Igp: 0, Egp: 1, Incomplete: 2 } as const;
export type Origin = (typeof Origin)[keyof typeof Origin];

export interface AsPathSegment {
  /** 1 AS_SET, 2 AS_SEQUENCE, 3 AS_CONFED_SEQUENCE, 4 AS_CONFED_SET */
  type: 1 | 2 | 3 | 4;
  asns: number[];
}

/** An attribute the codec does not interpret, carried as is (optional transitive ones get the Partial bit when forwarded). */
export interface RawAttribute {
  flags: number;
  typeCode: number;
  data: Uint8Array;
}

/** Path attributes of an UPDATE. Absent fields were not present on the wire. */
export interface PathAttributes {
  origin?: Origin;
  /** Always in 4-octet form after decoding (AS4_PATH merged per RFC 6793). */
  asPath?: AsPathSegment[];
  nextHop?: string; // IPv4 NEXT_HOP
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: string };
  /** RFC 1997 communities as 32-bit values. */
  communities?: number[];
  /** RFC 8092 large communities. */
  largeCommunities?: Array<[number, number, number]>;
  /** MP_REACH_NLRI (RFC 4760). nextHops holds one (global) or two (global, link-local) addresses. */
  mpReach?: { afi: number; safi: number; nextHops: string[]; nlri: string[] };
  /** MP_UNREACH_NLRI (RFC 4760). */
  mpUnreach?: { afi: number; safi: number; withdrawn: string[] };
  /**
   * Unknown optional attributes, kept in wire order with their flags as received —
   * non-transitive ones included, so whoever forwards routes must drop those.
   */
  unknown?: RawAttribute[];
}

export interface UpdateMessage {
  type: typeof MessageType.Update;
  /** IPv4 withdrawn routes. */
  withdrawn: string[];
  attributes: PathAttributes;
  /** IPv4 NLRI. */
  nlri: string[];
}

export interface NotificationMessage {
  type: typeof MessageType.Notification;
  code: number;
  subcode: number;
  data: Uint8Array;
}

export interface KeepaliveMessage {
  type: typeof MessageType.Keepalive;
}

export interface RouteRefreshMessage {
  type: typeof MessageType.RouteRefresh;
  afi: number;
  safi: number;
  /** RFC 7313 message subtype (1 BoRR, 2 EoRR); absent means 0, a plain RFC 2918 request. */
  subtype?: number;
}

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** What the peer negotiated, which changes how some messages are encoded. */
export interface CodecContext {
  /** Both sides sent the 4-octet AS capability: AS_PATH carries 4-octet ASNs. */
  fourOctetAs: boolean;
  /** Both sides sent the extended message capability: up to 65535 bytes (RFC 8654). */
  extendedMessage: boolean;
}

export const DEFAULT_CODEC_CONTEXT: CodecContext = { fourOctetAs: false, extendedMessage: false };
