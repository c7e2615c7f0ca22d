/**
 * The `--manifests DIR` source, for the local stack and for feeding the
 * watcher cluster scenarios without a cluster: every *.yaml, *.yml and *.json
 * under DIR (recursively), multi-document, re-read when anything changes.
 *
 * - Each change re-reads the directory and calls sink.replace(kind, …) for
 *   every kind whose set of objects changed; a deleted file's objects vanish.
 * - A file that fails to parse keeps its last good objects (an editor's
 *   half-saved file must not withdraw routes), and the file, line and error
 *   are logged and kept in errors().
 * - Unknown kinds (the seed's Deployment, say) are ignored with a warning.
 *
 * YAML is parsed by libs/config's parseManifestValues (YAML 1.2, of which JSON
 * is a subset, so .json files go through the same parser and get line numbers).
 * Hidden entries are skipped: editors' swap files, and the `..data` and
 * `..<timestamp>` entries of a mounted ConfigMap, whose files are reached
 * through their top-level symlinks instead.
 */
import { watch as fsWatch, type FSWatcher } from "node:fs";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { parseManifestValues } from "@svcbgp/config";
import { errorMessage, noopLogger, type SourceLogger } from "./logger.js";
import { objectKey, type KubeObject, type ResourceKind, type ResourceSink, type ResourceSource } from "./source.js";

export const MANIFEST_KINDS: readonly ResourceKind[] = ["Service", "EndpointSlice", "Node", "Secret", "BGPConfiguration", "BGPPeer"];

const NAMESPACED: ReadonlySet<ResourceKind> = new Set(["Service", "EndpointSlice", "Secret"]);

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
  /** Re-read this long after the last file-system event, so a burst of writes is read once (default 100 ms). */
  debounceMs?: number;
  /**
   * Also re-read on this interval, for file systems where fs.watch sees
   * nothing (network and some container mounts); 0 disables (default 5 s).
   */
  pollIntervalMs?: number;
  /** Watch with fs.watch (default true). */
  watch?: boolean;
}

export interface ManifestFileError {
  /** Path relative to the directory. */
  file: string;
  line?: number;
  column?: number;
  message: string;
}

interface FileState {
  text: string;
  objects: Array<{ kind: ResourceKind; object: KubeObject }>;
  error?: ManifestFileError;
}

const EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

export class ManifestsSource implements ResourceSource {
  private readonly dir: string;
  private readonly log: SourceLogger;
  private readonly files = new Map<string, FileState>();
  private readonly delivered = new Map<ResourceKind, string>();
  private sink: ResourceSink | undefined;
  private running = false;
  private scanned = false;
  private watcher: FSWatcher | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
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
    try {
      await this.reload();
    } catch (err) {
      this.running = false;
      throw err;
    }
    if (this.options.watch ?? true) this.startWatcher();
    this.schedulePoll();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.debounceTimer);
    clearTimeout(this.pollTimer);
    await this.scanning?.catch(() => undefined);
  }

  /**
   * Re-reads the directory now. Resolves after a read that started after the
   * call, so changes made before calling are seen.
   */
  reload(): Promise<void> {
    if (!this.scanning) {
      this.scanning = this.scan().finally(() => {
        this.scanning = undefined;
      });
      return this.scanning;
    }
    this.queued ??= this.scanning.then(() => {
      this.queued = undefined;
      return this.reload();
    });
    return this.queued;
  }

  /** Files currently failing to parse (their last good objects are still in force). */
  errors(): ManifestFileError[] {
    return [...this.files.values()].flatMap((f) => (f.error ? [f.error] : []));
  }

  private startWatcher(): void {
    try {
      // Recursive fs.watch works on Linux since Node 19.1 (and on macOS and Windows natively).
      this.watcher = fsWatch(this.dir, { recursive: true }, () => this.changed());
      this.watcher.on("error", (err) => {
        this.log.warn({ dir: this.dir, err: errorMessage(err) }, "watching the manifests directory failed; polling only");
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.log.warn({ dir: this.dir, err: errorMessage(err) }, "cannot watch the manifests directory; polling only");
    }
  }

  private changed(): void {
    if (!this.running) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      void this.reload();
    }, this.options.debounceMs ?? 100);
  }

  private schedulePoll(): void {
    const interval = this.options.pollIntervalMs ?? 5000;
    if (interval <= 0 || !this.running) return;
    this.pollTimer = setTimeout(() => {
      if (!this.running) return;
      // A watcher lost to an error (the directory was replaced, say) comes back here.
      if (!this.watcher && (this.options.watch ?? true)) this.startWatcher();
      void this.reload().finally(() => this.schedulePoll());
    }, interval);
  }

  private async scan(): Promise<void> {
    let paths: string[];
    try {
      paths = await this.listFiles(this.dir, new Set());
    } catch (err) {
      // Keep everything: a directory briefly missing (being replaced) must not withdraw routes.
      this.log.error({ dir: this.dir, err: errorMessage(err) }, "cannot read the manifests directory; keeping the last objects");
      if (!this.scanned) throw err;
      return;
    }
    let dirty = !this.scanned;
    const present = new Set(paths);
    for (const file of [...this.files.keys()]) {
      if (present.has(file)) continue;
      this.files.delete(file);
      this.log.info({ file: this.relative(file) }, "manifest file removed");
      dirty = true;
    }
    for (const file of paths) {
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (err) {
        // Gone between listing and reading: the next event or poll settles it.
        this.log.debug({ file: this.relative(file), err: errorMessage(err) }, "cannot read manifest file");
        continue;
      }
      const previous = this.files.get(file);
      if (previous && previous.text === text) continue;
      dirty = true;
      const rel = this.relative(file);
      try {
        const parsed = parseManifestText(text, rel);
        for (const warning of parsed.warnings) this.log.warn({ file: rel }, warning);
        if (previous?.error) this.log.info({ file: rel }, "manifest file parses again");
        this.files.set(file, { text, objects: parsed.objects });
      } catch (err) {
        const e = err instanceof ManifestParseError ? err : new ManifestParseError(rel, undefined, undefined, errorMessage(err));
        const error: ManifestFileError = { file: rel, line: e.line, column: e.column, message: e.detail };
        this.log.error(
          { file: rel, line: e.line, column: e.column, err: e.detail, kept: previous?.objects.length ?? 0 },
          "invalid manifest file; keeping its last good objects",
        );
        this.files.set(file, { text, objects: previous?.objects ?? [], error });
      }
    }
    this.scanned = true;
    if (dirty && this.running) this.deliver();
  }

  private deliver(): void {
    const byKind = new Map<ResourceKind, Map<string, { object: KubeObject; file: string }>>();
    for (const kind of MANIFEST_KINDS) byKind.set(kind, new Map());
    for (const [file, state] of [...this.files].sort(([a], [b]) => a.localeCompare(b))) {
      for (const { kind, object } of state.objects) {
        const objects = byKind.get(kind)!;
        const key = objectKey(object);
        const earlier = objects.get(key);
        if (earlier) {
          this.log.warn({ kind, object: key, files: [earlier.file, this.relative(file)] }, "object defined more than once; the last file in path order wins");
        }
        objects.set(key, { object, file: this.relative(file) });
      }
    }
    for (const [kind, objects] of byKind) {
      const list = [...objects.values()].map((o) => o.object);
      const signature = JSON.stringify(list);
      if (this.delivered.get(kind) === signature) continue;
      this.delivered.set(kind, signature);
      // Each delivery gets its own copies, so a sink that keeps or mutates them cannot affect the next comparison.
      this.sink?.replace(kind, structuredClone(list));
    }
  }

  private async listFiles(dir: string, visited: Set<string>): Promise<string[]> {
    const real = await realpath(dir);
    if (visited.has(real)) return []; // a symlink loop
    visited.add(real);
    const found: string[] = [];
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith(".")) continue;
      const full = path.join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = await stat(full);
          isDir = target.isDirectory();
          isFile = target.isFile();
        } catch {
          continue; // dangling
        }
      }
      if (isDir) found.push(...(await this.listFiles(full, visited)));
      else if (isFile && EXTENSIONS.has(path.extname(entry.name).toLowerCase())) found.push(full);
    }
    return found;
  }

  private relative(file: string): string {
    return path.relative(this.dir, file) || file;
  }
}
