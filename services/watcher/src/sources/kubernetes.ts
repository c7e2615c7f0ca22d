/**
 * The cluster-mode ResourceSource: one client-node informer (ListWatch) per
 * kind, and one per referenced Secret.
 *
 * client-node 1.4's ListWatch does the list → watch → (on 410 Gone) re-list
 * cycle, but it gives up for good on any other error (a failed list, a watch
 * answered with 5xx, a connection cut mid-stream), `stop()` reports an
 * AbortError through the error callbacks, and a watch that silently stops
 * delivering is never noticed. So each informer is wrapped:
 *
 * - errors schedule one restart at a time per informer (single flight), after
 *   an exponential backoff with jitter. The restart resumes the same ListWatch,
 *   which re-watches from its last resourceVersion (as client-go's reflector
 *   does), so a dropped connection costs no re-list;
 * - every list, first or after 410 Gone, is delivered as sink.replace(kind, …).
 *   The ListWatch's own add/update/delete callbacks for list items are
 *   suppressed, so the sink sees one replace and never a delete for an object
 *   that is still there;
 * - a watchdog replaces an informer (fresh ListWatch, fresh list) when its kind
 *   has shown no sign of life (event, bookmark, list, connect) for
 *   `staleAfterMs`. Watches ask for bookmarks so quiet kinds still show life;
 * - events from an informer that was replaced or stopped are dropped, and its
 *   connections are aborted, so stop() leaks neither callbacks nor sockets.
 */
import { hostname } from "node:os";
import { ADD, CONNECT, DELETE, ERROR, type KubeConfig, type KubernetesListObject, type KubernetesObject, ListWatch, UPDATE, Watch } from "@kubernetes/client-node";
import { errorMessage, noopLogger, type SourceLogger } from "./logger.js";
import { kubeRequest } from "./kube-http.js";
import { objectKey, type KubeObject, type ResourceKind, type ResourceSink, type ResourceSource } from "./source.js";

const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const ALL_KINDS: readonly ResourceKind[] = ["Service", "EndpointSlice", "Node", "BGPConfiguration", "BGPPeer", "Secret"];

/** Time and timers, injectable so backoff and watchdog tests need not wait on the wall clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface BackoffOptions {
  /** First retry delay (default 500 ms). */
  initialMs?: number;
  /** Upper bound on a delay (default 30 s). */
  maxMs?: number;
  /** Growth per consecutive failure (default 2). */
  factor?: number;
  /**
   * Fraction of each delay that is random (default 0.5): the delay is drawn
   * from [d·(1−jitter), d], so informers failing together retry apart.
   */
  jitter?: number;
  /** An informer that ran this long since its last (re)start starts again from initialMs (default 60 s). */
  resetAfterMs?: number;
}

/** The delay before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const factor = options.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  const base = Math.min(max, initial * Math.pow(factor, Math.min(attempt, 64)));
  return Math.round(base * (1 - jitter * random()));
}

export interface KubernetesSourceOptions {
  kubeConfig: KubeConfig;
  /** Namespace of the Secrets BGPPeers reference for passwords (default "kube-system"). */
  secretNamespace?: string;
  /** Kinds to follow (default all). A kind left out is never listed and does not gate `synced`. */
  kinds?: readonly ResourceKind[];
  /** apiVersion of the BGPConfiguration and BGPPeer CRDs (default "svcbgp.io/v1"). */
  crdApiVersion?: string;
  logger?: SourceLogger;
  backoff?: BackoffOptions;
  /** Restart an informer whose kind showed no sign of life for this long (default 5 min; 0 disables). */
  staleAfterMs?: number;
  /** How often the watchdog looks (default staleAfterMs/4, at most 10 s). */
  watchdogIntervalMs?: number;
  /** Minimum spacing of watch (re)connects of one informer, so a server that closes watches at once is not hammered (default 1 s). */
  minWatchIntervalMs?: number;
  /** List page size (default 500). */
  pageSize?: number;
  /** Timeout of list and event requests (default 60 s). */
  requestTimeoutMs?: number;
  clock?: Clock;
  random?: () => number;
  /** source.component of posted Events (default "svcbgp-watcher"). */
  eventComponent?: string;
  /** Identical Events (same object, reason, message) are posted at most once per this period (default 10 min). */
  eventDedupeMs?: number;
}

export interface KindStatus {
  /** Every informer of the kind has listed at least once. */
  synced: boolean;
  /** Objects currently known. */
  objects: number;
  /** Informers for the kind (Secrets: one per referenced name). */
  informers: number;
  lastListTime?: Date;
  /** Last watch event or bookmark. */
  lastEventTime?: Date;
  /** Lists done (first lists and re-lists after 410 Gone or a restart). */
  lists: number;
  /** Restarts after errors or staleness. */
  restarts: number;
  lastError?: string;
  lastErrorTime?: Date;
}

export type EventType = "Normal" | "Warning";

interface Generation {
  id: number;
  informer: ListWatch<KubernetesObject>;
  watch: TrackedWatch;
  /** Aborts this generation's in-flight list requests. */
  abort: AbortController;
  dead: boolean;
  /**
   * True between a list's arrival and the start of the watch that follows it:
   * the ListWatch then fires add/update/delete for the list's items, which
   * the replace() already delivered.
   */
  applyingList: boolean;
}

/** One informer: a kind, or one Secret name. */
interface Stream {
  readonly label: string;
  readonly kind: ResourceKind;
  readonly apiVersion: string;
  readonly path: string;
  readonly fieldSelector?: string;
  known: Map<string, KubeObject>;
  listed: boolean;
  gen?: Generation;
  restartTimer?: unknown;
  closed: boolean;
  failures: number;
  lastStartAt: number;
  lastActivityAt: number;
  lastListAt?: number;
  lastEventAt?: number;
  lists: number;
  restarts: number;
  lastError?: string;
  lastErrorAt?: number;
}

interface WatchHooks {
  clock: Clock;
  minIntervalMs: number;
  onOpen(): void;
  onLine(phase: string, object: unknown): void;
}

/**
 * client-node's Watch, made accountable: it asks for bookmarks, reports every
 * line (bookmarks included, which ListWatch swallows) for the watchdog, spaces
 * reconnects, remembers its connections so a replaced informer's can be
 * aborted, and goes silent once its generation is dead (so ListWatch.stop()'s
 * AbortError and late events never reach anyone).
 */
class TrackedWatch extends Watch {
  private readonly controllers = new Set<AbortController>();
  private lastConnectAt = Number.NEGATIVE_INFINITY;

  constructor(
    config: KubeConfig,
    private readonly gen: () => Generation | undefined,
    private readonly hooks: WatchHooks,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const gen = this.gen();
    // ListWatch calls watch() right after applying a list: its list callbacks are over.
    if (gen) gen.applyingList = false;
    const wait = this.lastConnectAt + this.hooks.minIntervalMs - this.hooks.clock.now();
    if (wait > 0) await new Promise<void>((resolve) => this.hooks.clock.setTimeout(resolve, wait));
    if (!gen || gen.dead) return abortedController();
    this.lastConnectAt = this.hooks.clock.now();
    let finished = false;
    // Declared first: `done` can run before super.watch() returns (a refused connection).
    let controller: AbortController | undefined = undefined;
    controller = await super.watch(
      path,
      { ...queryParams, allowWatchBookmarks: true },
      (phase, object, raw) => {
        if (gen.dead) return;
        this.hooks.onLine(phase, object);
        callback(phase, object, raw);
      },
      (err) => {
        finished = true;
        if (controller) this.controllers.delete(controller);
        if (!gen.dead) done(err);
      },
    );
    if (gen.dead) {
      controller.abort();
    } else if (!finished) {
      this.controllers.add(controller);
      this.hooks.onOpen();
    }
    return controller;
  }

  abortAll(): void {
    for (const controller of this.controllers) controller.abort();
    this.controllers.clear();
  }
}

function abortedController(): AbortController {
  const controller = new AbortController();
  controller.abort();
  return controller;
}

export class KubernetesSource implements ResourceSource {
  private readonly kc: KubeConfig;
  private readonly log: SourceLogger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly kinds: readonly ResourceKind[];
  private readonly secretNamespace: string;
  private readonly crdApiVersion: string;
  private readonly staleAfterMs: number;
  private readonly watchdogIntervalMs: number;
  private readonly streams = new Map<string, Stream>();
  private sink: ResourceSink | undefined;
  private running = false;
  private watchdogTimer: unknown;
  private nextGenId = 1;
  private syncWaiters: Array<() => void> = [];
  private readonly eventsPosted = new Map<string, number>();
  private eventSeq = 0;

  constructor(private readonly options: KubernetesSourceOptions) {
    this.kc = options.kubeConfig;
    this.log = options.logger ?? noopLogger;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.kinds = options.kinds ?? ALL_KINDS;
    this.secretNamespace = options.secretNamespace ?? "kube-system";
    this.crdApiVersion = options.crdApiVersion ?? "svcbgp.io/v1";
    this.staleAfterMs = options.staleAfterMs ?? 300_000;
    this.watchdogIntervalMs = options.watchdogIntervalMs ?? Math.max(10, Math.min(this.staleAfterMs / 4, 10_000));
    const crd = `/apis/${this.crdApiVersion}`;
    const paths: Record<Exclude<ResourceKind, "Secret">, [string, string]> = {
      Service: ["v1", "/api/v1/services"],
      EndpointSlice: ["discovery.k8s.io/v1", "/apis/discovery.k8s.io/v1/endpointslices"],
      Node: ["v1", "/api/v1/nodes"],
      BGPConfiguration: [this.crdApiVersion, `${crd}/bgpconfigurations`],
      BGPPeer: [this.crdApiVersion, `${crd}/bgppeers`],
    };
    for (const kind of this.kinds) {
      if (kind === "Secret") continue;
      const [apiVersion, path] = paths[kind];
      this.streams.set(kind, newStream(kind, kind, apiVersion, path));
    }
  }

  get synced(): boolean {
    if (!this.running) return false;
    for (const kind of this.kinds) if (!this.kindSynced(kind)) return false;
    return true;
  }

  /** Resolves once `synced` is true (immediately if it is). */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /**
   * Starts every informer and returns without waiting for them to list (an
   * unreachable API server must not block startup; readiness follows `synced`).
   */
  async start(sink: ResourceSink): Promise<void> {
    if (this.running) throw new Error("KubernetesSource already started");
    this.sink = sink;
    this.running = true;
    for (const stream of this.streams.values()) {
      stream.closed = false;
      this.startGeneration(stream);
    }
    // With no Secret referenced yet the (empty) set of Secrets is known.
    if (this.kinds.includes("Secret") && this.streamsOf("Secret").length === 0) sink.replace("Secret", []);
    this.scheduleWatchdog();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.clock.clearTimeout(this.watchdogTimer);
    this.watchdogTimer = undefined;
    for (const stream of this.streams.values()) this.closeStream(stream);
  }

  /**
   * Sets the Secrets to follow: names in `secretNamespace`, each watched with
   * its own `metadata.name=` field selector so RBAC can grant exactly those.
   * A Secret no longer named is deleted from the sink.
   */
  watchSecrets(names: Iterable<string>): void {
    if (!this.kinds.includes("Secret")) throw new Error("Secrets are not among this source's kinds");
    const wanted = new Set<string>();
    for (const name of names) {
      // Names go into a field selector: anything but a DNS subdomain could widen it (e.g. "a,metadata.name!=b").
      if (SECRET_NAME.test(name)) wanted.add(name);
      else this.log.warn({ secret: name }, "ignoring an invalid Secret name");
    }
    const removed: KubeObject[] = [];
    for (const stream of this.streamsOf("Secret")) {
      const name = stream.fieldSelector!.slice("metadata.name=".length);
      if (wanted.has(name)) {
        wanted.delete(name);
        continue;
      }
      this.closeStream(stream);
      this.streams.delete(stream.label);
      removed.push(...stream.known.values());
    }
    for (const name of wanted) {
      const stream = newStream(`Secret ${this.secretNamespace}/${name}`, "Secret", "v1", `/api/v1/namespaces/${encodeURIComponent(this.secretNamespace)}/secrets`, `metadata.name=${name}`);
      this.streams.set(stream.label, stream);
      if (this.running) this.startGeneration(stream);
    }
    if (this.running && this.sink) {
      for (const object of removed) this.sink.apply({ type: "delete", kind: "Secret", object });
    }
  }

  /** Secret names currently followed. */
  get secretNames(): string[] {
    return this.streamsOf("Secret").map((s) => s.fieldSelector!.slice("metadata.name=".length));
  }

  /** Per-kind state, for readiness and metrics. */
  status(): Record<ResourceKind, KindStatus> {
    const result = {} as Record<ResourceKind, KindStatus>;
    for (const kind of this.kinds) {
      const streams = this.streamsOf(kind);
      const latest = (pick: (s: Stream) => number | undefined): number | undefined =>
        streams.reduce<number | undefined>((acc, s) => {
          const v = pick(s);
          return v !== undefined && (acc === undefined || v > acc) ? v : acc;
        }, undefined);
      const lastErrorAt = latest((s) => s.lastErrorAt);
      const errored = streams.find((s) => s.lastErrorAt === lastErrorAt && lastErrorAt !== undefined);
      const date = (t: number | undefined): Date | undefined => (t === undefined ? undefined : new Date(t));
      result[kind] = {
        synced: this.running && this.kindSynced(kind),
        objects: streams.reduce((n, s) => n + s.known.size, 0),
        informers: streams.length,
        lastListTime: date(latest((s) => s.lastListAt)),
        lastEventTime: date(latest((s) => s.lastEventAt)),
        lists: streams.reduce((n, s) => n + s.lists, 0),
        restarts: streams.reduce((n, s) => n + s.restarts, 0),
        lastError: errored?.lastError,
        lastErrorTime: date(lastErrorAt),
      };
    }
    return result;
  }

  /**
   * Records a core/v1 Event about `service` (or any object: the Event goes to
   * its namespace, or "default" for cluster-scoped ones), e.g. why an IP or a
   * config was rejected. An identical Event is not repeated within
   * `eventDedupeMs`. Never throws: returns whether one was created, so
   * callers can fire and forget.
   */
  async postEvent(service: KubeObject, reason: string, message: string, type: EventType = "Warning"): Promise<boolean> {
    const now = this.clock.now();
    const namespace = service.metadata.namespace || "default";
    const dedupeKey = [service.kind ?? "Service", namespace, service.metadata.name, service.metadata.uid ?? "", reason, message].join("\u0000");
    const until = this.eventsPosted.get(dedupeKey);
    if (until !== undefined && until > now) return false;
    if (this.eventsPosted.size > 1000) {
      for (const [key, expiry] of this.eventsPosted) if (expiry <= now) this.eventsPosted.delete(key);
      // Bounded even under a flood of distinct messages; the cost is an occasional repeat.
      if (this.eventsPosted.size > 10_000) this.eventsPosted.clear();
    }
    this.eventsPosted.set(dedupeKey, now + (this.options.eventDedupeMs ?? 600_000));
    const timestamp = new Date(now).toISOString().replace(/\.\d+Z$/, "Z");
    // The name scheme client-go's recorder uses: <object>.<hex nanoseconds>, unique per process.
    const suffix = (BigInt(now) * 1_000_000n + BigInt(this.eventSeq++ % 1_000_000)).toString(16);
    const component = this.options.eventComponent ?? "svcbgp-watcher";
    const event = {
      apiVersion: "v1",
      kind: "Event",
      // Object names may use all 253 characters an Event name may have.
      metadata: { name: `${service.metadata.name.slice(0, 252 - suffix.length)}.${suffix}`, namespace },
      involvedObject: {
        apiVersion: service.apiVersion ?? "v1",
        kind: service.kind ?? "Service",
        name: service.metadata.name,
        ...(service.metadata.namespace ? { namespace: service.metadata.namespace } : {}),
        ...(service.metadata.uid ? { uid: service.metadata.uid } : {}),
        ...(service.metadata.resourceVersion ? { resourceVersion: service.metadata.resourceVersion } : {}),
      },
      reason,
      message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
      type,
      source: { component },
      reportingComponent: component,
      reportingInstance: hostname(),
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      count: 1,
    };
    try {
      await kubeRequest(this.kc, {
        method: "POST",
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
        body: event,
        timeoutMs: this.options.requestTimeoutMs,
      });
      return true;
    } catch (err) {
      // Let a later identical Event through: this one never made it.
      this.eventsPosted.delete(dedupeKey);
      this.log.warn({ err: errorMessage(err), reason, object: objectKey(service) }, "could not post Kubernetes Event");
      return false;
    }
  }

  // ---- informers ----------------------------------------------------------

  private streamsOf(kind: ResourceKind): Stream[] {
    return [...this.streams.values()].filter((s) => s.kind === kind);
  }

  private kindSynced(kind: ResourceKind): boolean {
    return this.streamsOf(kind).every((s) => s.listed);
  }

  private startGeneration(stream: Stream): void {
    const now = this.clock.now();
    stream.lastStartAt = now;
    stream.lastActivityAt = now;
    const ref: { gen?: Generation } = {};
    const watch = new TrackedWatch(this.kc, () => ref.gen, {
      clock: this.clock,
      minIntervalMs: this.options.minWatchIntervalMs ?? 1000,
      onOpen: () => this.touch(stream),
      onLine: (phase, object) => this.onWatchLine(stream, phase, object),
    });
    const abort = new AbortController();
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const result = await this.list(stream, abort.signal);
      const gen = ref.gen!;
      if (gen.dead) throw new Error("informer replaced");
      this.onListed(stream, result.items);
      gen.applyingList = true;
      return { metadata: { resourceVersion: result.resourceVersion }, items: result.items as KubernetesObject[] };
    };
    const informer = new ListWatch<KubernetesObject>(stream.path, watch, list, false, undefined, stream.fieldSelector);
    const gen: Generation = { id: this.nextGenId++, informer, watch, abort, dead: false, applyingList: false };
    ref.gen = gen;
    stream.gen = gen;
    const upsert = (raw: KubernetesObject): void => {
      if (gen.dead || gen.applyingList) return;
      const object = this.normalize(stream, raw);
      if (!object) return;
      stream.known.set(objectKey(object), object);
      this.sink?.apply({ type: "upsert", kind: stream.kind, object });
    };
    informer.on(ADD, upsert);
    informer.on(UPDATE, upsert);
    informer.on(DELETE, (raw) => {
      if (gen.dead || gen.applyingList) return;
      const object = this.normalize(stream, raw);
      if (!object) return;
      stream.known.delete(objectKey(object));
      this.sink?.apply({ type: "delete", kind: stream.kind, object });
    });
    informer.on(ERROR, (err) => this.onError(stream, gen, err, "resume"));
    informer.on(CONNECT, () => {
      if (!gen.dead) this.log.debug({ informer: stream.label }, "informer connecting");
    });
    this.log.debug({ informer: stream.label, generation: gen.id }, "starting informer");
    informer.start().catch((err: unknown) => this.onError(stream, gen, err, "fresh"));
  }

  private async list(stream: Stream, signal: AbortSignal): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const items: KubeObject[] = [];
    let resourceVersion = "";
    let token: string | undefined;
    do {
      const page = await kubeRequest<{ metadata?: { resourceVersion?: string; continue?: string }; items?: unknown[] }>(this.kc, {
        path: stream.path,
        query: { fieldSelector: stream.fieldSelector, limit: this.options.pageSize ?? 500, continue: token },
        signal,
        timeoutMs: this.options.requestTimeoutMs,
      });
      for (const raw of page.items ?? []) {
        const object = this.normalize(stream, raw as KubernetesObject);
        if (object) items.push(object);
      }
      // Every page of a paginated list carries the first page's resourceVersion.
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      token = page.metadata?.continue || undefined;
    } while (token);
    return { items, resourceVersion };
  }

  /** Gives objects the shape the sink expects whatever the API left out; undefined for malformed ones. */
  private normalize(stream: Stream, raw: KubernetesObject): KubeObject | undefined {
    const object = raw as unknown as KubeObject;
    if (typeof object !== "object" || object === null || typeof object.metadata?.name !== "string") {
      this.log.warn({ informer: stream.label }, "ignoring an object without metadata.name");
      return undefined;
    }
    // List items of built-in types come without apiVersion and kind.
    object.apiVersion ??= stream.apiVersion;
    object.kind ??= stream.kind;
    // managedFields is bookkeeping for server-side apply; nothing here reads it and it is often most of an object.
    delete (object.metadata as Record<string, unknown>).managedFields;
    return object;
  }

  private onListed(stream: Stream, items: KubeObject[]): void {
    const now = this.clock.now();
    const known = new Map<string, KubeObject>();
    for (const object of items) known.set(objectKey(object), object);
    stream.known = known;
    stream.listed = true;
    stream.lastListAt = now;
    stream.lastActivityAt = now;
    stream.lists += 1;
    this.log.debug({ informer: stream.label, objects: items.length }, "listed");
    if (this.sink) {
      // The complete set of the kind: for Secrets, every followed name's object.
      const streams = this.streamsOf(stream.kind);
      // One informer and no duplicate names in the list: the list is that set, in that order.
      const all = streams.length === 1 && known.size === items.length ? items : streams.flatMap((s) => [...s.known.values()]);
      this.sink.replace(stream.kind, all);
    }
    if (this.syncWaiters.length > 0 && this.synced) {
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private touch(stream: Stream): void {
    stream.lastActivityAt = this.clock.now();
  }

  private onWatchLine(stream: Stream, phase: string, object: unknown): void {
    const now = this.clock.now();
    stream.lastActivityAt = now;
    stream.lastEventAt = now;
    if (phase !== "ERROR") return;
    const status = (object ?? {}) as { code?: number; message?: string };
    if (status.code === 410) {
      this.log.info({ informer: stream.label, message: status.message }, "watch history expired (410 Gone); re-listing");
    } else {
      stream.lastError = `watch error ${status.code ?? "?"}: ${status.message ?? "unknown"}`;
      stream.lastErrorAt = now;
      this.log.warn({ informer: stream.label, code: status.code, message: status.message }, "watch error event");
    }
  }

  private onError(stream: Stream, gen: Generation, err: unknown, mode: "resume" | "fresh"): void {
    if (gen.dead || stream.gen !== gen) return;
    stream.lastError = errorMessage(err);
    stream.lastErrorAt = this.clock.now();
    this.scheduleRestart(stream, mode, false);
  }

  /**
   * Single flight: an informer has at most one restart pending, and only its
   * current generation can ask for one. "resume" restarts the stopped
   * ListWatch where it left off; "fresh" replaces it (its watch may still be
   * open) and re-lists.
   */
  private scheduleRestart(stream: Stream, mode: "resume" | "fresh", immediate: boolean): void {
    if (!this.running || stream.closed || stream.restartTimer !== undefined) return;
    const gen = stream.gen;
    const now = this.clock.now();
    if (now - stream.lastStartAt >= (this.options.backoff?.resetAfterMs ?? 60_000)) stream.failures = 0;
    const delay = immediate ? 0 : backoffDelay(stream.failures, this.options.backoff, this.random);
    if (!immediate) stream.failures += 1;
    stream.restarts += 1;
    if (mode === "fresh" && gen) {
      this.killGeneration(gen);
      stream.gen = undefined;
    }
    this.log.warn({ informer: stream.label, err: stream.lastError, delayMs: delay, attempt: stream.failures, mode }, "restarting informer");
    stream.restartTimer = this.clock.setTimeout(() => {
      stream.restartTimer = undefined;
      if (!this.running || stream.closed) return;
      const current = stream.gen;
      if (mode === "resume" && current && !current.dead) {
        stream.lastStartAt = this.clock.now();
        stream.lastActivityAt = stream.lastStartAt;
        current.informer.start().catch((err: unknown) => this.onError(stream, current, err, "fresh"));
      } else {
        this.startGeneration(stream);
      }
    }, delay);
  }

  private killGeneration(gen: Generation): void {
    if (gen.dead) return;
    gen.dead = true;
    gen.abort.abort();
    gen.watch.abortAll();
    void gen.informer.stop();
  }

  private closeStream(stream: Stream): void {
    stream.closed = true;
    if (stream.restartTimer !== undefined) {
      this.clock.clearTimeout(stream.restartTimer);
      stream.restartTimer = undefined;
    }
    if (stream.gen) this.killGeneration(stream.gen);
    stream.gen = undefined;
    stream.listed = false;
  }

  private scheduleWatchdog(): void {
    if (this.staleAfterMs <= 0 || !this.running) return;
    this.watchdogTimer = this.clock.setTimeout(() => {
      this.watchdogTimer = undefined;
      if (!this.running) return;
      const now = this.clock.now();
      for (const stream of this.streams.values()) {
        if (!stream.gen || stream.restartTimer !== undefined || stream.closed) continue;
        const silentMs = now - stream.lastActivityAt;
        if (silentMs <= this.staleAfterMs) continue;
        stream.lastError = `no event or bookmark for ${silentMs} ms`;
        stream.lastErrorAt = now;
        this.log.warn({ informer: stream.label, silentMs }, "informer is stale; restarting it");
        this.scheduleRestart(stream, "fresh", true);
      }
      this.scheduleWatchdog();
    }, this.watchdogIntervalMs);
  }
}

function newStream(label: string, kind: ResourceKind, apiVersion: string, path: string, fieldSelector?: string): Stream {
  return {
    label,
    kind,
    apiVersion,
    path,
    fieldSelector,
    known: new Map(),
    listed: false,
    closed: false,
    failures: 0,
    lastStartAt: 0,
    lastActivityAt: 0,
    lists: 0,
    restarts: 0,
  };
}
