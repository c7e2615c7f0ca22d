/**
 * The BGP finite state machine of RFC 4271 §8, for one TCP connection.
 *
 * Pure: events in (`handle`), actions out. Time comes only from the injected
 * Clock. The FSM owns its four timers (ConnectRetry, Hold, Keepalive,
 * IdleHold) through that clock instead of emitting StartTimer/StopTimer
 * actions: that keeps every timer rule next to the transition that needs it,
 * and the session's action loop is plain I/O. Actions caused by a timer firing
 * cannot be returned from `handle`, so they go to the ActionSink given to the
 * constructor (or `setSink`); the session treats both paths the same way.
 *
 * One instance tracks one connection. A second connection from the same peer
 * (a collision, §6.8) is a second instance; `ConnectionPair` (collision.ts)
 * owns the pair and decides which one survives. Events about a second
 * connection (TcpConnection_Valid etc. in OpenSent and later) are therefore
 * ignored here.
 *
 * Deviations from the letter of §8.2.2, each deliberate:
 * - no DelayOpen and no SendNOTIFICATIONwithoutOPEN (optional attributes);
 * - a NOTIFICATION received in OpenSent closes quietly instead of answering
 *   with an FSM Error (§6: never answer a NOTIFICATION with one);
 * - FSM Error NOTIFICATIONs carry the RFC 6608 subcodes;
 * - a header error in Established is reported with its own code, not FSM Error;
 * - the hold timer is also restarted by ROUTE-REFRESH messages;
 * - `passive` configuration never dials, so Active waits without ConnectRetry;
 * - TcpConnectionConfirmed in Connect adopts the inbound connection as §8.2.2
 *   says; the session must then abandon its dial. ConnectionPair never does
 *   this (it gives such a connection to a second FSM instead).
 */
import type { Clock, TimerHandle } from "./clock.js";
import type { NotificationMessage, OpenMessage } from "../codec/types.js";
import { IdleHoldBackoff, jitter } from "./backoff.js";
import { buildOpen, negotiate, peerAsnOf, validateOpen } from "./open.js";
import {
  State,
  type ActionSink,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmEventType,
  type NegotiatedSession,
  type NotificationError,
  type PeerIdentity,
} from "./types.js";

const SECOND = 1_000;
/** §8.2.2: "a large value" for the hold timer while waiting for the peer's OPEN; 4 minutes is suggested. */
export const OPEN_HOLD_TIME_MS = 240 * SECOND;
export const DEFAULT_CONNECT_RETRY_TIME = 30;
/** RFC 8203/9003: the shutdown communication is at most 255 octets of UTF-8. */
const MAX_SHUTDOWN_MESSAGE = 255;

const HOLD_TIMER_EXPIRED = 4;
const FSM_ERROR = 5;
const CEASE = 6;
const CEASE_ADMIN_SHUTDOWN = 2;
const CEASE_COLLISION = 7;
/** RFC 6608 subcodes: unexpected message in OpenSent / OpenConfirm / Established. */
const FSM_ERROR_SUBCODE: Partial<Record<State, number>> = { OpenSent: 1, OpenConfirm: 2, Established: 3 };

export type FsmTimer = "connectRetry" | "hold" | "keepalive" | "idleHold";
const TIMER_EVENT: Record<FsmTimer, FsmEventType> = {
  connectRetry: "ConnectRetryTimer_Expires",
  hold: "HoldTimer_Expires",
  keepalive: "KeepaliveTimer_Expires",
  idleHold: "IdleHoldTimer_Expires",
};

/** "none": no socket; "dialing": a Connect is outstanding; "up": a TCP connection belongs to this FSM. */
export type ConnectionStatus = "none" | "dialing" | "up";

/**
 * Decides, when this FSM receives a valid OPEN, whether its connection loses a
 * collision. Returning true makes the FSM act as if OpenCollisionDump arrived.
 * Set by ConnectionPair; the callback may drive the sibling FSM.
 */
export type CollisionCheck = (fsm: Fsm, remote: PeerIdentity) => boolean;

interface IdleOptions {
  /** NOTIFICATION to send first (only if a connection is up). */
  notification?: NotificationError;
  received?: NotificationMessage;
  /** Operator stop: no automatic restart, counter reset. */
  manual?: boolean;
  /** Increment ConnectRetryCounter and back off (default true). */
  error?: boolean;
}

function cease(subcode: number, data: Uint8Array = new Uint8Array(0)): NotificationError {
  return { code: CEASE, subcode, data };
}

/** RFC 8203 data: a length octet and UTF-8, cut at a character boundary. */
export function shutdownCommunication(message: string | undefined): Uint8Array {
  if (!message) return new Uint8Array(0);
  let bytes = new TextEncoder().encode(message);
  if (bytes.length > MAX_SHUTDOWN_MESSAGE) {
    let n = MAX_SHUTDOWN_MESSAGE;
    while (n > 0 && (bytes[n] & 0xc0) === 0x80) n--;
    bytes = bytes.subarray(0, n);
  }
  const out = new Uint8Array(bytes.length + 1);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

function isStart(type: FsmEventType): boolean {
  return (
    type === "ManualStart" ||
    type === "AutomaticStart" ||
    type === "ManualStart_with_PassiveTcpEstablishment" ||
    type === "AutomaticStart_with_PassiveTcpEstablishment"
  );
}

let nextFsmId = 1;

export class Fsm {
  /** Unique per instance; ConnectionPair tags actions with it so the session can map them to sockets. */
  readonly id = nextFsmId++;
  /** Set by ConnectionPair; null means "no sibling, no collision". */
  collisionCheck: CollisionCheck | null = null;

  private current: State = State.Idle;
  private out: FsmAction[] = [];
  private readonly timers = new Map<FsmTimer, TimerHandle>();
  private conn: ConnectionStatus = "none";
  private initiatedLocally = false;
  private automaticStart: boolean;
  /** Not started, or stopped by the operator: never restart on our own. */
  private stopped = true;
  /** R bit for the next OPEN; cleared once a session is Established. */
  private restarting: boolean;
  private localOpen: OpenMessage | null = null;
  private peerOpen: OpenMessage | null = null;
  private session: NegotiatedSession | null = null;
  private establishedAt: number | null = null;
  private readonly backoff: IdleHoldBackoff;
  private readonly random: () => number;
  private retryCounter = 0;
  private disposed = false;

  constructor(
    readonly config: FsmConfig,
    private readonly clock: Clock,
    private sink?: ActionSink,
  ) {
    const hold = config.holdTime;
    if (hold !== undefined && (!Number.isInteger(hold) || hold < 0 || hold > 0xffff || (hold > 0 && hold < 3))) {
      throw new RangeError(`hold time must be 0 or 3-65535 seconds, got ${hold}`);
    }
    this.random = config.random ?? Math.random;
    this.backoff = new IdleHoldBackoff(config.idleHold, this.random);
    this.automaticStart = config.automaticStart ?? true;
    this.restarting = config.gracefulRestart?.restarting ?? false;
  }

  get state(): State {
    return this.current;
  }

  /** The negotiated session while in OpenConfirm or Established, else null. */
  get negotiated(): NegotiatedSession | null {
    return this.session;
  }

  /** The peer's identity once its OPEN was accepted in this connection. */
  get remote(): PeerIdentity | null {
    return this.peerOpen ? { routerId: this.peerOpen.routerId, asn: peerAsnOf(this.peerOpen) } : null;
  }

  /** True when the current connection was dialled by us (Tcp_CR_Acked), false when accepted. */
  get locallyInitiated(): boolean {
    return this.initiatedLocally;
  }

  get connection(): ConnectionStatus {
    return this.conn;
  }

  /** RFC 4271 ConnectRetryCounter. */
  get connectRetryCounter(): number {
    return this.retryCounter;
  }

  /** Errors since the backoff was last reset. */
  get consecutiveFailures(): number {
    return this.backoff.consecutiveFailures;
  }

  timerRunning(timer: FsmTimer): boolean {
    return this.timers.has(timer);
  }

  setSink(sink: ActionSink | undefined): void {
    this.sink = sink;
  }

  /**
   * Enables or suspends restarting after errors. Suspending also cancels a
   * pending idle hold; enabling while Idle (and not stopped) arms one.
   */
  setAutomaticStart(enabled: boolean): void {
    this.automaticStart = enabled;
    if (!enabled) this.stopTimer("idleHold");
    else if (this.current === State.Idle && !this.stopped && !this.timerRunning("idleHold")) {
      this.startTimer("idleHold", this.backoff.failure(false));
    }
  }

  /** Cancels every timer and ignores all further events, without emitting anything. */
  dispose(): void {
    this.stopAllTimers();
    this.disposed = true;
  }

  /** Feeds one event; returns the actions to perform, in order. */
  handle(event: FsmEvent): FsmAction[] {
    if (this.disposed) return [];
    const outer = this.out;
    this.out = [];
    try {
      this.dispatch(event);
      return this.out;
    } finally {
      this.out = outer;
    }
  }

  private dispatch(e: FsmEvent): void {
    switch (this.current) {
      case State.Idle:
        return this.onIdle(e);
      case State.Connect:
        return this.onConnect(e);
      case State.Active:
        return this.onActive(e);
      case State.OpenSent:
        return this.onOpenSent(e);
      case State.OpenConfirm:
        return this.onOpenConfirm(e);
      case State.Established:
        return this.onEstablished(e);
    }
  }

  // ---- per-state handlers (§8.2.2) ----

  private onIdle(e: FsmEvent): void {
    const passive = this.config.passive ?? false;
    switch (e.type) {
      case "ManualStart":
      case "ManualStart_with_PassiveTcpEstablishment":
        // An operator start is a fresh start: no damping, no history.
        this.stopped = false;
        this.retryCounter = 0;
        this.backoff.reset();
        this.stopTimer("idleHold");
        return this.start(passive || e.type === "ManualStart_with_PassiveTcpEstablishment", "manual start");
      case "AutomaticStart":
      case "AutomaticStart_with_PassiveTcpEstablishment":
        // Damping: while the idle hold runs, automatic starts wait for it.
        if (this.timerRunning("idleHold")) return;
        this.stopped = false;
        return this.start(passive || e.type === "AutomaticStart_with_PassiveTcpEstablishment", "automatic start");
      case "IdleHoldTimer_Expires":
        return this.start(passive, "idle hold expired");
      case "ManualStop":
        this.stopped = true;
        this.stopTimer("idleHold");
        return;
      case "Tcp_CR_Acked":
      case "TcpConnectionConfirmed":
        // Idle refuses connections.
        this.push({ type: "DropConnection" });
        return;
      default:
        return; // every other event leaves Idle unchanged
    }
  }

  private onConnect(e: FsmEvent): void {
    if (e.type !== "ConnectRetryTimer_Expires") return this.onConnectOrActive(e);
    // The dial took too long: abandon it and try again.
    this.push({ type: "DropConnection" });
    this.conn = "none";
    this.startConnectRetry();
    this.dial();
  }

  private onActive(e: FsmEvent): void {
    if (e.type !== "ConnectRetryTimer_Expires") return this.onConnectOrActive(e);
    this.startConnectRetry();
    this.transition(State.Connect, "connect retry");
    this.dial();
  }

  /** Connect and Active alike: every event but ConnectRetryTimer_Expires. */
  private onConnectOrActive(e: FsmEvent): void {
    if (isStart(e.type)) return;
    switch (e.type) {
      case "ManualStop":
        return this.toIdle("manual stop", { manual: true });
      case "TcpConnection_Valid":
      case "Tcp_CR_Invalid":
        return;
      case "Tcp_CR_Acked":
      case "TcpConnectionConfirmed":
        return this.connectionUp(e.type === "Tcp_CR_Acked");
      case "TcpConnectionFails":
        return this.toIdle("connection failed", {});
      case "NotifMsgVerErr":
        return this.toIdle("peer rejected our BGP version", { received: e.message, error: false });
      case "BGPHeaderErr":
      case "BGPOpenMsgErr":
        return this.toIdle("malformed message", { notification: e.error });
      default:
        return this.toIdle(`unexpected ${e.type} in ${this.current}`, {});
    }
  }

  private onOpenSent(e: FsmEvent): void {
    switch (e.type) {
      case "HoldTimer_Expires":
        return this.toIdle("hold timer expired waiting for OPEN", { notification: { code: HOLD_TIMER_EXPIRED, subcode: 0 } });
      case "TcpConnectionFails":
        // §8.2.2: back to Active, listening, with ConnectRetry re-armed.
        this.stopAllTimers();
        this.push({ type: "DropConnection" });
        this.conn = "none";
        this.localOpen = null;
        if (!this.config.passive) this.startConnectRetry();
        this.transition(State.Active, "connection lost before OPEN");
        return;
      case "BGPOpen":
        return this.receiveOpen(e.message);
      default:
        return this.onConnected(e);
    }
  }

  private onOpenConfirm(e: FsmEvent): void {
    switch (e.type) {
      case "KeepaliveTimer_Expires":
        return this.sendKeepalive();
      case "KeepAliveMsg":
        return this.establish();
      default:
        return this.onConnected(e);
    }
  }

  private onEstablished(e: FsmEvent): void {
    switch (e.type) {
      case "KeepaliveTimer_Expires":
        return this.sendKeepalive();
      case "NotifMsgVerErr":
        return this.toIdle("NOTIFICATION received", { received: e.message });
      case "KeepAliveMsg":
        this.restartHold();
        return;
      case "UpdateMsg":
        this.restartHold();
        this.push({ type: "DeliverUpdate", message: e.message, treatAsWithdraw: e.action === "treat-as-withdraw" });
        return;
      case "RouteRefresh":
        this.restartHold();
        this.push({ type: "DeliverRouteRefresh", afi: e.message.afi, safi: e.message.safi });
        return;
      case "UpdateMsgErr":
        return this.toIdle("malformed UPDATE", { notification: e.error });
      case "BGPOpenMsgErr":
        return this.fsmError(e.type); // an OPEN error once Established is an unexpected message
      default:
        return this.onConnected(e);
    }
  }

  /**
   * OpenSent, OpenConfirm and Established alike (a connection is up): the
   * events their own handlers leave over. Anything else is an FSM Error.
   */
  private onConnected(e: FsmEvent): void {
    if (isStart(e.type)) return;
    switch (e.type) {
      case "ManualStop":
        return this.toIdle("manual stop", { manual: true, notification: cease(CEASE_ADMIN_SHUTDOWN, shutdownCommunication(e.shutdownMessage)) });
      case "AutomaticStop":
        return this.toIdle(e.reason ?? "automatic stop", { notification: cease(e.subcode ?? 0) });
      case "HoldTimer_Expires":
        return this.toIdle("hold timer expired", { notification: { code: HOLD_TIMER_EXPIRED, subcode: 0 } });
      case "TcpConnection_Valid":
      case "Tcp_CR_Invalid":
      case "Tcp_CR_Acked":
      case "TcpConnectionConfirmed":
        return; // a second connection is another FSM (ConnectionPair)
      case "TcpConnectionFails":
        return this.toIdle("connection lost", {});
      case "NotifMsgVerErr":
        return this.toIdle("peer rejected our BGP version", { received: e.message, error: false });
      case "NotifMsg":
        return this.toIdle("NOTIFICATION received", { received: e.message });
      case "BGPHeaderErr":
      case "BGPOpenMsgErr":
        return this.toIdle("malformed message", { notification: e.error });
      case "OpenCollisionDump":
        return this.toIdle("connection collision", { notification: cease(CEASE_COLLISION) });
      default:
        return this.fsmError(e.type);
    }
  }

  // ---- shared steps ----

  private start(passive: boolean, reason: string): void {
    this.resetConnectionState();
    if (passive) {
      if (!this.config.passive) this.startConnectRetry();
      this.transition(State.Active, reason);
    } else {
      this.startConnectRetry();
      this.transition(State.Connect, reason);
      this.dial();
    }
  }

  private dial(): void {
    this.conn = "dialing";
    this.push({ type: "Connect" });
  }

  private connectionUp(locallyInitiated: boolean): void {
    this.stopTimer("connectRetry");
    this.conn = "up";
    this.initiatedLocally = locallyInitiated;
    this.localOpen = buildOpen(this.config, this.restarting);
    this.push({ type: "SendOpen", message: this.localOpen });
    this.startTimer("hold", OPEN_HOLD_TIME_MS);
    this.transition(State.OpenSent, locallyInitiated ? "connected" : "connection accepted");
  }

  private receiveOpen(open: OpenMessage): void {
    const error = validateOpen(open, this.config);
    if (error) return this.toIdle(`OPEN rejected (subcode ${error.subcode})`, { notification: error });
    this.peerOpen = open;
    if (this.collisionCheck?.(this, { routerId: open.routerId, asn: peerAsnOf(open) })) {
      return this.toIdle("connection collision", { notification: cease(CEASE_COLLISION) });
    }
    const session = negotiate(this.config, this.localOpen ?? buildOpen(this.config, this.restarting), open);
    this.session = session;
    this.push({ type: "SendKeepalive" });
    if (session.holdTime > 0) {
      this.startTimer("keepalive", session.keepaliveTime * SECOND);
      this.startTimer("hold", session.holdTime * SECOND);
    } else {
      this.stopTimer("hold"); // hold time 0: neither keepalives nor a hold timer
    }
    this.transition(State.OpenConfirm, "OPEN received");
  }

  private establish(): void {
    this.restartHold();
    this.establishedAt = this.clock.now();
    this.restarting = false; // the R bit is only for the first session after our restart
    this.transition(State.Established, "KEEPALIVE received");
    if (this.session) this.push({ type: "SessionEstablished", session: this.session });
  }

  private sendKeepalive(): void {
    this.push({ type: "SendKeepalive" });
    if (this.session && this.session.keepaliveTime > 0) this.startTimer("keepalive", this.session.keepaliveTime * SECOND);
  }

  private restartHold(): void {
    if (this.session && this.session.holdTime > 0) this.startTimer("hold", this.session.holdTime * SECOND);
  }

  private fsmError(type: FsmEventType): void {
    const subcode = FSM_ERROR_SUBCODE[this.current] ?? 0;
    this.toIdle(`unexpected ${type} in ${this.current}`, { notification: { code: FSM_ERROR, subcode } });
  }

  /** Every path back to Idle: NOTIFICATION, close, report, then back off unless the operator stopped us. */
  private toIdle(reason: string, options: IdleOptions): void {
    const from = this.current;
    this.stopAllTimers();
    const notification = options.notification && this.conn === "up" ? options.notification : undefined;
    if (notification) {
      this.push({ type: "SendNotification", code: notification.code, subcode: notification.subcode, data: notification.data ?? new Uint8Array(0) });
    }
    if (this.conn !== "none") this.push({ type: "DropConnection" });
    if (from === State.Established) {
      this.push({
        type: "SessionDown",
        reason,
        ...(notification ? { notificationSent: { ...notification, data: notification.data ?? new Uint8Array(0) } } : {}),
        ...(options.received ? { notificationReceived: options.received } : {}),
      });
    }
    const stable = from === State.Established && this.establishedAt !== null && this.clock.now() - this.establishedAt >= this.backoff.stableMs;
    this.resetConnectionState();
    if (options.manual) {
      this.retryCounter = 0;
      this.stopped = true;
      this.transition(State.Idle, reason);
      return;
    }
    if (options.error !== false) this.retryCounter++;
    this.transition(State.Idle, reason);
    const delay = this.backoff.failure(stable);
    if (this.automaticStart && !this.stopped) this.startTimer("idleHold", delay);
  }

  private resetConnectionState(): void {
    this.conn = "none";
    this.initiatedLocally = false;
    this.localOpen = null;
    this.peerOpen = null;
    this.session = null;
    this.establishedAt = null;
  }

  private transition(to: State, reason: string): void {
    const from = this.current;
    this.current = to;
    if (from !== to) this.push({ type: "StateChanged", from, to, reason });
  }

  private push(action: FsmAction): void {
    this.out.push(action);
  }

  // ---- timers ----

  private startConnectRetry(): void {
    this.startTimer("connectRetry", jitter((this.config.connectRetryTime ?? DEFAULT_CONNECT_RETRY_TIME) * SECOND, this.random));
  }

  private startTimer(timer: FsmTimer, ms: number): void {
    this.stopTimer(timer);
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(timer);
      this.fire({ type: TIMER_EVENT[timer] } as FsmEvent);
    }, ms);
    this.timers.set(timer, handle);
  }

  private stopTimer(timer: FsmTimer): void {
    const handle = this.timers.get(timer);
    if (handle === undefined) return;
    this.clock.clearTimeout(handle);
    this.timers.delete(timer);
  }

  private stopAllTimers(): void {
    for (const timer of [...this.timers.keys()]) this.stopTimer(timer);
  }

  private fire(event: FsmEvent): void {
    const actions = this.handle(event);
    if (actions.length > 0) this.sink?.(actions);
  }
}
