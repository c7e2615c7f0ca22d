/**
 * The public face of a BGP session: what a speaker (policy) needs from the
 * protocol, and nothing more. Kept small on purpose, like MetalLB's Session:
 * the speaker says which routes it wants; the session owns the FSM, the
 * socket, the Adj-RIBs and the UPDATEs.
 */
import type { IntentRoute } from "../rib/policy.js";

/** FSM states (RFC 4271 §8.2.2). */
export type SessionStateName = "Idle" | "Connect" | "Active" | "OpenSent" | "OpenConfirm" | "Established";

export interface SessionOptions {
  /** Peer address (IPv4 or IPv6). */
  peerAddress: string;
  /** Peer TCP port; default 179. */
  peerPort?: number;
  peerAsn: number;
  localAsn: number;
  /** BGP identifier, dotted quad. */
  routerId: string;
  /** Local address to bind (and the next hop for next-hop-self when it is of the route's family). */
  localAddress?: string;
  /** Proposed hold time in seconds; default 90; 0 disables keepalives; 1-2 are rejected. */
  holdTime?: number;
  /** Keepalive interval in seconds; default holdTime / 3. */
  keepaliveTime?: number;
  /** Seconds between connection attempts; default 5 (RFC 4271 suggests 120; we converge faster). */
  connectRetryTime?: number;
  /** TCP connect timeout in ms; default 5000. */
  connectTimeoutMs?: number;
  /** Graceful restart capability (RFC 4724); restartTime default 120. */
  gracefulRestart?: { enabled: boolean; restartTime?: number };
  /**
   * Set after our own restart: advertise the R bit so the peer keeps our
   * routes as stale until we send End-of-RIB.
   */
  restarting?: boolean;
  /** Do not dial; wait for the peer (accepted connections come through `acceptConnection`). */
  passive?: boolean;
  /**
   * TCP-MD5 password (RFC 2385, at most 80 bytes). Connections to and from
   * the peer are signed with it; without the TCP-MD5 addon the session does
   * not start (it never connects unsigned). Never logged or reported.
   */
  password?: string;
  /** GTSM (RFC 5082): send with TTL 255 and accept only TTL ≥ 256 − this (1..255); 0 disables. Needs the native addon (gtsm.ts). */
  ttlSecurity?: number;
  /** Keep received routes (Adj-RIB-In); default true. */
  keepAdjRibIn?: boolean;
  /** Address families to negotiate; default: the peer address's family, plus the other when a local address of that family is known. */
  families?: Array<"ipv4" | "ipv6">;
  /** IPv6 next hop for next-hop-self over an IPv4 session (and vice versa). */
  nextHopIpv4?: string;
  nextHopIpv6?: string;
}

/** A route the speaker wants advertised (from the intent): the policy input. */
export type OutRoute = IntentRoute;

/** A route as held in a RIB, for queries. */
export interface RibEntry {
  prefix: string;
  nextHop: string;
  asPath: number[];
  origin: "igp" | "egp" | "incomplete";
  med?: number;
  localPref?: number;
  communities: string[];
  largeCommunities: string[];
  stale: boolean;
}

export interface MessageCounts {
  opens: number;
  updates: number;
  notifications: number;
  keepalives: number;
  routeRefreshes: number;
}

export interface SessionStatus {
  peerAddress: string;
  peerPort: number;
  peerAsn: number;
  localAsn: number;
  state: SessionStateName;
  /** ms since epoch of the last state change. */
  stateSince: number;
  localAddress?: string;
  lastError?: string;
  negotiatedHoldTime?: number;
  /** e.g. "ipv4-unicast", "ipv6-unicast", "4-octet-as", "route-refresh", "graceful-restart", "extended-message". */
  capabilities: string[];
  peerRouterId?: string;
  sent: MessageCounts;
  received: MessageCounts;
  prefixesSent: number;
  prefixesReceived: number;
}

export type SessionEvent =
  | { type: "state"; from: SessionStateName; to: SessionStateName; reason?: string }
  | { type: "route"; table: "adj-in" | "adj-out"; entry: RibEntry; withdrawn: boolean };

/** What a listener subscribes to; state events always. */
export interface SessionListenOptions {
  /**
   * Route events (Adj-RIB-In/Out changes), default true. Building them costs an
   * object and the prefix text per route, so a session with no route listener
   * builds none: subscribe with `routes: false` unless they are consumed.
   */
  routes?: boolean;
}

/** How a session ends. */
export type StopMode =
  /** Close the socket without a NOTIFICATION, so a graceful-restart peer keeps our routes. */
  | "graceful-restart"
  /** Send Cease / Administrative Shutdown (with an RFC 8203 message). */
  | "admin-shutdown";

export interface BgpSession {
  readonly options: Readonly<SessionOptions>;
  start(): void;
  /** Stops the session; for "graceful-restart" falls back to admin-shutdown when GR was not negotiated. */
  stop(mode: StopMode, message?: string): Promise<void>;
  /** Incremental change to the wanted routes. Sends only what differs from what the peer has. */
  updateRoutes(upserts: OutRoute[], withdrawals: string[]): void;
  /** Replaces the whole wanted set (sends only the difference). */
  setRoutes(routes: OutRoute[]): void;
  status(): SessionStatus;
  /** Routes received (Adj-RIB-In), sorted by prefix. */
  adjRibIn(): Iterable<RibEntry>;
  /** Routes sent (Adj-RIB-Out), sorted by prefix. */
  adjRibOut(): Iterable<RibEntry>;
  /** Sends ROUTE-REFRESH to the peer (if negotiated). */
  requestRefresh(): void;
  /** Subscribes to state events, and route events unless `options.routes` is false; returns the unsubscribe. */
  on(listener: (event: SessionEvent) => void, options?: SessionListenOptions): () => void;
}
