/**
 * Shared by the watcher integration suites: a gRPC client that follows a
 * node's WatchIntent stream the way a speaker does (checking the revision
 * chain) and records every route and peer it was ever told to withdraw, a
 * log capture, and a hand-driven ResourceSource.
 */
import { PassThrough } from "node:stream";
import { applyDelta, createClient, isCancelled, IntentService, peerKey, type NodeIntent, type ServiceClient, type WatchIntentResponse } from "@svcbgp/api";
import { createLogger, type Logger } from "@svcbgp/telemetry";
import type { KubeObject, ResourceKind, ResourceSink } from "../../services/watcher/src/sources/source.js";
import type { WatcherSource } from "../../services/watcher/src/watcher.js";

export interface Withdrawal {
  /** Index of the event (in `events`) that carried it. */
  event: number;
  kind: "route" | "peer";
  key: string;
}

/** Follows one node's intent over gRPC, as a speaker would. */
export class StreamFollower {
  held: NodeIntent | undefined;
  revision: bigint | undefined;
  readonly events: WatchIntentResponse[] = [];
  readonly withdrawals: Withdrawal[] = [];
  readonly errors: string[] = [];
  ended = false;
  private readonly controller = new AbortController();
  private readonly client: ServiceClient<typeof IntentService> | undefined;
  readonly done: Promise<void>;

  /** Without an address, nothing is dialled: events are fed with take(). */
  constructor(
    address: string | undefined,
    readonly nodeName: string,
  ) {
    this.client = address === undefined ? undefined : createClient(IntentService, address);
    this.done = this.client ? this.run(this.client) : Promise.resolve();
  }

  get snapshots(): number {
    return this.events.filter((e) => e.event.case === "snapshot").length;
  }

  get prefixes(): string[] {
    return this.held?.routes.map((r) => r.prefix) ?? [];
  }

  /** Withdrawals carried by events from index `from` on. */
  withdrawalsSince(from: number): Withdrawal[] {
    return this.withdrawals.filter((w) => w.event >= from);
  }

  take(event: WatchIntentResponse): void {
    const index = this.events.length;
    this.events.push(event);
    if (this.revision !== undefined && event.revision <= this.revision) this.errors.push(`revision ${event.revision} after ${this.revision}`);
    if (event.event.case === "snapshot") {
      const next = event.event.value;
      // What a snapshot withdraws is what the speaker held and the snapshot lacks.
      const routes = new Set(next.routes.map((r) => r.prefix));
      for (const route of this.held?.routes ?? []) if (!routes.has(route.prefix)) this.withdrawals.push({ event: index, kind: "route", key: route.prefix });
      const peers = new Set(next.peers.map(peerKey));
      for (const peer of this.held?.peers ?? []) if (!peers.has(peerKey(peer))) this.withdrawals.push({ event: index, kind: "peer", key: peerKey(peer) });
      this.held = next;
    } else if (event.event.case === "delta") {
      const delta = event.event.value;
      if (!this.held || delta.baseRevision !== this.revision) this.errors.push(`delta based on ${delta.baseRevision}, held ${this.revision}`);
      for (const prefix of delta.withdrawnPrefixes) this.withdrawals.push({ event: index, kind: "route", key: prefix });
      for (const key of delta.removedPeers) this.withdrawals.push({ event: index, kind: "peer", key });
      this.held = applyDelta(this.held!, delta);
    } else {
      this.errors.push("empty event");
    }
    this.revision = event.revision;
  }

  close(): Promise<void> {
    this.controller.abort();
    return this.done;
  }

  private async run(client: ServiceClient<typeof IntentService>): Promise<void> {
    try {
      for await (const event of client.watchIntent({ nodeName: this.nodeName }, { signal: this.controller.signal })) this.take(event);
    } catch (err) {
      if (!isCancelled(err)) this.errors.push(`stream failed: ${(err as Error).message}`);
    } finally {
      this.ended = true;
      client.close();
    }
  }
}

/** A pino logger whose lines are kept, parsed. */
export function captureLogger(level = "info"): { logger: Logger; lines: Array<Record<string, unknown>>; text: () => string } {
  const stream = new PassThrough();
  const raw: string[] = [];
  stream.on("data", (chunk: Buffer) => raw.push(...chunk.toString("utf8").split("\n").filter(Boolean)));
  const logger = createLogger({ name: "svcbgp-watcher", level, destination: stream });
  return {
    logger,
    get lines() {
      return raw.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    text: () => raw.join("\n"),
  };
}

/** A source driven by the test: nothing is synced until sync() is called. */
export class ManualSource implements WatcherSource {
  sink: ResourceSink | undefined;
  synced = false;
  private resolveSynced!: () => void;
  private readonly syncedPromise = new Promise<void>((resolve) => (this.resolveSynced = resolve));

  async start(sink: ResourceSink): Promise<void> {
    this.sink = sink;
  }

  async stop(): Promise<void> {
    this.sink = undefined;
  }

  whenSynced(): Promise<void> {
    return this.syncedPromise;
  }

  /** Delivers the complete state of every kind, then reports synced. */
  sync(objects: KubeObject[]): void {
    const kinds: ResourceKind[] = ["Service", "EndpointSlice", "Node", "Secret", "BGPConfiguration", "BGPPeer"];
    for (const kind of kinds) this.sink!.replace(kind, objects.filter((o) => o.kind === kind));
    this.synced = true;
    this.resolveSynced();
  }

  upsert(object: KubeObject): void {
    this.sink!.apply({ type: "upsert", kind: object.kind as ResourceKind, object });
  }

  delete(object: KubeObject): void {
    this.sink!.apply({ type: "delete", kind: object.kind as ResourceKind, object });
  }
}
