/**
 * The FSM's vocabulary: states, input events and output actions (RFC 4271
 * §8.1), plus its configuration and the negotiated result of an OPEN
 * exchange. Event names follow the RFC so that the tests can be read against
 * §8.2.2 line by line.
 */
import type {
  AfiSafi,
  CodecContext,
  Capability,
  GracefulRestartCapability,
  NotificationMessage,
  OpenMessage,
  RouteRefreshMessage,
  UpdateMessage,
} from "../codec/types.js";

export const State = {
  Idle: "Idle",
  Connect: "Connect",
  Active: "Active",
  OpenSent: "OpenSent",
  OpenConfirm: "OpenConfirm",
  Established: "Established",
} as const;
export type State = (typeof State)[keyof typeof State];

/**
 * A NOTIFICATION to send, or an error the codec found. Structurally the same
 * as the codec's BgpError, so a decode error can be passed straight through.
 */
export interface NotificationError {
  code: number;
  subcode: number;
  data?: Uint8Array;
}

/** What the connection pair compares during collision resolution (RFC 6286). */
export interface PeerIdentity {
  /** BGP identifier, dotted quad. */
  routerId: string;
  /** The real (4-octet when negotiated) AS number. */
  asn: number;
}

/** Input events (RFC 4271 §8.1.2-8.1.5). Numbers are the RFC's event numbers. */
export type FsmEvent =
  | { type: "ManualStart" } // 1
  | { type: "ManualStop"; shutdownMessage?: string } // 2; RFC 8203 message in the Cease data
  | { type: "AutomaticStart" } // 3
  | { type: "ManualStart_with_PassiveTcpEstablishment" } // 4
  | { type: "AutomaticStart_with_PassiveTcpEstablishment" } // 5
  | { type: "AutomaticStop"; subcode?: number; reason?: string } // 8; e.g. max-prefix (Cease subcode 1)
  | { type: "ConnectRetryTimer_Expires" } // 9
  | { type: "HoldTimer_Expires" } // 10
  | { type: "KeepaliveTimer_Expires" } // 11
  | { type: "IdleHoldTimer_Expires" } // 13
  | { type: "TcpConnection_Valid" } // 14
  | { type: "Tcp_CR_Invalid" } // 15
  | { type: "Tcp_CR_Acked" } // 16: our outbound connection completed
  | { type: "TcpConnectionConfirmed" } // 17: an inbound connection was accepted for this FSM
  | { type: "TcpConnectionFails" } // 18
  | { type: "BGPOpen"; message: OpenMessage } // 19
  | { type: "BGPHeaderErr"; error: NotificationError } // 21
  | { type: "BGPOpenMsgErr"; error: NotificationError } // 22
  | { type: "OpenCollisionDump" } // 23
  | { type: "NotifMsgVerErr"; message: NotificationMessage } // 24
  | { type: "NotifMsg"; message: NotificationMessage } // 25
  | { type: "KeepAliveMsg" } // 26
  | { type: "UpdateMsg"; message: UpdateMessage; action?: "treat-as-withdraw" | "attribute-discard" } // 27
  | { type: "UpdateMsgErr"; error: NotificationError } // 28
  | { type: "RouteRefresh"; message: RouteRefreshMessage }; // RFC 2918

export type FsmEventType = FsmEvent["type"];

/** Why the session went down, as reported in SessionDown. */
export interface SessionDownInfo {
  reason: string;
  /** The NOTIFICATION we sent before closing, if any. */
  notificationSent?: NotificationError;
  /** The NOTIFICATION the peer sent, if that is why. */
  notificationReceived?: NotificationMessage;
}

/**
 * Output actions. The FSM owns its timers (through the Clock), so there are no
 * timer actions: the session only performs I/O and reports.
 */
export type FsmAction =
  /** Open an outbound TCP connection to the peer; report Tcp_CR_Acked or TcpConnectionFails. */
  | { type: "Connect" }
  /** Close this FSM's TCP connection (after flushing a queued NOTIFICATION), or abandon a dial in progress. */
  | { type: "DropConnection" }
  | { type: "SendOpen"; message: OpenMessage }
  | { type: "SendKeepalive" }
  | { type: "SendNotification"; code: number; subcode: number; data: Uint8Array }
  | { type: "StateChanged"; from: State; to: State; reason: string }
  | { type: "SessionEstablished"; session: NegotiatedSession }
  | ({ type: "SessionDown" } & SessionDownInfo)
  | { type: "DeliverUpdate"; message: UpdateMessage; treatAsWithdraw: boolean }
  | { type: "DeliverRouteRefresh"; afi: number; safi: number };

export type FsmActionType = FsmAction["type"];

/** Receives actions produced outside `handle()` (timer expiries). */
export type ActionSink = (actions: FsmAction[]) => void;

export interface GracefulRestartConfig {
  /** Seconds the peer should keep our routes while we restart (12 bits, ≤ 4095). */
  restartTime: number;
  /** R bit: set in the OPENs sent until the first session is Established after a restart. */
  restarting?: boolean;
  /** N bit (RFC 8538). */
  notification?: boolean;
  /** F bit for every advertised family: whether forwarding state survives our restart. */
  forwardingPreserved?: boolean;
}

export interface IdleHoldConfig {
  /** First delay after an error (default 1 s). */
  initialMs?: number;
  /** Ceiling of the doubling (default 60 s). */
  maxMs?: number;
  /** An Established period at least this long resets the backoff (default 60 s). */
  stableMs?: number;
}

export interface FsmConfig {
  localAsn: number;
  /** Our BGP identifier, dotted quad. */
  routerId: string;
  /** The AS we expect the peer to be in. */
  peerAsn: number;
  /** Seconds; default 90. 0 disables keepalives and the hold timer; otherwise at least 3. */
  holdTime?: number;
  /** Seconds; default a third of the negotiated hold time, and never more than that. */
  keepaliveTime?: number;
  /** Seconds; default 30. */
  connectRetryTime?: number;
  /** Never dial: wait for the peer to connect. */
  passive?: boolean;
  /** Families advertised in the multiprotocol capability; default IPv4 unicast. */
  families?: AfiSafi[];
  /** Advertise route refresh (default true). */
  routeRefresh?: boolean;
  /** Advertise the extended message capability (default true). */
  extendedMessage?: boolean;
  /** Advertise graceful restart; absent/null means not advertised. */
  gracefulRestart?: GracefulRestartConfig | null;
  /** Restart by itself after an error, following the idle-hold backoff (default true). */
  automaticStart?: boolean;
  idleHold?: IdleHoldConfig;
  /** Source of jitter in [0, 1); default Math.random. Tests pass () => 0. */
  random?: () => number;
}

/** The outcome of the OPEN exchange, reported in SessionEstablished. */
export interface NegotiatedSession {
  localAsn: number;
  peerAsn: number;
  localRouterId: string;
  peerRouterId: string;
  ibgp: boolean;
  /** Seconds; 0 means no keepalives and no hold timer. */
  holdTime: number;
  /** Seconds; 0 when holdTime is 0. */
  keepaliveTime: number;
  /** AFI/SAFI pairs both sides advertised (IPv4 unicast implied when a side sent no multiprotocol capability). */
  families: AfiSafi[];
  fourOctetAs: boolean;
  routeRefresh: boolean;
  extendedMessage: boolean;
  /** Both sides advertised graceful restart. */
  gracefulRestart: boolean;
  /** The peer's graceful restart capability (restart time, R/N flags, per-family F bits), if it sent one. */
  peerGracefulRestart: GracefulRestartCapability | null;
  /** What the codec needs for this session. */
  codec: CodecContext;
  /** The OPENs as exchanged, for display and debugging. */
  localOpen: OpenMessage;
  peerOpen: OpenMessage;
  /** Capabilities the peer sent (including unknown ones). */
  peerCapabilities: Capability[];
}
