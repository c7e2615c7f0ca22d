/**
 * Fans the engine's intent changes out to the speakers watching them: a
 * snapshot first, then deltas.
 *
 * The hub holds no intents. It keeps a revision per node and, per
 * subscriber, the set of prefixes and peer keys that changed since that
 * subscriber's last event. When the subscriber is ready for more, one delta
 * covering all of them is computed from the engine's current state
 * (engine.delta), so:
 *
 * - a change that touches every node (a Cluster-policy host route appearing)
 *   costs one small delta per *watched* node and materialises no intent;
 * - a full intent is built only for a snapshot (first event, a node-level or
 *   change, or a subscriber that fell too far behind) and for GetIntent;
 * - several subscribers of one node that are at the same revision share one
 *   event: it is computed once per node and revision, not per subscriber;
 * - a slow subscriber's backlog is coalesced, never queued: it is bounded by
 *   `maxPendingChanges` keys, past which it gets one fresh snapshot instead.
 *
 * Correctness rests on the engine reporting every prefix and peer whose
 * route or peer changed (IntentChanges.forNode): applying the coalesced
 * delta to what the subscriber holds then yields engine.intent(node).
 */
import { create } from "@bufbuild/protobuf";
import {
  NodeIntentSchema,
  NodeSummarySchema,
  WatchIntentResponseSchema,
  isEmptyDelta,
  type IntentDelta,
  type NodeIntent,
  type NodeSummary,
  type WatchIntentResponse,
} from "@svcbgp/api";
import type { NodeChange } from "../engine/changes.js";

/** Changed prefixes + peer keys a subscriber may accumulate before it is switched to a snapshot. */
export const MAX_PENDING_CHANGES = 1024;

/** What the hub asks of the engine (RouteEngine implements it). */
export interface IntentProvider {
  hasNode(name: string): boolean;
  /** The node's complete intent, or undefined for an unknown node. */
  intent(name: string): NodeIntent | undefined;
  /** The delta from the node's intent before `change` to its current one (base_revision left for the hub). */
  delta(name: string, change: NodeChange): IntentDelta;
  /** Known nodes, sorted. */
  listNodes(): string[];
  nodeSummary(name: string): { routeCount: number; peerCount: number; excluded: boolean } | undefined;
}

/** One engine update, as the hub reads it (IntentChanges implements it). */
export interface ChangeReport {
  /** Every node whose intent changed. */
  nodes(): string[];
  forNode(name: string): NodeChange | undefined;
}

/** Why a snapshot was sent. */
export type SnapshotCause = "initial" | "change" | "overflow";

export interface HubObserver {
  /**
   * An event left the hub for a subscriber. `latencyMs` is the time since the
   * oldest change it carries was published (undefined for a first snapshot).
   */
  sent?(node: string, event: "snapshot" | "delta", cause: SnapshotCause | undefined, latencyMs: number | undefined): void;
}

export interface IntentHubOptions {
  maxPendingChanges?: number;
  observer?: HubObserver;
  /** Milliseconds, for latency (default performance.now). */
  now?: () => number;
}

class Subscriber {
  snapshot = true;
  cause: SnapshotCause = "initial";
  prefixes = new Set<string>();
  peers = new Set<string>();
  /** Revision of the last event sent; what the next delta's base_revision must be. */
  lastSent: bigint | undefined;
  /** When the oldest change not yet sent was published. */
  since: number | undefined;
  wake: (() => void) | undefined;

  constructor(readonly node: string) {}

  get pending(): number {
    return this.prefixes.size + this.peers.size;
  }

  add(change: NodeChange, at: number, max: number): void {
    this.since ??= at;
    if (!this.snapshot) {
      if (change.snapshot) this.resync("change");
      else {
        for (const prefix of change.prefixes) this.prefixes.add(prefix);
        for (const peer of change.peers) this.peers.add(peer);
        if (this.pending > max) this.resync("overflow");
      }
    }
    this.wake?.();
  }

  private resync(cause: SnapshotCause): void {
    this.snapshot = true;
    this.cause = cause;
    this.clear();
  }

  clear(): void {
    if (this.prefixes.size > 0) this.prefixes = new Set();
    if (this.peers.size > 0) this.peers = new Set();
  }
}

export interface SubscriberStats {
  node: string;
  /** Changed keys waiting to be sent. */
  pending: number;
  /** A snapshot is due. */
  snapshotDue: boolean;
}

export class IntentHub {
  /** Counts updates that changed at least one intent; node revisions are values of it. */
  private revisionCounter = 0n;
  private readonly revisions = new Map<string, bigint>();
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private ready = false;
  private closed = false;
  private readonly waiters = new Set<() => void>();
  private readonly maxPending: number;
  private readonly now: () => number;
  private overflowCount = 0;
  /**
   * Per node with more than one subscriber: the last event built, keyed by
   * what determines it (snapshot or delta from which revision, to which).
   * Two subscribers that last received revision B and are due an event at
   * revision R get the same one, so it is built once.
   */
  private readonly built = new Map<string, { key: string; event: WatchIntentResponse | undefined }>();

  constructor(
    private readonly provider: IntentProvider,
    private readonly options: IntentHubOptions = {},
  ) {
    this.maxPending = options.maxPendingChanges ?? MAX_PENDING_CHANGES;
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Until the sources have synced, the engine has no complete picture: a
   * snapshot then would withdraw routes that are still wanted. Streams wait.
   */
  markReady(): void {
    if (this.ready) return;
    this.ready = true;
    // Nodes that never changed since (there are none after a sync, but be exact) get a non-zero revision.
    this.revisionCounter++;
    this.wakeWaiters();
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Ends every stream (they finish cleanly) and refuses new ones: for graceful shutdown. */
  close(): void {
    this.closed = true;
    this.wakeWaiters();
    for (const set of this.subscribers.values()) for (const subscriber of set) subscriber.wake?.();
  }

  /**
   * Takes one engine update: bumps the revision of every changed node and
   * records the change for that node's subscribers. Returns how many nodes'
   * intents changed. `at` is when the update's source event arrived.
   */
  update(changes: ChangeReport, at: number = this.now()): number {
    const nodes = changes.nodes();
    if (nodes.length === 0) return 0;
    const revision = ++this.revisionCounter;
    for (const node of nodes) {
      if (this.provider.hasNode(node)) this.revisions.set(node, revision);
      else this.revisions.delete(node);
      const subscribers = this.subscribers.get(node);
      if (!subscribers) continue;
      const change = changes.forNode(node);
      if (!change) continue;
      for (const subscriber of subscribers) {
        const wasSnapshot = subscriber.snapshot;
        subscriber.add(change, at, this.maxPending);
        if (!wasSnapshot && subscriber.snapshot && subscriber.cause === "overflow") this.overflowCount++;
      }
    }
    return nodes.length;
  }

  /**
   * A node's current revision. Nodes the engine does not know get the latest
   * revision: whatever a stream sent for one before, this is not older.
   */
  revisionOf(nodeName: string): bigint {
    return this.revisions.get(nodeName) ?? this.revisionCounter;
  }

  /** The node's current intent and revision, or undefined for an unknown node. */
  get(nodeName: string): { revision: bigint; intent: NodeIntent } | undefined {
    const intent = this.provider.intent(nodeName);
    return intent && { revision: this.revisionOf(nodeName), intent };
  }

  /** Every known node, and any node being watched that the engine does not know, sorted. */
  list(): NodeSummary[] {
    const names = new Set(this.provider.listNodes());
    for (const [name, set] of this.subscribers) if (set.size > 0) names.add(name);
    return [...names]
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((nodeName) => {
        const summary = this.provider.nodeSummary(nodeName);
        return create(NodeSummarySchema, {
          nodeName,
          revision: this.revisionOf(nodeName),
          routeCount: summary?.routeCount ?? 0,
          peerCount: summary?.peerCount ?? 0,
          excluded: summary?.excluded ?? false,
          watchers: this.subscribers.get(nodeName)?.size ?? 0,
        });
      });
  }

  get subscriberCount(): number {
    let n = 0;
    for (const set of this.subscribers.values()) n += set.size;
    return n;
  }

  /** Subscribers switched to a snapshot because they fell behind, since start. */
  get overflows(): number {
    return this.overflowCount;
  }

  stats(): SubscriberStats[] {
    return [...this.subscribers.values()].flatMap((set) => [...set].map((s) => ({ node: s.node, pending: s.pending, snapshotDue: s.snapshot })));
  }

  /** The stream a speaker follows; ends when `signal` aborts or the hub closes. */
  async *watch(nodeName: string, signal: AbortSignal): AsyncGenerator<WatchIntentResponse> {
    await this.whenReady(signal);
    if (signal.aborted || this.closed) return;
    const subscriber = new Subscriber(nodeName);
    let set = this.subscribers.get(nodeName);
    if (!set) this.subscribers.set(nodeName, (set = new Set()));
    set.add(subscriber);
    const wake = () => subscriber.wake?.();
    signal.addEventListener("abort", wake);
    try {
      while (!signal.aborted && !this.closed) {
        const event = this.next(subscriber);
        if (event) {
          yield event;
          continue;
        }
        await new Promise<void>((resolve) => (subscriber.wake = resolve));
        subscriber.wake = undefined;
      }
    } finally {
      signal.removeEventListener("abort", wake);
      set.delete(subscriber);
      if (set.size <= 1) this.built.delete(nodeName);
      if (set.size === 0 && this.subscribers.get(nodeName) === set) this.subscribers.delete(nodeName);
    }
  }

  /** The subscriber's next event, computed from current state, or undefined when it is up to date. */
  private next(subscriber: Subscriber): WatchIntentResponse | undefined {
    const node = subscriber.node;
    const latency = subscriber.since === undefined ? undefined : this.now() - subscriber.since;
    if (!subscriber.snapshot && subscriber.pending === 0) return undefined;
    const revision = this.revisionOf(node);
    const snapshot = subscriber.snapshot;
    const cause = subscriber.cause;
    // Any correct delta from the base revision to `revision` serves every
    // subscriber at that base: the event depends only on these.
    const key = snapshot ? `s${revision}` : `d${subscriber.lastSent ?? 0n}:${revision}`;
    const shared = (this.subscribers.get(node)?.size ?? 0) > 1;
    const memo = shared ? this.built.get(node) : undefined;
    let event: WatchIntentResponse | undefined;
    if (memo?.key === key) event = memo.event;
    else {
      event = snapshot ? this.snapshotEvent(node, revision) : this.deltaEvent(subscriber, revision);
      if (shared) this.built.set(node, { key, event });
    }
    subscriber.snapshot = false;
    subscriber.since = undefined;
    subscriber.clear();
    if (!event) return undefined;
    subscriber.lastSent = revision;
    if (snapshot) this.options.observer?.sent?.(node, "snapshot", cause, cause === "initial" ? undefined : latency);
    else this.options.observer?.sent?.(node, "delta", undefined, latency);
    return event;
  }

  private snapshotEvent(node: string, revision: bigint): WatchIntentResponse {
    const intent = this.provider.intent(node) ?? create(NodeIntentSchema, { nodeName: node });
    return create(WatchIntentResponseSchema, { revision, event: { case: "snapshot", value: intent } });
  }

  private deltaEvent(subscriber: Subscriber, revision: bigint): WatchIntentResponse | undefined {
    const delta = this.provider.delta(subscriber.node, { snapshot: false, prefixes: subscriber.prefixes, peers: subscriber.peers });
    if (isEmptyDelta(delta)) return undefined;
    delta.baseRevision = subscriber.lastSent ?? 0n;
    return create(WatchIntentResponseSchema, { revision, event: { case: "delta", value: delta } });
  }

  private whenReady(signal: AbortSignal): Promise<void> {
    if (this.ready || this.closed || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        this.waiters.delete(done);
        resolve();
      };
      this.waiters.add(done);
      signal.addEventListener("abort", done);
    });
  }

  private wakeWaiters(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
