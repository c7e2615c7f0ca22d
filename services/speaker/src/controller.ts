/**
 * The speaker's core: applies intents (snapshots, deltas, staleness) to the
 * store, hands the resulting minimal changes to the peer reconciler, and
 * publishes what happened as WatchEvents. Changes are applied one at a time,
 * in arrival order.
 */
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { RibTable, type IntentDelta, type NodeIntent, type Route } from "@svcbgp/api";
import type { Logger } from "@svcbgp/telemetry";
import { IntentStore, isEmptyChange, type IntentChange } from "./intent/store.js";
import { PeerReconciler, type ManagedPeer, type SessionFactory } from "./peers/reconciler.js";
import type { PeerListeners } from "./peers/listeners.js";
import type { SessionEvent } from "./peers/session-api.js";
import { EventBus } from "./api/event-bus.js";
import { intentRibRoute, ribRoute, sessionState } from "./api/convert.js";
import type { SpeakerEvent, SpeakerView } from "./api/speaker-service.js";

export interface ControllerOptions {
  sessionFactory: SessionFactory;
  logger: Logger;
  /** WatchEvents per-subscriber buffer. */
  subscriberBuffer?: number;
  onSessionEvent?: (peer: ManagedPeer, event: SessionEvent) => void;
  /** BGP listeners, opened on the intent's listen_port; every session is registered with them. */
  listeners?: PeerListeners;
  /** This process has just started: the first intent's sessions advertise the graceful-restart R bit. */
  restarted?: boolean;
  /** Why TCP-MD5 is unavailable (password peers are refused), or undefined; default: whether libs/bgp's addon loads. */
  tcpMd5Unavailable?: () => string | undefined;
}

/** Where intent sources deliver. */
export interface IntentSink {
  readonly revision: bigint;
  readonly hasIntent: boolean;
  applySnapshot(intent: NodeIntent, revision: bigint): Promise<IntentChange>;
  /** Undefined when the delta's base revision is not ours (the source must resync). */
  applyDelta(delta: IntentDelta, revision: bigint): Promise<IntentChange | undefined>;
  /** Stale intent: keep sessions, withdraw every route (and re-announce when fresh again). */
  setStale(stale: boolean): Promise<void>;
}

export class SpeakerController implements IntentSink, SpeakerView {
  readonly store = new IntentStore();
  readonly events: EventBus<SpeakerEvent>;
  readonly reconciler: PeerReconciler;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly logger: Logger;
  private stale = false;

  constructor(private readonly options: ControllerOptions) {
    this.logger = options.logger;
    // Sessions build route events (an object and the prefix text per route) only while someone consumes them:
    // a WatchEvents subscriber, or options.onSessionEvent.
    const alwaysRouteEvents = options.onSessionEvent !== undefined;
    this.events = new EventBus(options.subscriberBuffer, (count) => this.reconciler.setRouteEvents(alwaysRouteEvents || count > 0));
    this.reconciler = new PeerReconciler({
      factory: options.sessionFactory,
      logger: options.logger,
      onSessionEvent: (peer, event) => this.onSessionEvent(peer, event),
      routeEvents: alwaysRouteEvents,
      onSessionOpened: (session) => options.listeners?.register(session),
      onSessionClosed: (session) => options.listeners?.unregister(session),
      restarted: options.restarted,
      tcpMd5Unavailable: options.tcpMd5Unavailable,
    });
  }

  get revision(): bigint {
    return this.store.revision;
  }

  get hasIntent(): boolean {
    return this.store.hasIntent;
  }

  get isStale(): boolean {
    return this.stale;
  }

  peers(): ManagedPeer[] {
    return this.reconciler.peers();
  }

  intentRoutes(): Route[] {
    return this.store.routes();
  }

  applySnapshot(intent: NodeIntent, revision: bigint): Promise<IntentChange> {
    return this.serialize(async () => {
      const change = this.store.applySnapshot(intent, revision);
      await this.apply(change);
      return change;
    });
  }

  applyDelta(delta: IntentDelta, revision: bigint): Promise<IntentChange | undefined> {
    return this.serialize(async () => {
      const change = this.store.applyDelta(delta, revision);
      if (change) await this.apply(change);
      return change;
    });
  }

  setStale(stale: boolean): Promise<void> {
    return this.serialize(async () => {
      if (this.stale === stale) return;
      this.stale = stale;
      if (stale) this.logger.warn({ routes: this.store.routes().length }, "intent is stale: withdrawing every route (sessions stay up)");
      else this.logger.info("intent is fresh again: advertising its routes");
      this.reconciler.setSuppressed(stale);
    });
  }

  /** Closes the BGP listeners, stops all sessions (graceful-restart where enabled) and ends event streams. */
  shutdown(message?: string): Promise<void> {
    return this.serialize(async () => {
      await this.options.listeners?.close();
      await this.reconciler.stopAll(message);
      this.events.closeAll();
    });
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(change: IntentChange): Promise<void> {
    if (isEmptyChange(change)) {
      this.logger.debug({ revision: String(change.revision) }, "intent unchanged");
      return;
    }
    this.logger.info(
      {
        revision: String(change.revision),
        upsertedRoutes: change.upsertedRoutes.length,
        withdrawnRoutes: change.withdrawnPrefixes.length,
        addedPeers: change.addedPeers.length,
        changedPeers: change.changedPeers.length,
        removedPeers: change.removedPeers.length,
      },
      "applying intent change",
    );
    const node = this.store.nodeFields;
    // Listeners first, so a passive peer's first connection finds one.
    await this.options.listeners?.reconcile(node.listenPort, this.store.peers());
    await this.reconciler.reconcile({
      node: { routerId: node.routerId, localAsn: node.localAsn },
      peers: this.store.peers(),
      upsertedRoutes: change.upsertedRoutes,
      withdrawnPrefixes: change.withdrawnPrefixes,
    });
    for (const route of change.upsertedRoutes) this.events.publish({ time: timestampNow(), event: { case: "route", value: { route: intentRibRoute(route) } } });
    for (const prefix of change.withdrawnPrefixes) {
      this.events.publish({ time: timestampNow(), event: { case: "route", value: { route: { table: RibTable.INTENT, prefix }, withdrawn: true } } });
    }
  }

  private onSessionEvent(peer: ManagedPeer, event: SessionEvent): void {
    const address = peer.options?.peerAddress ?? peer.peer.address;
    if (event.type === "state") {
      const log = event.to === "Established" || event.from === "Established" ? peer.logger.info.bind(peer.logger) : peer.logger.debug.bind(peer.logger);
      log({ from: event.from, to: event.to, reason: event.reason }, "session state changed");
      this.events.publish({
        time: timestampNow(),
        event: { case: "peerState", value: { peer: address, from: sessionState(event.from), to: sessionState(event.to), reason: event.reason ?? "" } },
      });
    } else {
      const table = event.table === "adj-in" ? RibTable.ADJ_IN : RibTable.ADJ_OUT;
      this.events.publish({ time: timestampNow(), event: { case: "route", value: { route: ribRoute(table, address, event.entry), withdrawn: event.withdrawn } } });
    }
    this.options.onSessionEvent?.(peer, event);
  }
}
