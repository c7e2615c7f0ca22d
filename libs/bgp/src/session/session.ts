/**
 * A BGP session with one peer: binds the FSM (through ConnectionPair, which
 * resolves connection collisions) to TCP sockets, and the Adj-RIBs to the
 * routes the speaker wants. The speaker only says which routes it wants; the
 * session decides what to send and when.
 */
import { connect as netConnect, isIPv6, Socket } from "node:net";
import { endOfRib, endOfRibFamily } from "../codec/update.js";
import { packIpv4Updates, packUpdates } from "../codec/pack.js";
import { describeNotification } from "../codec/constants.js";
import { decodeShutdownMessage } from "../codec/notification.js";
import { Afi, MessageType, Safi, type AfiSafi, type NotificationMessage, type UpdateMessage } from "../codec/types.js";
import { ConnectionPair } from "../fsm/collision.js";
import { systemClock, type Clock, type TimerHandle } from "../fsm/clock.js";
import { eventFromDecoded } from "../fsm/events.js";

import type { FsmAction, FsmConfig, NegotiatedSession, NotificationError } from "../fsm/types.js";
import { AdjRibIn } from "../rib/adj-rib-in.js";
import { AdjRibOut, keyedGroupPrefixes, type KeyedGroup } from "../rib/adj-rib-out.js";
import { buildKeyedBatch, type SessionFacts } from "../rib/policy.js";
import { WantedRoutes } from "../rib/wanted-routes.js";
import { Connection, emptyCounts } from "./connection.js";
import { ribEntry } from "./rib-entry.js";
import { gtsmRefusal, setSocketTtlSecurity, setTtlSecurity, GTSM_OFF } from "./gtsm.js";
import { createConfiguredSocket, invalidTcpMd5Key, setTcpMd5Key, tcpMd5Unavailable } from "./tcp-md5.js";
import type { BgpSession, OutRoute, RibEntry, SessionEvent, SessionListenOptions, SessionOptions, SessionStateName, SessionStatus, StopMode } from "./types.js";

const DEFAULT_PORT = 179;
const DEFAULT_CONNECT_RETRY_TIME = 5;
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/**
 * Connected but no OPEN from the peer for this long: status says so. A peer
 * whose segments our GTSM filter drops (or whose TCP-MD5 key is only on our
 * side of an accepted handshake) leaves the session in OpenSent until the
 * hold timer's 4 minutes run out, with nothing else to show why.
 */
const OPEN_WAIT_HINT_MS = 10_000;
const DEFAULT_RESTART_TIME = 120;
/** A received chunk at least this large makes the session yield to the event loop before reading on (see bind). */
const YIELD_AFTER_BYTES = 16 * 1024;
/** How long stop() waits for a NOTIFICATION to be flushed before giving up on the socket. */
const STOP_FLUSH_MS = 1000;
/** Routes per slice when advertising or withdrawing many (see advertise): ~20 full UPDATEs of /32s. */
export const ANNOUNCE_SLICE_ROUTES = 8192;
/** `items` (an array, or a typed array of keys) in runs of ANNOUNCE_SLICE_ROUTES (itself when it is no longer). */
function* slices<T extends { readonly length: number; slice(start: number, end: number): T }>(items: T): Generator<T> {
  if (items.length <= ANNOUNCE_SLICE_ROUTES) {
    if (items.length) yield items;
    return;
  }
  for (let from = 0; from < items.length; from += ANNOUNCE_SLICE_ROUTES) yield items.slice(from, from + ANNOUNCE_SLICE_ROUTES);
}

const NO_KEYS = new Float64Array(0);

/** pino-compatible. */
export interface SessionLogger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

const silent: SessionLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface SessionDeps {
  logger?: SessionLogger;
  clock?: Clock;
  /** Dials the peer (signing the connection with `password`, TCP-MD5; GTSM with `ttlSecurity`); tests may substitute. */
  dial?: (options: DialOptions) => Socket;
  /** Why TCP-MD5 is unavailable, or undefined when it is available; default: whether the addon loads. */
  tcpMd5Unavailable?: () => string | undefined;
  /** Why GTSM is unavailable, or undefined when it is available; default: whether the addon loads (and has GTSM). */
  gtsmUnavailable?: () => string | undefined;
}

export interface DialOptions {
  host: string;
  port: number;
  localAddress?: string;
  /** TCP-MD5 key (RFC 2385) for the connection. */
  password?: string;
  /** GTSM (RFC 5082) hop count for the connection; 0 or absent: off. */
  ttlSecurity?: number;
}

/**
 * The default dialler: net.connect; with a password or ttlSecurity, a socket
 * from the addon that has its TCP-MD5 key and GTSM TTLs before net connects
 * it (so the SYN is signed and sent with TTL 255, and the SYN-ACK is checked).
 */
export function dialPeer(o: DialOptions): Socket {
  const family = isIPv6(o.host) ? 6 : 4;
  const target = { host: o.host, port: o.port, localAddress: o.localAddress, family };
  if (!o.password && !o.ttlSecurity) return netConnect(target);
  const socket = createConfiguredSocket(family, (fd) => {
    if (o.password) setTcpMd5Key(fd, o.host, o.password);
    if (o.ttlSecurity) setTtlSecurity(fd, o.host, o.ttlSecurity);
  });
  return socket.connect(target);
}

/** Why a session with these options cannot use TCP-MD5 (they have a password), or undefined. Never contains the password. */
export function tcpMd5Refusal(options: Pick<SessionOptions, "password">, unavailable: () => string | undefined = tcpMd5Unavailable): string | undefined {
  if (!options.password) return undefined;
  const invalid = invalidTcpMd5Key(options.password);
  if (invalid) return `${invalid}; the session is not started`;
  const reason = unavailable();
  return reason === undefined ? undefined : `TCP-MD5 unavailable: ${reason}; the session is not started (a peer with a password is never connected without it)`;
}

function familyName(afi: number): "ipv4" | "ipv6" {
  return afi === Afi.Ipv6 ? "ipv6" : "ipv4";
}

function describeNotificationError(n: NotificationError | NotificationMessage, direction: "sent" | "received"): string {
  const text = describeNotification(n.code, n.subcode);
  const shutdown = "type" in n ? decodeShutdownMessage(n) : undefined;
  return `NOTIFICATION ${direction}: ${text}${shutdown ? ` ("${shutdown}")` : ""}`;
}

export class Session implements BgpSession {
  private readonly pair: ConnectionPair;
  private readonly connections = new Map<number, Connection>();
  private readonly dials = new Map<number, Socket>();
  /** Every listener gets state events; route events go only to those that asked for them. */
  private readonly listeners = new Set<(event: SessionEvent) => void>();
  private readonly routeListeners = new Set<(event: SessionEvent) => void>();
  private readonly wanted = new WantedRoutes();
  private readonly adjOut = new AdjRibOut();
  private readonly adjIn = new AdjRibIn();
  private readonly sent = emptyCounts();
  private readonly received = emptyCounts();
  private readonly log: SessionLogger;
  private readonly clock: Clock;
  private readonly families: AfiSafi[];
  private negotiated: NegotiatedSession | null = null;
  private establishedId: number | null = null;
  private facts: SessionFacts | null = null;
  private lastState: SessionStateName = "Idle";
  private stateSince = Date.now();
  private lastError: string | undefined;
  private staleTimer: TimerHandle | undefined;
  private stopped = false;
  private refused: string | undefined;

  constructor(
    readonly options: Readonly<SessionOptions>,
    private readonly deps: SessionDeps = {},
  ) {
    this.log = deps.logger ?? silent;
    this.clock = deps.clock ?? systemClock;
    this.families = this.chooseFamilies();
    const config: FsmConfig = {
      localAsn: options.localAsn,
      routerId: options.routerId,
      peerAsn: options.peerAsn,
      holdTime: options.holdTime ?? 90,
      connectRetryTime: options.connectRetryTime ?? DEFAULT_CONNECT_RETRY_TIME,
      passive: options.passive ?? false,
      families: this.families,
      gracefulRestart: options.gracefulRestart?.enabled
        ? { restartTime: options.gracefulRestart.restartTime ?? DEFAULT_RESTART_TIME, restarting: options.restarting ?? false, forwardingPreserved: true, notification: false }
        : null,
    };
    if (options.keepaliveTime) config.keepaliveTime = options.keepaliveTime;
    this.refused = gtsmRefusal(options, deps.gtsmUnavailable) ?? tcpMd5Refusal(options, deps.tcpMd5Unavailable);
    this.pair = new ConnectionPair(config, this.clock, (id, actions) => this.perform(id, actions));
  }

  start(): void {
    if (this.refused) {
      this.lastError = this.refused;
      this.log.error({ peer: this.options.peerAddress }, this.refused);
      return;
    }
    this.pair.start(this.options.passive ?? false);
  }

  async stop(mode: StopMode, message = "svcbgp speaker shutting down"): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clearStaleTimer();
    const established = this.establishedId !== null ? this.connections.get(this.establishedId) : undefined;
    if (mode === "graceful-restart" && established && this.negotiated?.gracefulRestart) {
      // RFC 4724: going away without a NOTIFICATION tells the peer to keep our routes as stale.
      this.log.info({ peer: this.options.peerAddress }, "closing without NOTIFICATION so the peer keeps our routes (graceful restart)");
      for (const connection of this.connections.values()) connection.abort();
      this.pair.dispose();
      this.abortDials();
      return;
    }
    const closing = [...this.connections.values()].map((c) => new Promise<void>((resolve) => (c.socket.destroyed ? resolve() : c.socket.once("close", () => resolve()))));
    this.pair.stop(message);
    this.abortDials();
    await Promise.race([Promise.all(closing), new Promise((resolve) => setTimeout(resolve, STOP_FLUSH_MS).unref())]);
    for (const connection of this.connections.values()) connection.abort();
    this.pair.dispose();
  }

  /** Hands an accepted inbound connection from this peer to the session; false if refused (the caller closes it). */
  acceptConnection(socket: Socket): boolean {
    if (this.stopped || this.refused) return false;
    const hops = this.options.ttlSecurity;
    if (hops) {
      // GTSM from here on. The SYN, the handshake's ACK and whatever arrived
      // before this call were not filtered (the listener's minimum TTL, when
      // it has one, was): BIRD does the same. The OPEN is read after this.
      try {
        setSocketTtlSecurity(socket, this.options.peerAddress, hops);
      } catch (err) {
        this.lastError = `GTSM not set on the connection from ${this.options.peerAddress}: ${(err as Error).message}; connection refused`;
        this.log.error({ peer: this.options.peerAddress }, this.lastError);
        return false;
      }
    }
    const id = this.pair.incoming();
    if (id === null) {
      // Refused: the listener may offer the socket to another session, which must not inherit this one's filter.
      if (hops) this.undoTtlSecurity(socket);
      return false;
    }
    this.bind(id, socket);
    this.pair.handle(id, { type: "TcpConnectionConfirmed" });
    return true;
  }

  updateRoutes(upserts: OutRoute[], withdrawals: string[]): void {
    // Work goes slice by slice (see advertise), so the peer starts on the first UPDATEs while the rest are built.
    if (upserts.length === 0) {
      for (const slice of slices(withdrawals)) {
        const keys = this.wanted.withdraw(slice);
        if (this.facts) this.sendGroups(this.adjOut.withdrawKeys(keys));
      }
      return;
    }
    const withdrawn = this.wanted.withdraw(withdrawals);
    this.wanted.reserve(upserts.length);
    if (this.facts) this.adjOut.reserve(upserts.length);
    for (const slice of slices(upserts)) {
      this.wanted.upsert(slice);
      this.advertise(slice);
    }
    if (!this.facts) return;
    // Announcements before withdrawals (make before break). A withdrawal of a
    // prefix upserted in the same call is superseded by it: wanted again now.
    const gone4 = withdrawn.ipv4.filter((key) => !this.wanted.has(key));
    const gone6 = withdrawn.ipv6.filter((key) => !this.wanted.has(key));
    for (const slice of slices(gone4)) this.sendGroups(this.adjOut.withdrawKeys({ ipv4: slice, ipv6: [] }));
    this.sendGroups(this.adjOut.withdrawKeys({ ipv4: NO_KEYS, ipv6: gone6 }));
  }

  setRoutes(routes: OutRoute[]): void {
    this.updateRoutes(routes, this.wanted.missingFrom(routes));
  }

  status(): SessionStatus {
    const n = this.negotiated;
    const connection = this.establishedId !== null ? this.connections.get(this.establishedId) : [...this.connections.values()][0];
    const status: SessionStatus = {
      peerAddress: this.options.peerAddress,
      peerPort: this.options.peerPort ?? DEFAULT_PORT,
      peerAsn: this.options.peerAsn,
      localAsn: this.options.localAsn,
      state: this.lastState,
      stateSince: this.stateSince,
      capabilities: n ? this.capabilityNames(n) : [],
      sent: { ...this.sent },
      received: { ...this.received },
      prefixesSent: this.facts ? this.adjOut.count() : 0,
      prefixesReceived: this.adjIn.count(),
    };
    if (connection?.socket.localAddress) status.localAddress = connection.socket.localAddress;
    if (this.lastError) status.lastError = this.lastError;
    const waited = Date.now() - this.stateSince;
    if (!this.lastError && this.lastState === "OpenSent" && waited >= OPEN_WAIT_HINT_MS) {
      status.lastError = `connected, but no OPEN from the peer in ${Math.floor(waited / 1000)} s${this.noAnswerHint()}`;
    }
    if (n) {
      status.negotiatedHoldTime = n.holdTime;
      status.peerRouterId = n.peerRouterId;
    }
    return status;
  }

  *adjRibIn(): Iterable<RibEntry> {
    for (const entry of this.adjIn.entries()) yield ribEntry(entry.prefix, entry.attributes, entry.stale);
  }

  *adjRibOut(): Iterable<RibEntry> {
    if (!this.facts) return;
    for (const entry of this.adjOut.entries()) yield ribEntry(entry.prefix, entry.attributes);
  }

  requestRefresh(): void {
    const connection = this.establishedConnection();
    if (!connection || !this.negotiated?.routeRefresh) return;
    for (const family of this.negotiated.families) connection.send({ type: MessageType.RouteRefresh, afi: family.afi, safi: family.safi });
  }

  on(listener: (event: SessionEvent) => void, options: SessionListenOptions = {}): () => void {
    const routes = options.routes ?? true;
    this.listeners.add(listener);
    if (routes) this.routeListeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      this.routeListeners.delete(listener);
    };
  }

  // --- FSM actions -------------------------------------------------------

  private perform(id: number, actions: FsmAction[]): void {
    for (const action of actions) {
      switch (action.type) {
        case "Connect":
          this.dial(id);
          break;
        case "DropConnection":
          this.drop(id);
          break;
        case "SendOpen":
          this.connections.get(id)?.send(action.message);
          break;
        case "SendKeepalive":
          this.connections.get(id)?.send({ type: MessageType.Keepalive });
          break;
        case "SendNotification":
          this.lastError = describeNotificationError(action, "sent");
          this.connections.get(id)?.send({ type: MessageType.Notification, code: action.code, subcode: action.subcode, data: action.data });
          break;
        case "StateChanged":
          this.onStateChanged(id, action.from, action.to, action.reason);
          break;
        case "SessionEstablished":
          this.onEstablished(id, action.session);
          break;
        case "SessionDown":
          this.onDown(id, action.reason, action.notificationReceived);
          break;
        case "DeliverUpdate":
          this.onUpdate(action.message, action.treatAsWithdraw);
          break;
        case "DeliverRouteRefresh":
          this.onRouteRefresh(action.afi);
          break;
      }
    }
  }

  private dial(id: number): void {
    const { peerAddress, localAddress, password, ttlSecurity } = this.options;
    const port = this.options.peerPort ?? DEFAULT_PORT;
    const dial = this.deps.dial ?? dialPeer;
    let socket: Socket;
    try {
      const target: DialOptions = { host: peerAddress, port, localAddress };
      if (password) target.password = password;
      if (ttlSecurity) target.ttlSecurity = ttlSecurity;
      socket = dial(target);
    } catch (err) {
      // A socket that could not even be made (EMFILE, a TCP-MD5 key or GTSM option the kernel refused) fails like a connect, after this turn.
      socket = new Socket();
      process.nextTick(() => socket.destroy(err as Error));
    }
    this.dials.set(id, socket);
    const timeout = setTimeout(() => socket.destroy(new Error(`connect timeout${this.noAnswerHint()}`)), this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    const fail = (err: Error) => {
      clearTimeout(timeout);
      if (this.dials.get(id) !== socket) return;
      this.dials.delete(id);
      this.lastError = `connect to ${peerAddress}:${port} failed: ${err.message}`;
      this.log.debug({ peer: peerAddress, err: err.message }, "connect failed");
      this.pair.handle(id, { type: "TcpConnectionFails" });
    };
    socket.once("error", fail);
    socket.once("connect", () => {
      clearTimeout(timeout);
      socket.off("error", fail);
      if (this.dials.get(id) !== socket) {
        socket.destroy();
        return;
      }
      this.dials.delete(id);
      this.bind(id, socket);
      this.pair.handle(id, { type: "Tcp_CR_Acked" });
    });
  }

  private bind(id: number, socket: Socket): void {
    socket.setNoDelay(true);
    const connection = new Connection(socket, this.sent, this.received);
    this.connections.set(id, connection);
    socket.on("data", (chunk: Buffer) => {
      for (const inbound of connection.receive(chunk)) {
        if (this.connections.get(id) !== connection) return;
        if (inbound.kind === "framing-error") {
          this.pair.handle(id, { type: "BGPHeaderErr", error: inbound.error });
          return;
        }
        const event = eventFromDecoded(inbound.result);
        if (event.type === "NotifMsg" || event.type === "NotifMsgVerErr") this.lastError = describeNotificationError(event.message, "received");
        if (!this.pair.handle(id, event)) {
          connection.abort();
          return;
        }
      }
      // libuv hands over up to 32 reads per loop turn: during a flood (a peer sending a full
      // table) that is ~2 MB of UPDATEs processed back to back, holding the event loop — and
      // every keepalive and hold timer — for a second or more. After a large chunk, let the
      // loop turn before reading on; what arrives meanwhile waits in the socket's buffer.
      if (chunk.length >= YIELD_AFTER_BYTES && !socket.isPaused()) {
        socket.pause();
        setImmediate(() => {
          if (!socket.destroyed) socket.resume();
        });
      }
    });
    const lost = (err?: Error) => {
      if (this.connections.get(id) !== connection) return;
      this.connections.delete(id);
      if (err) this.lastError = `connection error: ${err.message}`;
      else if (!connection.closed) this.lastError ??= "connection closed by peer";
      connection.closed = true;
      this.pair.handle(id, { type: "TcpConnectionFails" });
    };
    socket.on("error", (err) => lost(err));
    socket.on("close", () => lost());
  }

  /**
   * A TCP-MD5 or GTSM mismatch is silent (a kernel drops badly signed or
   * unsigned segments, and those below the minimum TTL): a dial just gets no answer.
   */
  private noAnswerHint(): string {
    const hints: string[] = [];
    if (this.options.password) hints.push("TCP-MD5: check that the peer has the same password");
    if (this.options.ttlSecurity) hints.push(`GTSM: check that the peer has TTL security on and is at most ${this.options.ttlSecurity} hop${this.options.ttlSecurity === 1 ? "" : "s"} away`);
    return hints.length ? ` (${hints.join("; ")})` : "";
  }

  /** Takes a refused accepted socket's GTSM off again (or, failing that, closes it). */
  private undoTtlSecurity(socket: Socket): void {
    try {
      setSocketTtlSecurity(socket, this.options.peerAddress, GTSM_OFF);
    } catch {
      socket.destroy();
    }
  }

  private drop(id: number): void {
    const dial = this.dials.get(id);
    if (dial) {
      this.dials.delete(id);
      // The connect retry timer gave up on a dial still unanswered: say so, or the session would show no error at all.
      if (dial.connecting && !this.stopped && this.establishedId === null) {
        this.lastError = `connect to ${this.options.peerAddress}:${this.options.peerPort ?? DEFAULT_PORT}: no answer before the connect retry timer expired${this.noAnswerHint()}`;
      }
      dial.destroy();
    }
    const connection = this.connections.get(id);
    if (connection) {
      this.connections.delete(id);
      connection.close();
    }
  }

  private abortDials(): void {
    for (const socket of this.dials.values()) socket.destroy();
    this.dials.clear();
  }

  private onStateChanged(id: number, from: string, to: string, reason: string): void {
    // Only the primary FSM's view is the session's state; a colliding second connection is an implementation detail.
    if (id !== this.pair.primary.id && to !== "Established") return;
    const next = to as SessionStateName;
    if (next === this.lastState) return;
    const previous = this.lastState;
    this.lastState = next;
    this.stateSince = Date.now();
    this.log.info({ peer: this.options.peerAddress, from: previous, to: next, reason }, `session ${previous} → ${next}`);
    this.emit({ type: "state", from: previous, to: next, reason });
  }

  private onEstablished(id: number, negotiated: NegotiatedSession): void {
    const connection = this.connections.get(id);
    if (!connection) return;
    this.negotiated = negotiated;
    this.establishedId = id;
    this.lastError = undefined;
    connection.setContext(negotiated.codec);
    this.facts = this.sessionFacts(negotiated, connection.socket);
    // A restarted peer re-sends its table; what it does not re-send by End-of-RIB goes.
    this.adjOut.clear();
    this.advertise(this.wanted.values());
    for (const family of negotiated.families) connection.send(endOfRib(family.afi, family.safi));
    this.log.info(
      { peer: this.options.peerAddress, holdTime: negotiated.holdTime, capabilities: this.capabilityNames(negotiated), prefixes: this.adjOut.count() },
      "session established",
    );
  }

  private onDown(id: number, reason: string, notification: NotificationMessage | undefined): void {
    if (id !== this.establishedId) return;
    const negotiated = this.negotiated;
    this.establishedId = null;
    this.facts = null;
    this.lastError ??= reason;
    // RFC 4724: without a NOTIFICATION (or with one under RFC 8538 N bit rules) a GR peer's routes are kept as stale.
    const keepStale = negotiated?.gracefulRestart && negotiated.peerGracefulRestart && !notification && (negotiated.peerGracefulRestart.restartTime ?? 0) > 0;
    if (keepStale && negotiated?.peerGracefulRestart) {
      for (const family of negotiated.families) this.adjIn.markAllStale(family.afi);
      this.clearStaleTimer();
      this.staleTimer = this.clock.setTimeout(() => {
        for (const family of negotiated.families) this.adjIn.sweepStale(family.afi);
      }, negotiated.peerGracefulRestart.restartTime * 1000);
    } else {
      this.adjIn.clear();
    }
  }

  private onUpdate(update: UpdateMessage, treatAsWithdraw: boolean): void {
    const eor = endOfRibFamily(update);
    if (eor) {
      const swept = this.adjIn.sweepStale(eor.afi);
      if (swept) this.log.info({ peer: this.options.peerAddress, swept }, `End-of-RIB ${familyName(eor.afi)}: removed stale routes`);
      return;
    }
    this.adjIn.applyUpdate(update, treatAsWithdraw);
    if (this.routeListeners.size) {
      // Every prefix of one UPDATE shares its attributes: build the entry once, copy it per prefix.
      const withdrawn = [...update.withdrawn, ...(update.attributes.mpUnreach?.withdrawn ?? [])];
      const announced = treatAsWithdraw ? [] : [...update.nlri, ...(update.attributes.mpReach?.nlri ?? [])];
      const gone = ribEntry("", {});
      for (const prefix of withdrawn) this.emitRoute({ type: "route", table: "adj-in", withdrawn: true, entry: { ...gone, prefix } });
      if (announced.length) {
        const entry = ribEntry("", update.attributes);
        for (const prefix of announced) this.emitRoute({ type: "route", table: "adj-in", withdrawn: false, entry: { ...entry, prefix } });
      }
      if (treatAsWithdraw) for (const prefix of [...update.nlri, ...(update.attributes.mpReach?.nlri ?? [])]) this.emitRoute({ type: "route", table: "adj-in", withdrawn: true, entry: { ...gone, prefix } });
    }
  }

  private onRouteRefresh(afi: number): void {
    const connection = this.establishedConnection();
    if (!connection) return;
    this.sendGroups(this.adjOut.fullTableKeyed(afi));
    connection.send(endOfRib(afi, Safi.Unicast));
  }

  // --- sending -------------------------------------------------------------

  /**
   * Sends the routes' announcements in slices of ANNOUNCE_SLICE_ROUTES: the
   * peer starts importing the first UPDATEs (on its own core) while the rest
   * are built, instead of after the whole table is. Each prefix is parsed
   * once per slice; its key goes through the Adj-RIB-Out to the packer.
   */
  private advertise(routes: readonly OutRoute[]): void {
    const facts = this.facts;
    if (!facts) return;
    const families = this.negotiatedAfis();
    // Routes of a family the peer did not negotiate are kept (in wanted) but neither built nor sent.
    const negotiated = families.size < 2 ? routes.filter((r) => families.has(r.prefix.includes(":") ? Afi.Ipv6 : Afi.Ipv4)) : routes;
    for (const slice of slices(negotiated)) {
      const changed = buildKeyedBatch(slice, facts);
      for (const error of changed.errors) this.log.warn({ peer: this.options.peerAddress, prefix: error.prefix }, `route not advertised: ${error.error}`);
      this.sendGroups(this.adjOut.changeKeys(changed, []));
    }
  }

  private sendGroups(groups: KeyedGroup[]): void {
    const connection = this.establishedConnection();
    if (!connection || groups.length === 0) return;
    const ctx = connection.codecContext;
    for (const group of groups) {
      // IPv4 keys go to the packer as they are; IPv6 (rare, and keyed as text) through prefix strings.
      const messages =
        group.afi === Afi.Ipv4
          ? packIpv4Updates(group.attributes ? { attributes: group.attributes, ipv4: group.ipv4 } : { withdrawn: group.ipv4 }, ctx)
          : packUpdates(group.attributes ? { attributes: group.attributes, nlri: keyedGroupPrefixes(group) } : { withdrawn: keyedGroupPrefixes(group), afi: group.afi }, ctx);
      for (const bytes of messages) connection.write(bytes, MessageType.Update);
      if (this.routeListeners.size) {
        // One entry per group, copied per prefix: the attributes are the group's.
        const entry = ribEntry("", group.attributes ?? {});
        const withdrawn = group.attributes === undefined;
        for (const prefix of keyedGroupPrefixes(group)) this.emitRoute({ type: "route", table: "adj-out", withdrawn, entry: { ...entry, prefix } });
      }
    }
  }

  private establishedConnection(): Connection | undefined {
    return this.establishedId !== null ? this.connections.get(this.establishedId) : undefined;
  }

  private negotiatedAfis(): Set<number> {
    return new Set((this.negotiated?.families ?? this.families).map((f) => f.afi));
  }

  private sessionFacts(negotiated: NegotiatedSession, socket: Socket): SessionFacts {
    const local = socket.localAddress?.replace(/^::ffff:(?=\d+\.)/, "");
    const localAddress: SessionFacts["localAddress"] = {};
    const v4 = this.options.nextHopIpv4 ?? (local && !isIPv6(local) ? local : undefined);
    const v6 = this.options.nextHopIpv6 ?? (local && isIPv6(local) ? local : undefined);
    if (v4) localAddress.ipv4 = v4;
    if (v6) localAddress.ipv6 = v6;
    return { ibgp: negotiated.ibgp, localAsn: negotiated.localAsn, fourOctetAs: negotiated.fourOctetAs, localAddress };
  }

  private chooseFamilies(): AfiSafi[] {
    const requested = this.options.families;
    const names = new Set<"ipv4" | "ipv6">(requested ?? [isIPv6(this.options.peerAddress) ? "ipv6" : "ipv4"]);
    if (!requested) {
      if (this.options.nextHopIpv6) names.add("ipv6");
      if (this.options.nextHopIpv4) names.add("ipv4");
    }
    return [...names].sort().map((n) => ({ afi: n === "ipv6" ? Afi.Ipv6 : Afi.Ipv4, safi: Safi.Unicast }));
  }

  private capabilityNames(n: NegotiatedSession): string[] {
    const names = n.families.map((f) => `${familyName(f.afi)}-unicast`);
    if (n.fourOctetAs) names.push("4-octet-as");
    if (n.routeRefresh) names.push("route-refresh");
    if (n.gracefulRestart) names.push("graceful-restart");
    if (n.extendedMessage) names.push("extended-message");
    return names;
  }

  private clearStaleTimer(): void {
    if (this.staleTimer !== undefined) this.clock.clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
  }

  private emit(event: SessionEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private emitRoute(event: SessionEvent): void {
    for (const listener of this.routeListeners) listener(event);
  }
}

/** Creates a session; call start() to begin connecting. */
export function createBgpSession(options: SessionOptions, deps: SessionDeps = {}): BgpSession & { acceptConnection(socket: Socket): boolean } {
  return new Session(options, deps);
}

