/**
 * The `--manifests DIR` source, for the local stack and for feeding the
 * watcher cluster scenarios without a cluster: every *.yaml, *.yml and *.json
 * under DIR (recursively), multi-document, re-read when anything changes.
 *
 * - The first read delivers every kind with sink.replace; after that only
 *   objects whose effective definition changed are delivered, with
 *   sink.apply, so one edit among 10,000 Services costs one event, not a
 *   re-list. A deleted file's objects are deleted.
 * - fs.watch events re-read only the files they name; an event naming a
 *   directory (or no file) re-lists the directory, reading only the files
 *   whose (mtime, size, inode) changed, as the poll fallback does. Files
 *   reached through a symlink are re-checked on every event, since what
 *   changes them (a ConfigMap's `..data` swap) names no listed file.
 * - When several files define an object, the last in path order wins.
 * - A file that fails to parse keeps its last good objects (an editor's
 *   half-saved file must not withdraw routes), and the file, line and error
 *   are logged and kept in errors(). A file that held objects and reads
 *   empty is read again a moment later before its objects go: writing in
 *   place truncates first.
 * - Unknown kinds (the seed's Deployment, say) are ignored with a warning.
 *
 * YAML is parsed by libs/config's parseManifestValues (YAML 1.2, of which JSON
 * is a subset, so .json files go through the same parser and get line numbers).
 * Hidden entries are skipped: editors' swap files, and the `..data` and
 * `..<timestamp>` entries of a mounted ConfigMap, whose files are reached
 * through their top-level symlinks instead.
 */
import { close, open, read, stat as statCallback, watch as fsWatch, type FSWatcher, type Stats } from "node:fs";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { parseManifestValues } from "@svcbgp/config";
import { errorMessage, noopLogger, type SourceLogger } from "./logger.js";
import { objectKey, type KubeObject, type ResourceKind, type ResourceSink, type ResourceSource } from "./source.js";

export const MANIFEST_KINDS: readonly ResourceKind[] = ["Service", "EndpointSlice", "Node", "Secret", "BGPConfiguration", "BGPPeer"];

const NAMESPACED: ReadonlySet<ResourceKind> = new Set(["Service", "EndpointSlice", "Secret"]);

const EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

/** Short: it only has to gather one burst of writes (an editor's save, a `cp -r`). */
const DEFAULT_DEBOUNCE_MS = 10;
/** Bounds the debounce, so a steady stream of writes is still read. */
const DEFAULT_MAX_WAIT_MS = 200;
const DEFAULT_POLL_INTERVAL_MS = 5000;
/**
 * A file that held objects and reads empty is read again this much later
 * before its objects are deleted: writing a file in place truncates it
 * first, and a read between the truncation and the write would otherwise
 * withdraw every route the file defines.
 */
const DEFAULT_EMPTY_SETTLE_MS = 250;
/** Files stat'ed and read at once during a scan: enough to hide I/O latency, few enough for the fd limit. */
const IO_CONCURRENCY = 32;
/**
 * A file modified this close to when it was stat'ed may be written again
 * within the same timestamp tick (coarse on some file systems: 2 s on FAT),
 * leaving (mtime, size, inode) unchanged; its stamp is not trusted, so the
 * next scan reads it again.
 */
const RACY_WINDOW_MS = 2000;
/**
 * Where fs.watch is recursive natively. Elsewhere (Linux) Node emulates it
 * with a watch per file, which never re-watches a file replaced by a rename
 * (an editor's atomic save) and names only the temporary file; so the source
 * watches each directory itself, which names every entry that changes.
 */
const NATIVE_RECURSIVE_WATCH = process.platform === "darwin" || process.platform === "win32";

/** Which ResourceKind an apiVersion + kind is, or undefined if the watcher does not follow it. */
export function resourceKindOf(apiVersion: unknown, kind: unknown): ResourceKind | undefined {
  switch (kind) {
    case "Service":
    case "Node":
    case "Secret":
      return apiVersion === "v1" ? kind : undefined;
    case "EndpointSlice":
      return apiVersion === "discovery.k8s.io/v1" ? kind : undefined;
    case "BGPConfiguration":
    case "BGPPeer":
      // Calico's API (so the seed's manifests work as written) and the project's own CRDs.
      return apiVersion === "projectcalico.org/v3" || apiVersion === "svcbgp.io/v1" ? kind : undefined;
    default:
      return undefined;
  }
}

export class ManifestParseError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
    readonly detail: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}${column !== undefined ? `:${column}` : ""}` : ""}: ${detail}`);
    this.name = "ManifestParseError";
  }
}

export interface ParsedManifest {
  objects: Array<{ kind: ResourceKind; object: KubeObject }>;
  /** Documents skipped, one line each ("file:line: why"). */
  warnings: string[];
}

/**
 * Parses one file's text (with libs/config's parseManifestValues). Throws
 * ManifestParseError if any document is not valid YAML: a file is taken
 * whole or not at all.
 */
export function parseManifestText(text: string, file: string): ParsedManifest {
  const { values, errors } = parseManifestValues(text, file);
  const [error] = errors;
  if (error) throw new ManifestParseError(file, error.line, error.column, error.message);
  const result: ParsedManifest = { objects: [], warnings: [] };
  for (const { value, line, item } of values) collect(value, `${file}:${line}${item === undefined ? "" : ` (item ${item})`}`, result);
  return result;
}

function collect(value: unknown, where: string, out: ParsedManifest): void {
  if (value === null || value === undefined) return; // an empty document, e.g. a trailing `---`
  if (typeof value !== "object" || Array.isArray(value)) {
    out.warnings.push(`${where}: ignoring a document that is not a mapping`);
    return;
  }
  const doc = value as Record<string, unknown>;
  // `kind: List` (what `kubectl get -o yaml` prints) and typed lists such as ServiceList.
  if (typeof doc.kind === "string" && doc.kind.endsWith("List") && Array.isArray(doc.items)) {
    doc.items.forEach((item, i) => collect(item, `${where} (item ${i})`, out));
    return;
  }
  const kind = resourceKindOf(doc.apiVersion, doc.kind);
  const metadata = doc.metadata as Record<string, unknown> | undefined;
  const name = typeof metadata?.name === "string" ? metadata.name : undefined;
  const label = `${String(doc.apiVersion)} ${String(doc.kind)}${name ? ` ${name}` : ""}`;
  if (!kind) {
    out.warnings.push(`${where}: ignoring ${label}: not a kind the watcher follows`);
    return;
  }
  if (!name) {
    out.warnings.push(`${where}: ignoring ${label}: no metadata.name`);
    return;
  }
  out.objects.push({ kind, object: normalize(kind, doc as KubeObject) });
}

/** What the API server would have stored for this manifest, in the respects the watcher can see. */
function normalize(kind: ResourceKind, object: KubeObject): KubeObject {
  const metadata = object.metadata;
  if (NAMESPACED.has(kind)) metadata.namespace = typeof metadata.namespace === "string" && metadata.namespace ? metadata.namespace : "default";
  else delete metadata.namespace;
  // Label and annotation values are strings in the API; YAML may have read `true` or `100` unquoted.
  for (const field of ["labels", "annotations"] as const) {
    const map = metadata[field] as Record<string, unknown> | undefined;
    if (map && typeof map === "object") {
      for (const [k, v] of Object.entries(map)) if (typeof v !== "string") map[k] = v === null ? "" : String(v);
    }
  }
  if (kind === "Secret" && object.stringData && typeof object.stringData === "object") {
    // The API server folds stringData into data on write; consumers only look at data.
    const data = { ...((object.data as Record<string, string> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(object.stringData as Record<string, unknown>)) data[k] = Buffer.from(String(v)).toString("base64");
    object.data = data;
    delete object.stringData;
  }
  return object;
}

export interface ManifestsSourceOptions {
  dir: string;
  logger?: SourceLogger;
  /** Read changed files this long after the last file-system event, so a burst of writes is read once (default 10 ms). */
  debounceMs?: number;
  /** Read at most this long after the first event of a burst, however long it goes on (default 200 ms). */
  maxWaitMs?: number;
  /**
   * Also re-list on this interval, for file systems where fs.watch sees
   * nothing (network and some container mounts); 0 disables (default 5 s).
   */
  pollIntervalMs?: number;
  /** Watch with fs.watch (default true). */
  watch?: boolean;
  /** How long a file that held objects must stay empty before they are deleted (default 250 ms). */
  emptySettleMs?: number;
}

export interface ManifestFileError {
  /** Path relative to the directory. */
  file: string;
  line?: number;
  column?: number;
  message: string;
}

/** One object as a file defines it. */
interface Definition {
  kind: ResourceKind;
  key: string;
  object: KubeObject;
  /** Its JSON text: what tells a changed object from an unchanged one. */
  signature: string;
}

interface FileState {
  text: string;
  /** "mtime:size:inode" when last read, or undefined when it must be read again regardless. */
  stamp: string | undefined;
  /** By objectId; one per object (the file's last definition of it). */
  definitions: Map<string, Definition>;
  error?: ManifestFileError;
}

/** How much of the directory a pass re-lists: every file read, or only files whose stamp changed. */
type ScanMode = "all" | "changed";

/** A listing's progress: directories seen (by real path, against symlink loops, and as listed), files reached through symlinks. */
interface Walk {
  visited: Set<string>;
  dirs: Set<string>;
  linked: Set<string>;
}

/** What one file read found. */
type Loaded = { text: string; stamp: string | undefined } | "unchanged" | "gone" | "not-a-file" | "unreadable";

/** Kinds and keys in one namespace: "Service/default/nginx", "BGPPeer/tor". */
function objectId(kind: ResourceKind, key: string): string {
  return `${kind}/${key}`;
}

/** The order "last file wins" is decided in. */
function comparePaths(a: string, b: string): number {
  return a.localeCompare(b);
}

/*
 * A scan stats and reads every file through fs's callback API: fs/promises
 * costs about twice the CPU per call (a FileHandle and several promises per
 * readFile, on Node 20), which 10,000 files made more than a second.
 */

function statFile(file: string): Promise<Stats> {
  return new Promise((resolve, reject) => statCallback(file, (err, stats) => (err ? reject(err) : resolve(stats))));
}

/** A file's text, decoded as readFile(file, "utf8") does; `size` (from a stat) sizes the first read. */
function readText(file: string, size: number): Promise<string> {
  return new Promise((resolve, reject) => {
    open(file, "r", (openErr, fd) => {
      if (openErr) return reject(openErr);
      const chunks: Buffer[] = [];
      let total = 0;
      const finish = (err: NodeJS.ErrnoException | null) =>
        close(fd, (closeErr) => {
          if (err ?? closeErr) reject(err ?? closeErr);
          else resolve((chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total)).toString("utf8"));
        });
      // Until a short read: a file that grew since the stat is read whole.
      const next = (length: number) => {
        const buffer = Buffer.allocUnsafe(length);
        read(fd, buffer, 0, length, null, (err, n) => {
          if (err) return finish(err);
          chunks.push(buffer.subarray(0, n));
          total += n;
          if (n < length) finish(null);
          else next(Math.max(length, 64 * 1024));
        });
      };
      next(size + 1);
    });
  });
}

/**
 * A deep copy of a parsed object, as structuredClone makes it (a value the
 * object holds twice, through a YAML alias, is copied once and shared) but
 * several times faster: plain objects and arrays, all that the fast YAML path
 * makes, are copied here; anything else (a Date or a Set from YAML 1.1 tags)
 * goes to structuredClone.
 */
function copyObject<T>(object: T): T {
  return copyValue(object, new Map()) as T;
}

function copyValue(value: unknown, seen: Map<object, unknown>): unknown {
  if (typeof value !== "object" || value === null) return value;
  const copied = seen.get(value);
  if (copied !== undefined) return copied;
  if (Array.isArray(value)) {
    const array: unknown[] = new Array(value.length);
    seen.set(value, array);
    for (let i = 0; i < value.length; i++) array[i] = copyValue(value[i], seen);
    return array;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) {
    const clone: unknown = structuredClone(value);
    seen.set(value, clone);
    return clone;
  }
  const map: Record<string, unknown> = {};
  seen.set(value, map);
  for (const key of Object.keys(value)) {
    const item = copyValue((value as Record<string, unknown>)[key], seen);
    // An own `__proto__` (YAML can have one) stays a property, as structuredClone keeps it.
    if (key === "__proto__") Object.defineProperty(map, key, { value: item, writable: true, enumerable: true, configurable: true });
    else map[key] = item;
  }
  return map;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export class ManifestsSource implements ResourceSource {
  private readonly dir: string;
  private readonly log: SourceLogger;
  private readonly files = new Map<string, FileState>();
  /** The files defining each object (usually one). */
  private readonly definers = new Map<string, Set<string>>();
  /** What the sink was last given for each object. */
  private readonly delivered = new Map<string, Definition>();
  private sink: ResourceSink | undefined;
  private running = false;
  private scanned = false;
  /** Whether the sink has had its first replace of every kind. */
  private replaced = false;
  /** Listed files reached through a symlink: a change anywhere may change what they read. */
  private linked = new Set<string>();
  /** Files that read empty once after holding objects, awaiting the re-read that confirms it. */
  private readonly emptied = new Map<string, { since: number; timer: NodeJS.Timeout }>();
  private watching = false;
  /** By directory (just this.dir when watching recursively), with the inode watched. */
  private readonly watchers = new Map<string, { watcher: FSWatcher; ino: number }>();
  /** Directories that could not be watched, warned about once until they can. */
  private readonly unwatchable = new Set<string>();
  private debounceTimer: NodeJS.Timeout | undefined;
  private burstStart: number | undefined;
  private eventFiles = new Set<string>();
  private eventRescan = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private pending: { scan: ScanMode | undefined; files: Set<string> } = { scan: undefined, files: new Set() };
  private passing: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly options: ManifestsSourceOptions) {
    this.dir = path.resolve(options.dir);
    this.log = options.logger ?? noopLogger;
  }

  get synced(): boolean {
    return this.running && this.scanned;
  }

  /** Reads the directory once (rejecting if it cannot be read), delivers every kind, then watches. */
  async start(sink: ResourceSink): Promise<void> {
    if (this.running) throw new Error("ManifestsSource already started");
    const info = await stat(this.dir);
    if (!info.isDirectory()) throw new Error(`--manifests ${this.dir}: not a directory`);
    this.sink = sink;
    this.running = true;
    this.replaced = false;
    // Directories are watched as they are listed (before they are read, so nothing written meanwhile is missed).
    this.watching = this.options.watch ?? true;
    try {
      await this.reload();
    } catch (err) {
      this.running = false;
      this.unwatch();
      throw err;
    }
    if (this.watching && NATIVE_RECURSIVE_WATCH) this.watchRecursively();
    this.schedulePoll();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unwatch();
    clearTimeout(this.debounceTimer);
    this.debounceTimer = undefined;
    this.burstStart = undefined;
    clearTimeout(this.pollTimer);
    for (const file of [...this.emptied.keys()]) this.forgetEmptied(file);
    await this.passing?.catch(() => undefined);
  }

  /**
   * Re-reads the whole directory now. Resolves after a read that started
   * after the call, so changes made before calling are seen.
   */
  reload(): Promise<void> {
    return this.request("all");
  }

  /** Files currently failing to parse (their last good objects are still in force). */
  errors(): ManifestFileError[] {
    return [...this.files.values()].flatMap((f) => (f.error ? [f.error] : []));
  }

  private watchRecursively(): void {
    try {
      const watcher = fsWatch(this.dir, { recursive: true }, (_event, name) => this.changed(name ? path.resolve(this.dir, name) : undefined));
      this.watchers.set(this.dir, { watcher, ino: 0 });
      watcher.on("error", (err) => {
        this.log.warn({ dir: this.dir, err: errorMessage(err) }, "watching the manifests directory failed; polling only");
        this.dropWatcher(this.dir, watcher);
      });
    } catch (err) {
      this.log.warn({ dir: this.dir, err: errorMessage(err) }, "cannot watch the manifests directory; polling only");
    }
  }

  /** Watches one listed directory (again, if it was replaced: a watch follows the inode). */
  private async watchDir(dir: string): Promise<void> {
    let ino: number;
    try {
      ino = (await stat(dir)).ino;
    } catch {
      return; // the listing reports it
    }
    if (!this.watching) return; // stopped meanwhile
    const current = this.watchers.get(dir);
    if (current?.ino === ino) return;
    if (current) this.dropWatcher(dir, current.watcher);
    try {
      const watcher = fsWatch(dir, (_event, name) => this.changed(name ? path.join(dir, name) : undefined));
      this.watchers.set(dir, { watcher, ino });
      this.unwatchable.delete(dir);
      watcher.on("error", (err) => {
        this.log.warn({ dir: this.relative(dir), err: errorMessage(err) }, "watching a manifests directory failed; polling it");
        this.dropWatcher(dir, watcher);
      });
    } catch (err) {
      // ENOSPC: out of inotify watches, say. The poll still reads it.
      if (!this.unwatchable.has(dir)) this.log.warn({ dir: this.relative(dir), err: errorMessage(err) }, "cannot watch a manifests directory; polling it");
      this.unwatchable.add(dir);
    }
  }

  private dropWatcher(dir: string, watcher: FSWatcher): void {
    watcher.close();
    if (this.watchers.get(dir)?.watcher === watcher) this.watchers.delete(dir);
  }

  private unwatch(): void {
    this.watching = false;
    for (const [dir, { watcher }] of this.watchers) this.dropWatcher(dir, watcher);
  }

  /** Gathers an event's path (undefined: somewhere), and reads the burst once it pauses or has gone on for maxWaitMs. */
  private changed(file: string | undefined): void {
    if (!this.running) return;
    if (file) this.eventFiles.add(file);
    else this.eventRescan = true;
    const now = Date.now();
    this.burstStart ??= now;
    const debounce = this.options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    const maxWait = this.options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => this.flushEvents(), Math.max(0, Math.min(debounce, this.burstStart + maxWait - now)));
  }

  private flushEvents(): void {
    this.debounceTimer = undefined;
    this.burstStart = undefined;
    const files = this.eventFiles;
    const rescan = this.eventRescan;
    this.eventFiles = new Set();
    this.eventRescan = false;
    this.request(rescan ? "changed" : undefined, files).catch((err: unknown) => {
      this.log.error({ dir: this.dir, err: errorMessage(err) }, "applying manifest changes failed");
    });
  }

  private schedulePoll(): void {
    const interval = this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    if (interval <= 0 || !this.running) return;
    this.pollTimer = setTimeout(() => {
      if (!this.running) return;
      // A watcher lost to an error (the directory was replaced, say) comes back here; per-directory ones with the listing.
      if (this.watching && NATIVE_RECURSIVE_WATCH && this.watchers.size === 0) this.watchRecursively();
      this.request("changed")
        .catch((err: unknown) => this.log.error({ dir: this.dir, err: errorMessage(err) }, "polling the manifests directory failed"))
        .finally(() => this.schedulePoll());
    }, interval);
  }

  /**
   * Adds work for the next pass and resolves when a pass that includes it
   * has finished. Passes never overlap: work arriving during one is merged
   * into the next.
   */
  private request(scan: ScanMode | undefined, files: Iterable<string> = []): Promise<void> {
    if (scan === "all" || (scan === "changed" && this.pending.scan === undefined)) this.pending.scan = scan;
    for (const file of files) this.pending.files.add(file);
    if (!this.passing) {
      this.passing = this.pass().finally(() => {
        this.passing = undefined;
      });
      return this.passing;
    }
    this.queued ??= this.passing
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.request(undefined);
      });
    return this.queued;
  }

  private async pass(): Promise<void> {
    const { scan, files } = this.pending;
    this.pending = { scan: undefined, files: new Set() };
    const touched = new Set<string>();
    let mode = scan;
    if (!mode && files.size > 0 && !(await this.readNamed(files, touched))) mode = "changed";
    // Named files are read even if their stamp looks unchanged: an event says they changed.
    if (mode && !(await this.scan(mode, files, touched))) return;
    if (this.running) this.deliver(touched);
  }

  /**
   * Re-lists the directory and reads its files (all of them, or those whose
   * stamp changed, plus `force`). Returns false, keeping everything, if the
   * directory cannot be read; throws then if it never could.
   */
  private async scan(mode: ScanMode, force: ReadonlySet<string>, touched: Set<string>): Promise<boolean> {
    const walk: Walk = { visited: new Set(), dirs: new Set(), linked: new Set() };
    let paths: string[];
    try {
      paths = await this.listFiles(this.dir, walk, false);
    } catch (err) {
      // Keep everything: a directory briefly missing (being replaced) must not withdraw routes.
      this.log.error({ dir: this.dir, err: errorMessage(err) }, "cannot read the manifests directory; keeping the last objects");
      if (!this.scanned) throw err;
      return false;
    }
    this.linked = walk.linked;
    if (!NATIVE_RECURSIVE_WATCH) for (const [dir, { watcher }] of this.watchers) if (!walk.dirs.has(dir)) this.dropWatcher(dir, watcher);
    const present = new Set(paths);
    for (const file of [...this.files.keys()]) if (!present.has(file)) this.remove(file, touched);
    const loaded = await mapLimit(paths, IO_CONCURRENCY, (file) => this.load(file, mode === "changed" && !force.has(file)));
    // A file gone or unreadable since the listing keeps its state: the next event or poll settles it.
    paths.forEach((file, i) => this.update(file, loaded[i], touched));
    const read = loaded.filter((l) => typeof l === "object").length;
    if (read > 0) this.log.debug({ dir: this.dir, listed: paths.length, read }, "re-listed the manifests directory");
    this.scanned = true;
    return true;
  }

  /**
   * Reads just the files fs.watch named (and re-checks, by stamp, the files
   * reached through symlinks). Returns false when that is not enough and the
   * directory must be re-listed: a directory was named (created, renamed,
   * removed), or a new symlink.
   */
  private async readNamed(named: ReadonlySet<string>, touched: Set<string>): Promise<boolean> {
    if (!(await this.dirExists())) return true;
    const files: string[] = [];
    for (const file of [...named].sort(comparePaths)) {
      if (this.files.has(file)) {
        files.push(file);
        continue;
      }
      // Hidden (a swap file, a ConfigMap's `..data`): never listed; what it changes through a symlink is in `linked`.
      if (path.relative(this.dir, file).split(path.sep).some((part) => part.startsWith("."))) continue;
      let info;
      try {
        info = await lstat(file);
      } catch {
        if (this.hasFilesUnder(file)) return false; // a directory removed or renamed away
        continue; // a temporary file, already gone
      }
      if (info.isDirectory() || info.isSymbolicLink()) return false;
      if (info.isFile() && EXTENSIONS.has(path.extname(file).toLowerCase())) files.push(file);
    }
    // Named files are read whatever their stamp; linked ones only if it changed.
    const namedCount = files.length;
    for (const file of this.linked) if (!named.has(file)) files.push(file);
    const loaded = await mapLimit(files, IO_CONCURRENCY, (file, i) => this.load(file, i >= namedCount));
    if (loaded.includes("not-a-file")) return false;
    // Files vanishing with the whole directory (being replaced) must not withdraw routes.
    if (loaded.some((l, i) => l === "gone" && this.files.has(files[i])) && !(await this.dirExists())) return true;
    files.forEach((file, i) => {
      if (loaded[i] === "gone") {
        if (this.files.has(file)) this.remove(file, touched);
      } else this.update(file, loaded[i], touched);
    });
    return true;
  }

  private async dirExists(): Promise<boolean> {
    try {
      await stat(this.dir);
      return true;
    } catch (err) {
      this.log.error({ dir: this.dir, err: errorMessage(err) }, "cannot read the manifests directory; keeping the last objects");
      return false;
    }
  }

  private hasFilesUnder(dir: string): boolean {
    const prefix = dir + path.sep;
    for (const file of this.files.keys()) if (file.startsWith(prefix)) return true;
    return false;
  }

  /** Stats and reads one file; with `trustStamp`, skips reading it if its stamp is unchanged. */
  private async load(file: string, trustStamp: boolean): Promise<Loaded> {
    try {
      const now = Date.now();
      const info = await statFile(file);
      if (!info.isFile()) return "not-a-file";
      const stamp = now - info.mtimeMs < RACY_WINDOW_MS ? undefined : `${info.mtimeMs}:${info.size}:${info.ino}`;
      if (trustStamp && stamp !== undefined && this.files.get(file)?.stamp === stamp) return "unchanged";
      return { text: await readText(file, info.size), stamp };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return "gone";
      this.log.debug({ file: this.relative(file), err: errorMessage(err) }, "cannot read manifest file");
      return "unreadable";
    }
  }

  /** Takes a file's new text: parsed, or kept with its last good objects if it does not parse. */
  private update(file: string, loaded: Loaded, touched: Set<string>): void {
    if (typeof loaded !== "object") return;
    const { text, stamp } = loaded;
    const previous = this.files.get(file);
    if (this.emptyNotYetConfirmed(file, text, previous)) return;
    if (previous && previous.text === text) {
      previous.stamp = stamp;
      return;
    }
    const rel = this.relative(file);
    try {
      const parsed = parseManifestText(text, rel);
      const definitions = this.definitionsOf(parsed, rel);
      if (previous?.error) this.log.info({ file: rel }, "manifest file parses again");
      this.setFile(file, { text, stamp, definitions }, touched);
    } catch (err) {
      const e = err instanceof ManifestParseError ? err : new ManifestParseError(rel, undefined, undefined, errorMessage(err));
      const error: ManifestFileError = { file: rel, line: e.line, column: e.column, message: e.detail };
      this.log.error(
        { file: rel, line: e.line, column: e.column, err: e.detail, kept: previous?.definitions.size ?? 0 },
        "invalid manifest file; keeping its last good objects",
      );
      this.setFile(file, { text, stamp, definitions: previous?.definitions ?? new Map(), error }, touched);
    }
  }

  /**
   * True (keeping the file's objects, and reading it again after
   * the settle time) when it reads empty after holding objects; an empty
   * read at least that long after the first confirms it.
   */
  private emptyNotYetConfirmed(file: string, text: string, previous: FileState | undefined): boolean {
    const pending = this.emptied.get(file);
    if (text.trim() !== "" || !previous?.definitions.size) {
      this.forgetEmptied(file);
      return false;
    }
    const now = Date.now();
    const settle = this.options.emptySettleMs ?? DEFAULT_EMPTY_SETTLE_MS;
    if (pending && now - pending.since >= settle) {
      this.forgetEmptied(file);
      return false;
    }
    if (!pending) {
      this.log.debug({ file: this.relative(file) }, "manifest file read empty; reading it again before deleting its objects");
      const timer = setTimeout(() => {
        if (this.emptied.get(file)?.timer === timer) this.changed(file);
      }, settle);
      this.emptied.set(file, { since: now, timer });
    }
    return true;
  }

  private forgetEmptied(file: string): void {
    clearTimeout(this.emptied.get(file)?.timer);
    this.emptied.delete(file);
  }

  private definitionsOf(parsed: ParsedManifest, rel: string): Map<string, Definition> {
    for (const warning of parsed.warnings) this.log.warn({ file: rel }, warning);
    const definitions = new Map<string, Definition>();
    for (const { kind, object } of parsed.objects) {
      const key = objectKey(object);
      const id = objectId(kind, key);
      if (definitions.has(id)) this.log.warn({ kind, object: key, files: [rel, rel] }, "object defined more than once; the last file in path order wins");
      definitions.set(id, { kind, key, object, signature: JSON.stringify(object) });
    }
    return definitions;
  }

  private remove(file: string, touched: Set<string>): void {
    this.forgetEmptied(file);
    this.log.info({ file: this.relative(file) }, "manifest file removed");
    this.setFile(file, undefined, touched);
  }

  /** Replaces (or, with undefined, drops) a file's state, noting which objects' definitions changed. */
  private setFile(file: string, next: FileState | undefined, touched: Set<string>): void {
    const previous = this.files.get(file);
    if (next) this.files.set(file, next);
    else this.files.delete(file);
    if (previous?.definitions === next?.definitions) return;
    for (const [id, definition] of previous?.definitions ?? []) {
      if (next?.definitions.get(id) === definition) continue;
      touched.add(id);
      if (next?.definitions.has(id)) continue;
      const files = this.definers.get(id);
      files?.delete(file);
      if (files?.size === 0) this.definers.delete(id);
    }
    for (const [id, definition] of next?.definitions ?? []) {
      if (previous?.definitions.get(id) === definition) continue;
      touched.add(id);
      let files = this.definers.get(id);
      if (!files) this.definers.set(id, (files = new Set()));
      files.add(file);
    }
  }

  /** The definition in force for an object: the last file in path order defining it wins. */
  private effective(id: string): Definition | undefined {
    const files = this.definers.get(id);
    if (!files) return undefined;
    let winner: string | undefined;
    for (const file of files) if (winner === undefined || comparePaths(file, winner) > 0) winner = file;
    const definition = this.files.get(winner!)?.definitions.get(id);
    if (files.size > 1 && definition) {
      const names = [...files].sort(comparePaths).map((f) => this.relative(f));
      this.log.warn({ kind: definition.kind, object: definition.key, files: names }, "object defined more than once; the last file in path order wins");
    }
    return definition;
  }

  /**
   * The first time, replaces every kind (empty ones too, so the model knows
   * they are complete); then applies the objects in `touched` whose
   * effective definition changed: per kind, upserts before deletes (so a
   * rename makes before it breaks, as replace does). Each delivery gets its
   * own copies, so a sink that keeps or mutates them cannot affect the next.
   */
  private deliver(touched: ReadonlySet<string>): void {
    const sink = this.sink;
    if (!sink) return;
    if (!this.replaced) {
      this.replaced = true;
      this.delivered.clear();
      const byKind = new Map<ResourceKind, KubeObject[]>(MANIFEST_KINDS.map((kind) => [kind, []]));
      for (const id of this.definers.keys()) {
        const definition = this.effective(id);
        if (!definition) continue;
        this.delivered.set(id, definition);
        byKind.get(definition.kind)!.push(definition.object);
      }
      for (const [kind, objects] of byKind) sink.replace(kind, objects.map(copyObject));
      return;
    }
    const changes = new Map<ResourceKind, { upserts: Definition[]; deletes: Definition[] }>(MANIFEST_KINDS.map((kind) => [kind, { upserts: [], deletes: [] }]));
    for (const id of touched) {
      const definition = this.effective(id);
      const last = this.delivered.get(id);
      if (definition) {
        this.delivered.set(id, definition);
        if (last?.signature !== definition.signature) changes.get(definition.kind)!.upserts.push(definition);
      } else if (last) {
        this.delivered.delete(id);
        changes.get(last.kind)!.deletes.push(last);
      }
    }
    for (const [kind, { upserts, deletes }] of changes) {
      for (const { object } of upserts) sink.apply({ type: "upsert", kind, object: copyObject(object) });
      for (const { object } of deletes) sink.apply({ type: "delete", kind, object: copyObject(object) });
    }
  }

  /** Lists the manifest files under `dir` in path order, watching each directory first when watching per directory. */
  private async listFiles(dir: string, walk: Walk, viaLink: boolean): Promise<string[]> {
    const real = await realpath(dir);
    if (walk.visited.has(real)) return []; // a symlink loop
    walk.visited.add(real);
    walk.dirs.add(dir);
    if (this.watching && !NATIVE_RECURSIVE_WATCH) await this.watchDir(dir);
    const found: string[] = [];
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith(".")) continue;
      const full = path.join(dir, entry.name);
      const isLink = entry.isSymbolicLink();
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (isLink) {
        try {
          const target = await stat(full);
          isDir = target.isDirectory();
          isFile = target.isFile();
        } catch {
          continue; // dangling
        }
      }
      if (isDir) found.push(...(await this.listFiles(full, walk, viaLink || isLink)));
      else if (isFile && EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
        found.push(full);
        if (viaLink || isLink) walk.linked.add(full);
      }
    }
    return found;
  }

  private relative(file: string): string {
    return path.relative(this.dir, file) || file;
  }
}
