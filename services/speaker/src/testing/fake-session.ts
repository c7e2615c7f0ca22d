/**
 * An in-memory BgpSession for unit tests: records every call, keeps the
 * wanted routes as its Adj-RIB-Out, and lets a test drive state changes and
 * received routes.
 */
import type { Socket } from "node:net";
import type { OutRoute, PeerSession, RibEntry, SessionEvent, SessionListenOptions, SessionOptions, SessionStateName, SessionStatus, StopMode } from "../peers/session-api.js";

export type FakeCall =
  | { op: "start" }
  | { op: "stop"; mode: StopMode; message?: string }
  | { op: "updateRoutes"; upserts: OutRoute[]; withdrawals: string[] }
  | { op: "setRoutes"; routes: OutRoute[] }
  | { op: "requestRefresh" }
  | { op: "acceptConnection" };

const zeroCounts = () => ({ opens: 0, updates: 0, notifications: 0, keepalives: 0, routeRefreshes: 0 });

export class FakeSession implements PeerSession {
  readonly calls: FakeCall[] = [];
  readonly wanted = new Map<string, OutRoute>();
  readonly received = new Map<string, RibEntry>();
  /** Each listener, and whether it takes route events. */
  private readonly listeners = new Map<(event: SessionEvent) => void, boolean>();
  private current: SessionStateName = "Idle";
  private since = Date.now();
  started = false;
  stopped = false;
  statusOverrides: Partial<SessionStatus> = {};

  constructor(readonly options: Readonly<SessionOptions>) {}

  start(): void {
    this.calls.push({ op: "start" });
    this.started = true;
  }

  async stop(mode: StopMode, message?: string): Promise<void> {
    this.calls.push({ op: "stop", mode, message });
    this.stopped = true;
    this.setState("Idle", message);
  }

  updateRoutes(upserts: OutRoute[], withdrawals: string[]): void {
    this.calls.push({ op: "updateRoutes", upserts: structuredClone(upserts), withdrawals: [...withdrawals] });
    for (const p of withdrawals) this.wanted.delete(p);
    for (const r of upserts) this.wanted.set(r.prefix, r);
  }

  setRoutes(routes: OutRoute[]): void {
    this.calls.push({ op: "setRoutes", routes: structuredClone(routes) });
    this.wanted.clear();
    for (const r of routes) this.wanted.set(r.prefix, r);
  }

  /** Only the updateRoutes calls, for exact assertions. */
  routeCalls(): Array<{ upserts: string[]; withdrawals: string[] }> {
    return this.calls.flatMap((c) => (c.op === "updateRoutes" ? [{ upserts: c.upserts.map((r) => r.prefix), withdrawals: c.withdrawals }] : []));
  }

  status(): SessionStatus {
    const established = this.current === "Established";
    return {
      peerAddress: this.options.peerAddress,
      peerPort: this.options.peerPort ?? 179,
      peerAsn: this.options.peerAsn,
      localAsn: this.options.localAsn,
      state: this.current,
      stateSince: this.since,
      localAddress: established ? this.options.localAddress : undefined,
      negotiatedHoldTime: established ? (this.options.holdTime ?? 90) : undefined,
      capabilities: established ? ["ipv4-unicast", "4-octet-as", "route-refresh"] : [],
      sent: zeroCounts(),
      received: zeroCounts(),
      prefixesSent: established ? this.wanted.size : 0,
      prefixesReceived: this.received.size,
      ...this.statusOverrides,
    };
  }

  *adjRibIn(): Iterable<RibEntry> {
    yield* [...this.received.values()].sort((a, b) => (a.prefix < b.prefix ? -1 : 1));
  }

  *adjRibOut(): Iterable<RibEntry> {
    const entries = [...this.wanted.values()].map(
      (r): RibEntry => ({
        prefix: r.prefix,
        nextHop: r.nextHop ?? this.options.localAddress ?? "",
        asPath: [],
        origin: "igp",
        localPref: r.localPref,
        communities: [...(r.communities ?? [])],
        largeCommunities: [...(r.largeCommunities ?? [])],
        stale: false,
      }),
    );
    yield* entries.sort((a, b) => (a.prefix < b.prefix ? -1 : 1));
  }

  requestRefresh(): void {
    this.calls.push({ op: "requestRefresh" });
  }

  /** Records the hand-over and closes the socket (a fake speaks no BGP); refused once stopped. */
  acceptConnection(socket: Socket): boolean {
    if (this.stopped) return false;
    this.calls.push({ op: "acceptConnection" });
    socket.destroy();
    return true;
  }

  on(listener: (event: SessionEvent) => void, options: SessionListenOptions = {}): () => void {
    this.listeners.set(listener, options.routes ?? true);
    return () => this.listeners.delete(listener);
  }

  /** How many listeners take route events (the speaker subscribes only while WatchEvents has subscribers). */
  get routeListenerCount(): number {
    return [...this.listeners.values()].filter(Boolean).length;
  }

  /** Test control: an FSM transition. */
  setState(to: SessionStateName, reason?: string): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.since = Date.now();
    this.emit({ type: "state", from, to, reason });
  }

  /** Test control: the peer sends (or withdraws) a route. */
  receive(entry: RibEntry, withdrawn = false): void {
    if (withdrawn) this.received.delete(entry.prefix);
    else this.received.set(entry.prefix, entry);
    this.emit({ type: "route", table: "adj-in", entry, withdrawn });
  }

  private emit(event: SessionEvent): void {
    for (const [l, routes] of this.listeners) if (routes || event.type !== "route") l(event);
  }
}

/** A session factory that remembers every session it made, in order. */
export function fakeSessionFactory(): { factory: (options: SessionOptions) => FakeSession; sessions: FakeSession[]; live(address: string): FakeSession | undefined } {
  const sessions: FakeSession[] = [];
  return {
    factory: (options) => {
      const s = new FakeSession(options);
      sessions.push(s);
      return s;
    },
    sessions,
    live: (address) => sessions.filter((s) => s.options.peerAddress === address && !s.stopped).at(-1),
  };
}
