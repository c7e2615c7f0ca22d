/**
 * Holds one BGP session per intent peer (keyed by address:port) and keeps
 * every session's wanted routes equal to the intent's.
 *
 * - A changed session parameter restarts that session only.
 * - A route change never restarts a session: it becomes one updateRoutes
 *   call per session, carrying only the routes that differ.
 * - A peer with a password gets a TCP-MD5 session (RFC 2385) when the
 *   addon is available; otherwise it is refused with the reason and never
 *   dialled (never connected unsigned). A changed password restarts the session.
 * - After a process start (option `restarted`), the sessions of the first
 *   reconcile advertise the graceful-restart R bit ("I restarted").
 */
import type { Peer, Route } from "@svcbgp/api";
import { tcpMd5Unavailable } from "@svcbgp/bgp";
import type { Logger } from "@svcbgp/telemetry";
import { parseIp, type IpFamily } from "@svcbgp/config";
import { peerKey } from "../intent/keys.js";
import { changedOptionNames, sameSessionOptions, sessionOptionsFor, type NodeSettings } from "./options.js";
import type { OutRoute, PeerSession, SessionEvent, SessionOptions, StopMode } from "./session-api.js";

export type SessionFactory = (options: SessionOptions, logger: Logger) => PeerSession;

/** Why a password peer is refused when TCP-MD5 cannot be used here. */
export function tcpMd5Refused(reason: string): string {
  return `TCP-MD5 unavailable: ${reason}; a peer with a password is not connected`;
}

/** One peer of the intent and the session that serves it (if any). */
export interface ManagedPeer {
  readonly key: string;
  peer: Peer;
  readonly family: IpFamily;
  options?: SessionOptions;
  session?: PeerSession;
  /** Why this peer has no session. */
  refused?: string;
  /** ms since epoch this entry was created or last refused. */
  since: number;
  logger: Logger;
  unsubscribe?: () => void;
  /** The route-event subscription, held only while route events are wanted (see PeerReconciler.setRouteEvents). */
  unsubscribeRoutes?: () => void;
}

export interface ReconcileInput {
  node: NodeSettings;
  /** Every peer the intent wants (the whole list, not a delta). */
  peers: Peer[];
  upsertedRoutes: Route[];
  withdrawnPrefixes: string[];
}

export interface ReconcilerOptions {
  factory: SessionFactory;
  logger: Logger;
  onSessionEvent?: (peer: ManagedPeer, event: SessionEvent) => void;
  /**
   * Whether onSessionEvent also gets route events (Adj-RIB-In/Out changes), at first; default false.
   * A session builds an event per route only while someone listens to them; see setRouteEvents.
   */
  routeEvents?: boolean;
  /** A session was created (called before it starts): the speaker's BGP listeners register it. */
  onSessionOpened?: (session: PeerSession) => void;
  /** A session is being stopped (called before stop()). */
  onSessionClosed?: (session: PeerSession) => void;
  /**
   * This process has just started: sessions created by the first reconcile
   * set SessionOptions.restarting (RFC 4724 R bit), so graceful-restart peers
   * send us their routes without waiting for our End-of-RIB. Later sessions do not.
   */
  restarted?: boolean;
  /** Why TCP-MD5 is unavailable (password peers are then refused), or undefined; default: whether libs/bgp's addon loads. */
  tcpMd5Unavailable?: () => string | undefined;
}

export function prefixFamily(prefix: string): IpFamily {
  return prefix.includes(":") ? 6 : 4;
}

export function toOutRoute(route: Route): OutRoute {
  const out: OutRoute = { prefix: route.prefix };
  if (route.nextHop) out.nextHop = route.nextHop;
  if (route.communities.length) out.communities = [...route.communities];
  if (route.largeCommunities.length) out.largeCommunities = [...route.largeCommunities];
  if (route.localPref !== undefined) out.localPref = route.localPref;
  return out;
}

function sameOutRoute(a: OutRoute, b: OutRoute): boolean {
  return (
    a.prefix === b.prefix &&
    a.nextHop === b.nextHop &&
    a.localPref === b.localPref &&
    (a.communities ?? []).join(",") === (b.communities ?? []).join(",") &&
    (a.largeCommunities ?? []).join(",") === (b.largeCommunities ?? []).join(",")
  );
}

/** GR-enabled peers are left with a plain socket close, so they keep our routes through a restart. */
export function shutdownMode(peer: Peer): StopMode {
  return peer.gracefulRestart?.enabled ? "graceful-restart" : "admin-shutdown";
}

export class PeerReconciler {
  private readonly managed = new Map<string, ManagedPeer>();
  /** What the intent wants advertised. */
  private readonly desired = new Map<string, OutRoute>();
  /** What the sessions have been told to advertise (empty while suppressed). */
  private readonly advertised = new Map<string, OutRoute>();
  private suppressed = false;
  private restarting: boolean;
  private routeEvents: boolean;

  constructor(private readonly options: ReconcilerOptions) {
    this.restarting = options.restarted ?? false;
    this.routeEvents = options.routeEvents ?? false;
  }

  /** Subscribes every session (and later ones) to route events, or unsubscribes them: they cost an object per route. */
  setRouteEvents(enabled: boolean): void {
    if (this.routeEvents === enabled) return;
    this.routeEvents = enabled;
    for (const m of this.managed.values()) {
      if (!m.session) continue;
      if (enabled) this.subscribeRoutes(m, m.session);
      else this.unsubscribeRoutes(m);
    }
  }

  /** Peers sorted by address family, address, then port. */
  peers(): ManagedPeer[] {
    return [...this.managed.values()].sort((a, b) => {
      const pa = parseIp(a.options?.peerAddress ?? a.peer.address);
      const pb = parseIp(b.options?.peerAddress ?? b.peer.address);
      if (pa && pb && (pa.family !== pb.family || pa.value !== pb.value)) return pa.family !== pb.family ? pa.family - pb.family : pa.value < pb.value ? -1 : 1;
      return (a.peer.port || 179) - (b.peer.port || 179);
    });
  }

  /** Routes currently handed to sessions (of every family). */
  advertisedRoutes(): OutRoute[] {
    return [...this.advertised.values()];
  }

  get routesSuppressed(): boolean {
    return this.suppressed;
  }

  async reconcile(input: ReconcileInput): Promise<void> {
    const wanted = new Map(input.peers.map((p) => [peerKey(p), p]));
    const plans = new Map<string, { peer: Peer; options: SessionOptions; refused?: string }>();
    const md5Unavailable = [...wanted.values()].some((p) => p.password) ? (this.options.tcpMd5Unavailable ?? tcpMd5Unavailable)() : undefined;
    for (const [key, peer] of wanted) {
      plans.set(key, { peer, options: sessionOptionsFor(peer, input.node), refused: peer.password && md5Unavailable !== undefined ? tcpMd5Refused(md5Unavailable) : undefined });
    }

    // 1. Stop sessions that are gone or whose parameters changed.
    const stops: Array<Promise<void>> = [];
    const toStart: string[] = [];
    for (const [key, m] of this.managed) {
      const plan = plans.get(key);
      if (!plan) {
        m.logger.info("peer removed from the intent; stopping its session");
        stops.push(this.stopSession(m, "admin-shutdown", "peer removed"));
        this.managed.delete(key);
        continue;
      }
      m.peer = plan.peer;
      if (plan.refused) {
        if (m.session) stops.push(this.stopSession(m, "admin-shutdown", "peer refused"));
        if (m.refused !== plan.refused) {
          m.logger.error(plan.refused);
          m.since = Date.now();
        }
        m.refused = plan.refused;
        m.options = plan.options;
      } else if (!m.session) {
        m.refused = undefined;
        toStart.push(key);
      } else if (!sameSessionOptions(m.options ?? plan.options, plan.options)) {
        m.logger.info({ changed: changedOptionNames(m.options ?? plan.options, plan.options) }, "session parameters changed; restarting this session");
        stops.push(this.stopSession(m, "admin-shutdown", "session parameters changed"));
        toStart.push(key);
      }
      m.options = plan.options;
    }
    await Promise.all(stops);

    // 2. Route changes to the sessions that stay.
    this.applyRoutes(input.upsertedRoutes, input.withdrawnPrefixes);

    // 3. New sessions start with every route of their family.
    for (const [key, plan] of plans) {
      if (this.managed.has(key)) continue;
      const family = parseIp(plan.peer.address)?.family ?? 4;
      const m: ManagedPeer = { key, peer: plan.peer, family, options: plan.options, since: Date.now(), logger: this.options.logger.child({ peer: key }) };
      this.managed.set(key, m);
      if (plan.refused) {
        m.refused = plan.refused;
        m.logger.error(plan.refused);
      } else toStart.push(key);
    }
    for (const key of toStart) this.startSession(this.managed.get(key)!);
    this.restarting = false;
  }

  /** Sends route changes to every session (each gets only its family). */
  applyRoutes(upserted: Route[], withdrawn: string[]): void {
    const touched: string[] = [];
    for (const prefix of withdrawn) {
      this.desired.delete(prefix);
      touched.push(prefix);
    }
    for (const route of upserted) {
      this.desired.set(route.prefix, toOutRoute(route));
      touched.push(route.prefix);
    }
    this.push(touched);
  }

  /** While suppressed (stale intent), sessions stay up but advertise nothing. */
  setSuppressed(suppressed: boolean): void {
    if (this.suppressed === suppressed) return;
    this.suppressed = suppressed;
    this.push([...new Set([...this.desired.keys(), ...this.advertised.keys()])]);
  }

  /** Stops every session: graceful-restart mode where the peer has GR enabled. */
  async stopAll(message = "speaker shutting down"): Promise<void> {
    const all = [...this.managed.values()];
    this.managed.clear();
    await Promise.all(all.map((m) => this.stopSession(m, shutdownMode(m.peer), message)));
  }

  private push(prefixes: string[]): void {
    const upserts: OutRoute[] = [];
    const withdrawals: string[] = [];
    for (const prefix of new Set(prefixes)) {
      const want = this.suppressed ? undefined : this.desired.get(prefix);
      const have = this.advertised.get(prefix);
      if (want && (!have || !sameOutRoute(want, have))) {
        upserts.push(want);
        this.advertised.set(prefix, want);
      } else if (!want && have) {
        withdrawals.push(prefix);
        this.advertised.delete(prefix);
      }
    }
    if (upserts.length === 0 && withdrawals.length === 0) return;
    for (const m of this.managed.values()) {
      if (!m.session) continue;
      const u = upserts.filter((r) => prefixFamily(r.prefix) === m.family);
      const w = withdrawals.filter((p) => prefixFamily(p) === m.family);
      if (u.length || w.length) m.session.updateRoutes(u, w);
    }
  }

  private startSession(m: ManagedPeer): void {
    const options = m.options!;
    // Not part of m.options: those are compared to decide restarts, and the R bit is no reason to restart.
    const session = this.options.factory(this.restarting ? { ...options, restarting: true } : options, m.logger);
    m.session = session;
    this.options.onSessionOpened?.(session);
    m.unsubscribe = session.on((event: SessionEvent) => this.options.onSessionEvent?.(m, event), { routes: false });
    if (this.routeEvents) this.subscribeRoutes(m, session);
    const initial = [...this.advertised.values()].filter((r) => prefixFamily(r.prefix) === m.family);
    if (initial.length) session.updateRoutes(initial, []);
    m.logger.info({ asn: options.peerAsn, localAsn: options.localAsn, localAddress: options.localAddress, passive: options.passive ?? false, tcpMd5: Boolean(options.password) }, "starting BGP session");
    session.start();
  }

  private async stopSession(m: ManagedPeer, mode: StopMode, message: string): Promise<void> {
    const session = m.session;
    if (!session) return;
    m.session = undefined;
    this.options.onSessionClosed?.(session);
    try {
      await session.stop(mode, message);
    } catch (err) {
      m.logger.warn({ err }, "stopping the session failed");
    } finally {
      m.unsubscribe?.();
      m.unsubscribe = undefined;
      this.unsubscribeRoutes(m);
    }
  }

  private subscribeRoutes(m: ManagedPeer, session: PeerSession): void {
    if (m.unsubscribeRoutes) return;
    // Route events only: state events come through m.unsubscribe's listener.
    m.unsubscribeRoutes = session.on((event: SessionEvent) => {
      if (event.type === "route") this.options.onSessionEvent?.(m, event);
    });
  }

  private unsubscribeRoutes(m: ManagedPeer): void {
    m.unsubscribeRoutes?.();
    m.unsubscribeRoutes = undefined;
  }
}
