/**
 * Holds the current intent of every node and fans changes out to the
 * speakers watching them: a snapshot first, then deltas. A subscriber that
 * falls behind gets one fresh snapshot instead of an ever-growing backlog.
 */
import { create } from "@bufbuild/protobuf";
import {
  NodeIntentSchema,
  WatchIntentResponseSchema,
  diffIntents,
  isEmptyDelta,
  type NodeIntent,
  type NodeSummary,
  type WatchIntentResponse,
} from "@svcbgp/api";

/** Deltas a subscriber may have queued before it is switched to a snapshot. */
export const MAX_QUEUED_DELTAS = 64;

interface NodeState {
  revision: bigint;
  intent: NodeIntent;
  excluded: boolean;
  subscribers: Set<Subscriber>;
}

interface Subscriber {
  queue: WatchIntentResponse[];
  needsSnapshot: boolean;
  wake?: () => void;
}

export class IntentHub {
  private readonly nodes = new Map<string, NodeState>();
  private ready = false;
  private readonly readyWaiters: Array<() => void> = [];

  /**
   * Until the sources have synced, the hub has no complete picture: sending a
   * snapshot then would withdraw routes that are still wanted.
   */
  markReady(): void {
    if (this.ready) return;
    this.ready = true;
    for (const wake of this.readyWaiters.splice(0)) wake();
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Sets a node's intent; subscribers get the difference. */
  publish(intent: NodeIntent, excluded = false): void {
    const state = this.state(intent.nodeName);
    state.excluded = excluded;
    const delta = diffIntents(state.intent, intent, state.revision);
    if (delta && isEmptyDelta(delta)) return;
    state.revision++;
    state.intent = intent;
    const event = delta
      ? create(WatchIntentResponseSchema, { revision: state.revision, event: { case: "delta", value: delta } })
      : create(WatchIntentResponseSchema, { revision: state.revision, event: { case: "snapshot", value: intent } });
    for (const subscriber of state.subscribers) this.enqueue(subscriber, event);
  }

  /** A node left the cluster: its speaker, if still running, advertises nothing. */
  remove(nodeName: string): void {
    const state = this.nodes.get(nodeName);
    if (!state) return;
    this.publish(create(NodeIntentSchema, { nodeName, routerId: state.intent.routerId, localAsn: state.intent.localAsn, listenPort: state.intent.listenPort }));
    if (state.subscribers.size === 0) this.nodes.delete(nodeName);
  }

  get(nodeName: string): { revision: bigint; intent: NodeIntent } | undefined {
    const state = this.nodes.get(nodeName);
    return state && { revision: state.revision, intent: state.intent };
  }

  list(): NodeSummary[] {
    return [...this.nodes.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([nodeName, s]) => ({
        $typeName: "svcbgp.v1.NodeSummary",
        nodeName,
        revision: s.revision,
        routeCount: s.intent.routes.length,
        peerCount: s.intent.peers.length,
        excluded: s.excluded,
        watchers: s.subscribers.size,
      }));
  }

  get subscriberCount(): number {
    let n = 0;
    for (const s of this.nodes.values()) n += s.subscribers.size;
    return n;
  }

  /** The stream a speaker follows; ends when `signal` aborts. */
  async *watch(nodeName: string, signal: AbortSignal): AsyncGenerator<WatchIntentResponse> {
    await this.whenReady(signal);
    if (signal.aborted) return;
    const state = this.state(nodeName);
    const subscriber: Subscriber = { queue: [], needsSnapshot: true };
    state.subscribers.add(subscriber);
    const wake = () => subscriber.wake?.();
    signal.addEventListener("abort", wake);
    try {
      while (!signal.aborted) {
        if (subscriber.needsSnapshot) {
          subscriber.needsSnapshot = false;
          subscriber.queue.length = 0;
          yield create(WatchIntentResponseSchema, { revision: state.revision, event: { case: "snapshot", value: state.intent } });
          continue;
        }
        const next = subscriber.queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (subscriber.wake = resolve));
        subscriber.wake = undefined;
      }
    } finally {
      signal.removeEventListener("abort", wake);
      state.subscribers.delete(subscriber);
    }
  }

  private enqueue(subscriber: Subscriber, event: WatchIntentResponse): void {
    if (!subscriber.needsSnapshot) {
      if (subscriber.queue.length >= MAX_QUEUED_DELTAS || event.event.case === "snapshot") {
        subscriber.needsSnapshot = true;
        subscriber.queue.length = 0;
      } else {
        subscriber.queue.push(event);
      }
    }
    subscriber.wake?.();
  }

  private whenReady(signal: AbortSignal): Promise<void> {
    if (this.ready || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.readyWaiters.push(done);
      signal.addEventListener("abort", done);
    });
  }

  private state(nodeName: string): NodeState {
    let state = this.nodes.get(nodeName);
    if (!state) {
      state = { revision: 0n, intent: create(NodeIntentSchema, { nodeName }), excluded: false, subscribers: new Set() };
      this.nodes.set(nodeName, state);
    }
    return state;
  }
}

