/**
 * A small in-process Kubernetes API server for integration tests: enough of
 * list and watch for @kubernetes/client-node informers, plus controls for the
 * failures a real cluster produces (expired watch history, dropped or stalled
 * watches, restarts, error responses) so the watcher's sources can be tested
 * against them without a cluster.
 *
 * Semantics follow the real kube-apiserver where the informer can tell:
 * - one global, monotonically increasing resourceVersion;
 * - a watch from resourceVersion N replays every change after N, a watch
 *   without one (or "0") starts with synthetic ADDED events for every object;
 * - a watch from a compacted resourceVersion is refused with 410 Gone. The
 *   real server (watch cache and etcd alike) answers 200 and sends one ERROR
 *   event carrying a Status with code 410, then closes; `gone: "status"`
 *   answers HTTP 410 instead, which older servers and proxies do;
 * - list items of built-in types carry no apiVersion/kind, CRD items do;
 *   watch event objects always carry both;
 * - the object of a DELETED event carries the deletion's resourceVersion.
 *
 * Only 127.0.0.1 is ever listened on.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";

export interface ApiObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

export interface ResourceType {
  /** "" for the core group. */
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** Built-in types omit apiVersion/kind on list items; CRDs keep them. */
  builtin: boolean;
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  { group: "", version: "v1", plural: "services", kind: "Service", namespaced: true, builtin: true },
  { group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false, builtin: true },
  { group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true, builtin: true },
  { group: "", version: "v1", plural: "events", kind: "Event", namespaced: true, builtin: true },
  { group: "discovery.k8s.io", version: "v1", plural: "endpointslices", kind: "EndpointSlice", namespaced: true, builtin: true },
  { group: "svcbgp.io", version: "v1", plural: "bgpconfigurations", kind: "BGPConfiguration", namespaced: false, builtin: false },
  { group: "svcbgp.io", version: "v1", plural: "bgppeers", kind: "BGPPeer", namespaced: false, builtin: false },
];

function groupVersion(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

interface Change {
  rv: number;
  type: ChangeType;
  resource: ResourceType;
  object: ApiObject;
  /** The object before a MODIFIED change, to turn selector transitions into ADDED/DELETED. */
  previous?: ApiObject;
}

type Selector = (object: ApiObject) => boolean;

interface OpenWatch {
  id: number;
  resource: ResourceType;
  namespace: string | undefined;
  matches: Selector;
  path: string;
  res: http.ServerResponse;
  bookmarks: boolean;
  /** A stalled watch stays open but is sent nothing more: a half-open connection. */
  stalled: boolean;
  timer?: NodeJS.Timeout;
}

export interface RequestRecord {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  watch: boolean;
  /** Set once the response status is known. */
  status?: number;
  authorization?: string;
  at: number;
}

export interface FailureRule {
  /** Matches when the request path equals (string) or matches (RegExp) it; any path when unset. */
  path?: string | RegExp;
  /** Only watches (true) or only non-watch requests (false); both when unset. */
  watch?: boolean;
  method?: string;
  /** HTTP status to answer with (default 500). */
  status?: number;
  /** How many matching requests fail (default 1). */
  times?: number;
}

export interface KubeApiServerOptions {
  /** Fixed port; 0 (default) picks a free one, kept across restart(). */
  port?: number;
  /** How a watch from an expired resourceVersion is refused (see the file comment). */
  gone?: "event" | "status";
  /** Send BOOKMARK events this often to watches that asked for them; 0 (default) only on bookmark(). */
  bookmarkIntervalMs?: number;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token?: string;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function statusBody(code: number, reason: string, message: string): object {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "AlreadyExists",
  410: "Expired",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
};

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function fieldValue(object: ApiObject, field: string): string | undefined {
  switch (field) {
    case "metadata.name":
      return object.metadata.name;
    case "metadata.namespace":
      return object.metadata.namespace ?? "";
    default:
      throw new HttpError(400, `field label not supported: ${field}`);
  }
}

/** Parses `a=b,c!=d` (fields) or `a=b,c!=d,e,!f` (labels) into a predicate. */
function parseSelector(text: string | null, lookup: (object: ApiObject, key: string) => string | undefined, allowExists: boolean): Selector {
  if (!text) return () => true;
  const terms = text.split(",").map((term): Selector => {
    const m = /^\s*([^!=\s]+)\s*(==|=|!=)\s*([^\s]*)\s*$/.exec(term);
    if (m) {
      const [, key, op, value] = m;
      return op === "!=" ? (o) => lookup(o, key) !== value : (o) => lookup(o, key) === value;
    }
    const exists = /^\s*(!?)([^!=\s]+)\s*$/.exec(term);
    if (allowExists && exists) {
      const [, not, key] = exists;
      return not ? (o) => lookup(o, key) === undefined : (o) => lookup(o, key) !== undefined;
    }
    throw new HttpError(400, `unable to parse selector term ${JSON.stringify(term)}`);
  });
  return (object) => terms.every((t) => t(object));
}

export class KubeApiServer {
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly types: ResourceType[] = [...RESOURCE_TYPES];
  private readonly store = new Map<ResourceType, Map<string, ApiObject>>();
  private history: Change[] = [];
  private rv = 1;
  /** Watches from a resourceVersion below this are refused with 410 Gone. */
  private compactedRv = 1;
  private readonly watches = new Set<OpenWatch>();
  private nextWatchId = 1;
  private failures: Array<Required<Omit<FailureRule, "path" | "watch" | "method">> & FailureRule> = [];
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private readonly snapshots = new Map<string, { items: object[]; rv: number }>();
  private portNumber: number;

  /** Every request received, in order (see clearRequests()). */
  readonly requests: RequestRecord[] = [];

  constructor(private readonly options: KubeApiServerOptions = {}) {
    this.portNumber = options.port ?? 0;
    for (const type of this.types) this.store.set(type, new Map());
  }

  static async start(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
    const server = new KubeApiServer(options);
    await server.listen();
    return server;
  }

  get port(): number {
    return this.portNumber;
  }

  get url(): string {
    return `http://127.0.0.1:${this.portNumber}`;
  }

  /** The current (latest) resourceVersion. */
  get resourceVersion(): number {
    return this.rv;
  }

  /** A KubeConfig that points client-node at this server. */
  kubeConfig(): KubeConfig {
    return kubeConfigFor(this.url, this.options.token);
  }

  // ---- lifecycle ---------------------------------------------------------

  async listen(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.portNumber, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.portNumber = (server.address() as AddressInfo).port;
    this.server = server;
    if (this.options.bookmarkIntervalMs) {
      this.bookmarkTimer = setInterval(() => this.bookmark(), this.options.bookmarkIntervalMs);
      this.bookmarkTimer.unref();
    }
  }

  /** Stops listening and destroys every connection (watches end abruptly). State is kept. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    clearInterval(this.bookmarkTimer);
    this.bookmarkTimer = undefined;
    for (const watch of this.watches) this.endWatch(watch, false);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /**
   * Closes and reopens on the same port. With `keepHistory: false` the new
   * server's history starts now, as when a restarted apiserver's watch cache
   * (or a restored etcd) cannot serve older resourceVersions: clients must
   * re-list. `whileDown` runs while nothing listens (to change objects then).
   */
  async restart(options: { keepHistory?: boolean; whileDown?: () => void | Promise<void> } = {}): Promise<void> {
    await this.close();
    await options.whileDown?.();
    if (options.keepHistory === false) this.expireHistory();
    await this.listen();
  }

  // ---- test controls -----------------------------------------------------

  /**
   * Compacts all history: the next watch from any resourceVersion handed out
   * so far gets 410 Gone. Open watches are unaffected (as with etcd
   * compaction) until they reconnect; combine with dropWatches() to force it.
   */
  expireHistory(): void {
    this.rv += 1;
    this.compactedRv = this.rv;
    this.history = [];
    this.snapshots.clear();
  }

  /**
   * Closes every open watch. Abruptly (default) destroys the socket, so the
   * client sees a broken chunked stream; `graceful` ends the response as the
   * apiserver does when a watch times out. Returns how many were closed.
   */
  dropWatches(options: { graceful?: boolean; path?: string } = {}): number {
    let n = 0;
    for (const watch of [...this.watches]) {
      if (options.path && watch.path !== options.path) continue;
      this.endWatch(watch, options.graceful ?? false);
      n++;
    }
    return n;
  }

  /** Open watches stop receiving events but stay connected (a silent, half-open watch). */
  stallWatches(options: { path?: string } = {}): number {
    let n = 0;
    for (const watch of this.watches) {
      if (options.path && watch.path !== options.path) continue;
      watch.stalled = true;
      n++;
    }
    return n;
  }

  /** Sends a BOOKMARK at the current resourceVersion to watches that allow bookmarks. */
  bookmark(): void {
    for (const watch of this.watches) {
      if (!watch.bookmarks || watch.stalled) continue;
      this.send(watch, "BOOKMARK", {
        apiVersion: groupVersion(watch.resource),
        kind: watch.resource.kind,
        metadata: { resourceVersion: String(this.rv) },
      });
    }
  }

  /** Open watches, optionally only those on `path`. */
  openWatches(path?: string): number {
    let n = 0;
    for (const watch of this.watches) if (!path || watch.path === path) n++;
    return n;
  }

  /** Makes the next matching request(s) fail with an error Status. */
  failNext(rule: FailureRule = {}): void {
    this.failures.push({ ...rule, status: rule.status ?? 500, times: rule.times ?? 1 });
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Requests matching a path (exact string or RegExp) and, optionally, watch or not. */
  requestsTo(path: string | RegExp, watch?: boolean): RequestRecord[] {
    return this.requests.filter(
      (r) => (typeof path === "string" ? r.path === path : path.test(r.path)) && (watch === undefined || r.watch === watch),
    );
  }

  /** Events (core/v1) that clients created, oldest first. */
  get events(): ApiObject[] {
    return [...this.bucket(this.typeFor("v1", "Event")).values()].map(clone);
  }

  // ---- objects -----------------------------------------------------------

  /** Creates an object (apiVersion and kind select its type); throws if it exists. */
  create(object: ApiObject): ApiObject {
    const type = this.typeFor(object.apiVersion, object.kind);
    const stored = this.normalize(type, clone(object));
    const key = this.key(type, stored);
    const bucket = this.bucket(type);
    if (bucket.has(key)) throw new Error(`${type.kind} ${key} already exists`);
    stored.metadata.uid ??= randomUUID();
    stored.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, "Z");
    stored.metadata.resourceVersion = String(++this.rv);
    bucket.set(key, stored);
    this.record({ rv: this.rv, type: "ADDED", resource: type, object: stored });
    return clone(stored);
  }

  /** Replaces an existing object (uid and creationTimestamp are kept); throws if absent. */
  update(object: ApiObject): ApiObject {
    const type = this.typeFor(object.apiVersion, object.kind);
    const stored = this.normalize(type, clone(object));
    const key = this.key(type, stored);
    const bucket = this.bucket(type);
    const previous = bucket.get(key);
    if (!previous) throw new Error(`${type.kind} ${key} not found`);
    stored.metadata.uid = previous.metadata.uid;
    stored.metadata.creationTimestamp = previous.metadata.creationTimestamp;
    stored.metadata.resourceVersion = String(++this.rv);
    bucket.set(key, stored);
    this.record({ rv: this.rv, type: "MODIFIED", resource: type, object: stored, previous });
    return clone(stored);
  }

  /** create() or update(), whichever applies. */
  apply(object: ApiObject): ApiObject {
    return this.get(object) ? this.update(object) : this.create(object);
  }

  /** Deletes an object by apiVersion, kind, namespace and name; returns it, or undefined if absent. */
  delete(ref: ApiObject): ApiObject | undefined {
    const type = this.typeFor(ref.apiVersion, ref.kind);
    const key = this.key(type, this.normalize(type, clone(ref)));
    const bucket = this.bucket(type);
    const previous = bucket.get(key);
    if (!previous) return undefined;
    bucket.delete(key);
    const gone = clone(previous);
    gone.metadata.resourceVersion = String(++this.rv);
    this.record({ rv: this.rv, type: "DELETED", resource: type, object: gone });
    return clone(gone);
  }

  get(ref: ApiObject): ApiObject | undefined {
    const type = this.typeFor(ref.apiVersion, ref.kind);
    const found = this.bucket(type).get(this.key(type, this.normalize(type, clone(ref))));
    return found && clone(found);
  }

  list(apiVersion: string, kind: string): ApiObject[] {
    return [...this.bucket(this.typeFor(apiVersion, kind)).values()].map(clone);
  }

  // ---- internals ---------------------------------------------------------

  private typeFor(apiVersion: string | undefined, kind: string | undefined): ResourceType {
    const type = this.types.find((t) => groupVersion(t) === apiVersion && t.kind === kind);
    if (!type) throw new Error(`unknown resource type ${apiVersion} ${kind}`);
    return type;
  }

  private bucket(type: ResourceType): Map<string, ApiObject> {
    return this.store.get(type)!;
  }

  private normalize(type: ResourceType, object: ApiObject): ApiObject {
    object.apiVersion = groupVersion(type);
    object.kind = type.kind;
    if (type.namespaced) object.metadata.namespace ??= "default";
    else delete object.metadata.namespace;
    if (!object.metadata.name) throw new Error(`${type.kind} without metadata.name`);
    return object;
  }

  private key(type: ResourceType, object: ApiObject): string {
    return type.namespaced ? `${object.metadata.namespace}/${object.metadata.name}` : String(object.metadata.name);
  }

  private record(change: Change): void {
    this.history.push(change);
    for (const watch of this.watches) {
      if (watch.resource === change.resource) this.deliver(watch, change);
    }
  }

  private deliver(watch: OpenWatch, change: Change): void {
    if (watch.stalled) return;
    const inScope = (o: ApiObject | undefined): boolean =>
      o !== undefined && (watch.namespace === undefined || o.metadata.namespace === watch.namespace) && watch.matches(o);
    const now = inScope(change.object);
    switch (change.type) {
      case "ADDED":
        if (now) this.send(watch, "ADDED", change.object);
        break;
      case "DELETED":
        if (now) this.send(watch, "DELETED", change.object);
        break;
      case "MODIFIED": {
        // As the apiserver does: an object entering a selector is ADDED, one leaving it DELETED.
        const before = inScope(change.previous);
        if (before && now) this.send(watch, "MODIFIED", change.object);
        else if (now) this.send(watch, "ADDED", change.object);
        else if (before) this.send(watch, "DELETED", change.object);
        break;
      }
    }
  }

  private send(watch: OpenWatch, type: string, object: object): void {
    if (watch.res.writableEnded || watch.res.destroyed) return;
    watch.res.write(JSON.stringify({ type, object }) + "\n");
  }

  private endWatch(watch: OpenWatch, graceful: boolean): void {
    this.watches.delete(watch);
    clearTimeout(watch.timer);
    if (graceful) watch.res.end();
    else watch.res.socket?.destroy();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const query = Object.fromEntries(url.searchParams);
    const watch = query.watch === "true" || query.watch === "1";
    const record: RequestRecord = {
      method: req.method ?? "GET",
      path: url.pathname,
      query,
      watch,
      authorization: req.headers.authorization,
      at: Date.now(),
    };
    this.requests.push(record);
    const respond = (status: number, body: object): void => {
      record.status = status;
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const fail = (err: unknown): void => {
      const code = err instanceof HttpError ? err.code : 500;
      respond(code, statusBody(code, REASONS[code] ?? "InternalError", err instanceof Error ? err.message : String(err)));
    };

    try {
      if (this.options.token !== undefined && req.headers.authorization !== `Bearer ${this.options.token}`) {
        throw new HttpError(401, "Unauthorized");
      }
      const failure = this.failures.find(
        (f) =>
          (f.path === undefined || (typeof f.path === "string" ? f.path === url.pathname : f.path.test(url.pathname))) &&
          (f.watch === undefined || f.watch === watch) &&
          (f.method === undefined || f.method === req.method),
      );
      if (failure) {
        if (--failure.times <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
        throw new HttpError(failure.status, `injected failure for ${url.pathname}`);
      }
      const target = this.route(url.pathname);
      if (req.method === "GET" && target.name === undefined && watch) {
        this.serveWatch(target.type, target.namespace, url, res, record);
      } else if (req.method === "GET" && target.name === undefined) {
        respond(200, this.serveList(target.type, target.namespace, url));
      } else if (req.method === "GET") {
        const found = this.bucket(target.type).get(target.type.namespaced ? `${target.namespace}/${target.name}` : target.name!);
        if (!found) throw new HttpError(404, `${target.type.plural} "${target.name}" not found`);
        respond(200, found);
      } else if (req.method === "POST" && target.name === undefined) {
        this.readBody(req)
          .then((body) => {
            const object = body as ApiObject;
            if (typeof object !== "object" || object === null || typeof object.metadata !== "object") {
              throw new HttpError(400, "body is not an object with metadata");
            }
            object.apiVersion ??= groupVersion(target.type);
            object.kind ??= target.type.kind;
            if (object.apiVersion !== groupVersion(target.type) || object.kind !== target.type.kind) {
              throw new HttpError(400, `body is ${object.apiVersion} ${object.kind}, not ${target.type.kind}`);
            }
            if (target.type.namespaced) {
              if (object.metadata.namespace && object.metadata.namespace !== target.namespace) {
                throw new HttpError(400, "the namespace of the object does not match the namespace on the request");
              }
              object.metadata.namespace = target.namespace;
            }
            if (!object.metadata.name && object.metadata.generateName) {
              object.metadata.name = object.metadata.generateName + randomUUID().slice(0, 5);
            }
            if (!object.metadata.name) throw new HttpError(422, "metadata.name: Required value");
            if (this.get(object)) throw new HttpError(409, `${target.type.plural} "${object.metadata.name}" already exists`);
            respond(201, this.create(object));
          })
          .catch(fail);
      } else {
        throw new HttpError(405, `${req.method} not supported on ${url.pathname}`);
      }
    } catch (err) {
      fail(err);
    }
  }

  private route(pathname: string): { type: ResourceType; namespace: string | undefined; name: string | undefined } {
    const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === "api" && parts.length >= 2) {
      [group, version, rest] = ["", parts[1], parts.slice(2)];
    } else if (parts[0] === "apis" && parts.length >= 3) {
      [group, version, rest] = [parts[1], parts[2], parts.slice(3)];
    } else {
      throw new HttpError(404, `the server could not find the requested resource (${pathname})`);
    }
    let namespace: string | undefined;
    if (rest[0] === "namespaces" && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const type = this.types.find((t) => t.group === group && t.version === version && t.plural === rest[0]);
    if (!type || rest.length > 2 || (namespace !== undefined && !type.namespaced)) {
      throw new HttpError(404, `the server could not find the requested resource (${pathname})`);
    }
    if (rest.length === 2 && type.namespaced && namespace === undefined) {
      throw new HttpError(404, `the server could not find the requested resource (${pathname})`);
    }
    return { type, namespace, name: rest[1] };
  }

  private selectorFor(url: URL): Selector {
    const fields = parseSelector(url.searchParams.get("fieldSelector"), fieldValue, false);
    const labels = parseSelector(url.searchParams.get("labelSelector"), (o, key) => o.metadata.labels?.[key], true);
    return (o) => fields(o) && labels(o);
  }

  private serveList(type: ResourceType, namespace: string | undefined, url: URL): object {
    const limit = Number(url.searchParams.get("limit") ?? 0);
    const token = url.searchParams.get("continue");
    let items: object[];
    let rv: number;
    let offset = 0;
    let snapshotId: string | undefined;
    if (token) {
      // A continue token names a snapshot taken by the first page, so pages are consistent.
      const parsed = JSON.parse(Buffer.from(token, "base64url").toString()) as { id: string; offset: number };
      const snapshot = this.snapshots.get(parsed.id);
      if (!snapshot) throw new HttpError(410, "The provided continue parameter is too old to display a consistent list result.");
      ({ items, rv } = snapshot);
      offset = parsed.offset;
      snapshotId = parsed.id;
    } else {
      const matches = this.selectorFor(url);
      items = [...this.bucket(type).values()]
        .filter((o) => (namespace === undefined || o.metadata.namespace === namespace) && matches(o))
        .map((o) => {
          const item = clone(o);
          if (type.builtin) {
            delete item.apiVersion;
            delete item.kind;
          }
          return item;
        });
      rv = this.rv;
    }
    const metadata: Record<string, string | number> = { resourceVersion: String(rv) };
    if (limit > 0 && offset + limit < items.length) {
      snapshotId ??= randomUUID();
      this.snapshots.set(snapshotId, { items, rv });
      metadata.continue = Buffer.from(JSON.stringify({ id: snapshotId, offset: offset + limit })).toString("base64url");
      metadata.remainingItemCount = items.length - offset - limit;
    } else if (snapshotId) {
      this.snapshots.delete(snapshotId);
    }
    const page = limit > 0 ? items.slice(offset, offset + limit) : items.slice(offset);
    return { kind: `${type.kind}List`, apiVersion: groupVersion(type), metadata, items: page };
  }

  private serveWatch(type: ResourceType, namespace: string | undefined, url: URL, res: http.ServerResponse, record: RequestRecord): void {
    const matches = this.selectorFor(url);
    const rvParam = url.searchParams.get("resourceVersion") ?? "";
    const from = rvParam === "" || rvParam === "0" ? undefined : Number(rvParam);
    if (from !== undefined && !Number.isSafeInteger(from)) throw new HttpError(400, `invalid resourceVersion ${rvParam}`);
    const tooOld = from !== undefined && from < this.compactedRv;
    const goneMessage = `too old resource version: ${from} (${this.compactedRv})`;
    if (tooOld && this.options.gone === "status") throw new HttpError(410, goneMessage);

    record.status = 200;
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    res.flushHeaders();
    const watch: OpenWatch = {
      id: this.nextWatchId++,
      resource: type,
      namespace,
      matches,
      path: url.pathname,
      res,
      bookmarks: url.searchParams.get("allowWatchBookmarks") === "true",
      stalled: false,
    };
    if (tooOld) {
      this.send(watch, "ERROR", statusBody(410, "Expired", goneMessage));
      res.end();
      return;
    }
    const inScope = (o: ApiObject): boolean => (namespace === undefined || o.metadata.namespace === namespace) && matches(o);
    if (from === undefined) {
      for (const object of this.bucket(type).values()) if (inScope(object)) this.send(watch, "ADDED", object);
    } else {
      for (const change of this.history) if (change.rv > from && change.resource === type) this.deliver(watch, change);
    }
    this.watches.add(watch);
    const timeout = Number(url.searchParams.get("timeoutSeconds") ?? 0);
    if (timeout > 0) watch.timer = setTimeout(() => this.endWatch(watch, true), timeout * 1000);
    res.on("close", () => {
      clearTimeout(watch.timer);
      this.watches.delete(watch);
    });
  }

  private readBody(req: http.IncomingMessage): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("error", reject);
      req.on("end", () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        } catch (err) {
          reject(new HttpError(400, `invalid JSON body: ${(err as Error).message}`));
        }
      });
    });
  }
}

/**
 * A KubeConfig for a plain-HTTP API server at `url`. client-node refuses
 * http: servers unless skipTLSVerify is set, so it is.
 */
export function kubeConfigFor(url: string, token?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "test", server: url, skipTLSVerify: true }],
    users: [token === undefined ? { name: "test" } : { name: "test", token }],
    contexts: [{ name: "test", cluster: "test", user: "test", namespace: "default" }],
    currentContext: "test",
  });
  return kc;
}
