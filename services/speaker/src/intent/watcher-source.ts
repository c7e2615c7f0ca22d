/**
 * Intent from a watcher's WatchIntent stream: a snapshot, then deltas.
 *
 * - The stream is re-opened with exponential backoff and jitter; a delta whose
 *   base revision is not ours re-opens it at once for a fresh snapshot.
 * - A new snapshot is diffed against the current intent, so a reconnect only
 *   changes what differs (no withdraw and re-announce).
 * - While the watcher is unreachable the last intent stays advertised; with
 *   staleTimeoutMs set, routes are withdrawn once the link has been down that
 *   long, and re-announced with the next snapshot.
 */
import type * as grpc from "@grpc/grpc-js";
import { IntentService, createClient, type IntentDelta, type NodeIntent, type ServiceClient } from "@svcbgp/api";
import type { Logger } from "@svcbgp/telemetry";
import type { IntentSink } from "../controller.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { dropInvalidItems, formatIssues, hasNodeIssue, validateDelta, validateIntent } from "./validate.js";

export interface WatcherSourceOptions {
  target: string;
  nodeName: string;
  sink: IntentSink;
  logger: Logger;
  credentials?: grpc.ChannelCredentials;
  backoff?: BackoffOptions;
  /** Withdraw routes after the watcher has been unreachable this long; undefined = never. */
  staleTimeoutMs?: number;
  /** Told about link changes (logs, metrics). */
  onLinkChange?: (up: boolean) => void;
  /** Told before each attempt to re-open the stream (metrics). */
  onReconnect?: () => void;
  /** Told about every snapshot rejected as a whole (metrics). */
  onInvalid?: () => void;
}

export interface WatcherLinkStatus {
  up: boolean;
  /** ms since epoch of the last link change. */
  since: number;
  lastError?: string;
  reconnects: number;
  stale: boolean;
}

function describe(err: unknown): string {
  const e = err as { code?: number; details?: string; message?: string };
  return e.details || e.message || String(err);
}

export class WatcherIntentSource {
  private readonly client: ServiceClient<typeof IntentService>;
  private readonly backoff: Backoff;
  private abort: AbortController | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private sleepTimer: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private link: WatcherLinkStatus = { up: false, since: Date.now(), reconnects: 0, stale: false, lastError: "not connected yet" };

  constructor(private readonly options: WatcherSourceOptions) {
    this.backoff = new Backoff(options.backoff);
    this.client = createClient(IntentService, options.target, {
      credentials: options.credentials,
      channelOptions: {
        // The channel's own reconnect backoff must not outlast ours.
        "grpc.initial_reconnect_backoff_ms": options.backoff?.initialMs ?? 500,
        "grpc.max_reconnect_backoff_ms": options.backoff?.maxMs ?? 30_000,
        // Notice a watcher that vanished without closing the connection.
        "grpc.keepalive_time_ms": 60_000,
        "grpc.keepalive_timeout_ms": 20_000,
      },
    });
  }

  status(): WatcherLinkStatus {
    return { ...this.link };
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    if (this.sleepTimer) {
      clearTimeout(this.sleepTimer.timer);
      this.sleepTimer.resolve();
    }
    clearTimeout(this.staleTimer);
    await this.loop;
    this.client.close();
  }

  private async run(): Promise<void> {
    const log = this.options.logger;
    while (!this.stopped) {
      const outcome = await this.follow();
      if (this.stopped) break;
      this.setLink(false, outcome.error);
      this.link.reconnects++;
      this.options.onReconnect?.();
      const delay = outcome.resync ? 0 : this.backoff.next();
      if (outcome.resync) log.warn({ reason: outcome.error }, "re-opening the intent stream for a fresh snapshot");
      else log.warn({ target: this.options.target, retryInMs: delay, reason: outcome.error }, "intent stream lost; keeping the last intent and retrying");
      await this.sleep(delay);
    }
  }

  /** One stream, until it fails, ends or must be re-opened. */
  private async follow(): Promise<{ error: string; resync: boolean }> {
    const abort = new AbortController();
    this.abort = abort;
    let gotSnapshot = false;
    try {
      for await (const response of this.client.watchIntent({ nodeName: this.options.nodeName }, { signal: abort.signal })) {
        if (this.stopped) break;
        const event = response.event;
        if (event.case === "snapshot") {
          await this.applySnapshot(event.value, response.revision);
          gotSnapshot = true;
          this.backoff.reset();
          this.setLink(true);
        } else if (event.case === "delta") {
          if (!gotSnapshot || event.value.baseRevision !== this.options.sink.revision) {
            abort.abort();
            return { error: `delta for revision ${event.value.baseRevision}, ours is ${this.options.sink.revision}`, resync: true };
          }
          const applied = await this.applyDelta(event.value, response.revision);
          if (!applied) {
            abort.abort();
            return { error: `delta for revision ${event.value.baseRevision} could not be applied`, resync: true };
          }
        }
      }
      return { error: "the watcher ended the stream", resync: false };
    } catch (err) {
      return { error: describe(err), resync: false };
    } finally {
      abort.abort();
    }
  }

  private async applySnapshot(intent: NodeIntent, revision: bigint): Promise<void> {
    const issues = validateIntent(intent, { nodeName: this.options.nodeName });
    if (hasNodeIssue(issues)) {
      // Nothing sensible can be built from it: keep what we have, as for a lost link.
      this.options.logger.error({ revision: String(revision) }, `invalid intent snapshot ignored: ${formatIssues(issues)}`);
      this.options.onInvalid?.();
      throw new Error(`invalid snapshot: ${formatIssues(issues)}`);
    }
    if (issues.length) {
      this.options.logger.error({ revision: String(revision) }, `dropping invalid items of the intent snapshot: ${formatIssues(issues)}`);
      const { routes, peers } = dropInvalidItems(intent.routes, intent.peers, issues);
      intent = { ...intent, routes, peers };
    }
    await this.options.sink.applySnapshot(intent, revision);
    clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
    if (this.link.stale) {
      this.link.stale = false;
      await this.options.sink.setStale(false);
    }
  }

  private async applyDelta(delta: IntentDelta, revision: bigint): Promise<boolean> {
    const issues = validateDelta(delta, 0);
    // Local AS problems are judged by the reconciler's view of the node; only shape problems matter here.
    const shapeIssues = issues.filter((i) => !i.field.endsWith(".localAsn"));
    if (shapeIssues.length) {
      this.options.logger.error({ revision: String(revision) }, `dropping invalid items of an intent delta: ${formatIssues(shapeIssues)}`);
      const { routes, peers } = dropInvalidItems(delta.upsertedRoutes, delta.upsertedPeers, shapeIssues);
      delta = { ...delta, upsertedRoutes: routes, upsertedPeers: peers };
    }
    return (await this.options.sink.applyDelta(delta, revision)) !== undefined;
  }

  private setLink(up: boolean, error?: string): void {
    const changed = this.link.up !== up;
    this.link = { ...this.link, up, lastError: up ? undefined : error, since: changed ? Date.now() : this.link.since };
    if (!changed) return;
    this.options.onLinkChange?.(up);
    if (up) this.options.logger.info({ target: this.options.target }, "intent stream connected");
    else if (this.options.staleTimeoutMs !== undefined && this.options.sink.hasIntent && !this.staleTimer) {
      this.staleTimer = setTimeout(() => {
        this.staleTimer = undefined;
        if (this.link.up || this.stopped) return;
        this.link.stale = true;
        this.options.logger.warn({ staleAfterMs: this.options.staleTimeoutMs }, "watcher unreachable for longer than --stale-intent-timeout");
        void this.options.sink.setStale(true);
      }, this.options.staleTimeoutMs);
      this.staleTimer.unref();
    }
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleepTimer = undefined;
        resolve();
      }, ms);
      this.sleepTimer = { timer, resolve };
    });
  }
}
