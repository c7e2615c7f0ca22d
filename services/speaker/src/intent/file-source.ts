/**
 * Intent from a file, re-read when it changes. The directory is watched (so an
 * atomic rename-replace or a ConfigMap symlink swap is seen) and, as a
 * fallback for filesystems without reliable notifications, the file is also
 * polled. Bursts of events are
 * debounced. An invalid file is reported with the field and the reason, and
 * the last good intent stays.
 */
import { watch, type FSWatcher } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Logger } from "@svcbgp/telemetry";
import type { IntentSink } from "../controller.js";
import { parseIntentText } from "./parse.js";
import { formatIssues, type IntentIssue } from "./validate.js";

export interface FileSourceOptions {
  path: string;
  sink: IntentSink;
  logger: Logger;
  nodeName?: string;
  /** Quiet period before a change is read; default 200 ms. */
  debounceMs?: number;
  /** Polling interval (fallback for missed notifications); default 2 s. */
  pollMs?: number;
  /** Told about every rejected file (metrics). */
  onInvalid?: (issues: IntentIssue[]) => void;
}

export interface FileSourceStatus {
  /** Undefined once a good intent was loaded, else why not. */
  notReady?: string;
  lastError?: string;
  loads: number;
}

export class FileIntentSource {
  private readonly path: string;
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private lastStat = "";
  private lastText: string | undefined;
  private loading: Promise<void> = Promise.resolve();
  private revision = 0n;
  private stopped = false;
  private state: FileSourceStatus = { notReady: "the intent file has not been read yet", loads: 0 };

  constructor(private readonly options: FileSourceOptions) {
    this.path = resolve(options.path);
  }

  status(): FileSourceStatus {
    return { ...this.state };
  }

  /** Loads the file once (awaited), then follows changes. */
  async start(): Promise<void> {
    try {
      // Any event in the directory: a Kubernetes ConfigMap volume swaps a "..data" symlink,
      // never touching the file's own name. Unchanged content is skipped after reading.
      this.watcher = watch(dirname(this.path), { persistent: false }, () => this.schedule());
      this.watcher.on("error", (err) => {
        this.options.logger.warn({ err }, "watching the intent file's directory failed; polling only");
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.options.logger.warn({ err, path: this.path }, "cannot watch the intent file's directory; polling only");
    }
    this.pollTimer = setInterval(() => void this.poll(), this.options.pollMs ?? 2000);
    this.pollTimer.unref();
    await this.reload();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.pollTimer);
    clearTimeout(this.debounceTimer);
    await this.loading;
  }

  /** Reads the file now (also used by tests and SIGHUP). */
  reload(): Promise<void> {
    this.loading = this.loading.then(() => this.load());
    return this.loading;
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => void this.reload(), this.options.debounceMs ?? 200);
    this.debounceTimer.unref();
  }

  private async poll(): Promise<void> {
    const signature = await stat(this.path).then(
      (s) => `${s.ino}:${s.size}:${s.mtimeMs}`,
      () => "missing",
    );
    if (signature !== this.lastStat) this.schedule();
  }

  private async load(): Promise<void> {
    if (this.stopped) return;
    const log = this.options.logger;
    let text: string;
    try {
      const s = await stat(this.path);
      this.lastStat = `${s.ino}:${s.size}:${s.mtimeMs}`;
      text = await readFile(this.path, "utf8");
    } catch (err) {
      this.lastStat = "missing";
      const reason = `cannot read ${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      if (this.state.lastError !== reason) log.error({ path: this.path }, `${reason}; keeping the last good intent`);
      this.state = { ...this.state, lastError: reason };
      return;
    }
    if (text === this.lastText) return;
    this.lastText = text;
    const parsed = parseIntentText(text, this.path, { nodeName: this.options.nodeName });
    if (!parsed.ok) {
      const reason = formatIssues(parsed.issues);
      log.error({ path: this.path, issues: parsed.issues.map(({ field, reason }) => ({ field, reason })) }, `invalid intent file, keeping the last good intent: ${reason}`);
      this.state = { ...this.state, lastError: reason };
      this.options.onInvalid?.(parsed.issues);
      return;
    }
    this.revision++;
    const change = await this.options.sink.applySnapshot(parsed.intent, this.revision);
    this.state = { loads: this.state.loads + 1 };
    log.info(
      { path: this.path, revision: String(this.revision), routes: parsed.intent.routes.length, peers: parsed.intent.peers.length, changedRoutes: change.upsertedRoutes.length + change.withdrawnPrefixes.length },
      "intent file loaded",
    );
  }
}
