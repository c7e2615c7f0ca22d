/**
 * A dedicated kernel routing table for the convergence benchmark's ToR: BIRD
 * (`protocol kernel { kernel table N; }`) exports its BGP routes into it, and
 * this module tells when a prefix appears in or leaves it.
 *
 * The table is one no `ip rule` points at, so nothing on the machine routes
 * through it: it is only a place for the ToR's FIB writes to land. It must be
 * empty when taken (checked), and is flushed when released (BIRD also removes
 * its routes when it stops).
 *
 * Presence is followed event-driven: one long-running `ip -ts -4 monitor
 * route` (it has no table filter; lines are filtered on "table N"), each line
 * stamped with the wall clock when it reaches this process. If the monitor
 * cannot be used, `until` polls `ip route show table N exact PREFIX` instead.
 *
 * Needs root (CAP_NET_ADMIN, for BIRD to write the table); `kernelTableUsable`
 * says whether this run can.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { sleep } from "../../support/wait.js";
import { wallNow } from "./stats.js";

const run = promisify(execFile);

/** Tables tried, from a random starting point (so two runs on one machine rarely race for the same one). */
const FIRST_TABLE = 230;
const LAST_TABLE = 249;

/** Why this run cannot use a kernel table, or undefined if it can. */
export async function kernelTableUnusable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "not running as root";
  try {
    await run("ip", ["-4", "route", "show", "table", "main"]);
  } catch (err) {
    return `\`ip route\` does not work: ${(err as Error).message.split("\n")[0]}`;
  }
  return undefined;
}

/** The routes in table N, one line each ([] for a table that does not exist yet). */
export async function tableRoutes(table: number, ...selector: string[]): Promise<string[]> {
  try {
    const { stdout } = await run("ip", ["-4", "route", "show", "table", String(table), ...selector]);
    return stdout.split("\n").filter((l) => l.trim());
  } catch (err) {
    if (/does not exist/.test(String((err as { stderr?: string }).stderr ?? err))) return [];
    throw err;
  }
}

/** "10.49.0.1" (how `ip` prints a host route) → "10.49.0.1/32". */
function normalPrefix(text: string): string {
  return text.includes("/") ? text : `${text}/32`;
}

const ROUTE_TYPES = "unicast|unreachable|blackhole|prohibit|throw|local|broadcast|anycast|multicast|nat";
/** `[stamp] [Deleted ][type ]PREFIX ... table N ...` */
const MONITOR_LINE = new RegExp(`^(?:\\[[^\\]]*\\]\\s*)?(Deleted\\s+)?(?:(?:${ROUTE_TYPES})\\s+)?(\\d+\\.\\d+\\.\\d+\\.\\d+(?:/\\d+)?)\\s.*\\btable (\\d+)\\b`);

interface Waiter {
  prefix: string;
  present: boolean;
  resolve: (at: number) => void;
}

export class KernelTable {
  /** "event" while `ip monitor` is followed; "poll" after a fallback. */
  mode: "event" | "poll" = "event";
  /** Why the monitor was given up, when it was. */
  fallbackReason: string | undefined;
  /** Prefixes the monitor has seen present in the table. */
  private readonly seen = new Set<string>();
  private waiters: Waiter[] = [];
  private monitor: ChildProcess | undefined;
  private monitorExited = false;

  private constructor(
    readonly table: number,
    private readonly lockFile: string,
  ) {}

  /**
   * Takes an empty table no `ip rule` refers to (and no other benchmark run
   * on this machine holds), and starts following it.
   */
  static async acquire(): Promise<KernelTable> {
    const rules = await run("ip", ["-4", "rule", "show"]).then(
      (r) => r.stdout,
      () => "",
    );
    const span = LAST_TABLE - FIRST_TABLE + 1;
    const start = Math.floor(Math.random() * span);
    for (let k = 0; k < span; k++) {
      const table = FIRST_TABLE + ((start + k) % span);
      if (new RegExp(`lookup ${table}\\b`).test(rules)) continue;
      const lock = lockTable(table);
      if (!lock) continue;
      if ((await tableRoutes(table)).length > 0) {
        rmSync(lock, { force: true });
        continue;
      }
      const kernel = new KernelTable(table, lock);
      await kernel.startMonitor();
      return kernel;
    }
    throw new Error(`no empty, unused kernel routing table in ${FIRST_TABLE}–${LAST_TABLE}`);
  }

  private async startMonitor(): Promise<void> {
    let child: ChildProcess;
    try {
      child = spawn("ip", ["-ts", "-4", "monitor", "route"], { stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      this.fallBack(`cannot start \`ip monitor\`: ${(err as Error).message}`);
      return;
    }
    this.monitor = child;
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (err) => this.fallBack(`\`ip monitor\`: ${err.message}`));
    child.on("exit", (code, signal) => {
      this.monitorExited = true;
      if (this.monitor) this.fallBack(`\`ip monitor\` exited (${signal ?? code}) ${stderr.trim()}`);
    });
    const suffix = `table ${this.table}`;
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const at = wallNow();
      if (!line.includes(suffix)) return;
      const m = MONITOR_LINE.exec(line);
      if (!m || Number(m[3]) !== this.table) return;
      const prefix = normalPrefix(m[2]);
      const present = !m[1];
      if (present) this.seen.add(prefix);
      else this.seen.delete(prefix);
      if (this.waiters.length === 0) return;
      const keep: Waiter[] = [];
      for (const w of this.waiters) {
        if (w.prefix === prefix && w.present === present) w.resolve(at);
        else keep.push(w);
      }
      this.waiters = keep;
    });
    // Give it a moment to fail (no such binary, no netlink): then poll from the start.
    await sleep(200);
  }

  private fallBack(reason: string): void {
    if (this.mode === "poll") return;
    this.mode = "poll";
    this.fallbackReason = reason;
    // Waiters armed on the monitor move to polling.
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) void this.poll(w.prefix, w.present, 30_000).then(w.resolve, () => undefined);
  }

  /**
   * Checks the monitor against the table (call once routes are in it): every
   * route `ip route show` lists must have reached the monitor. Falls back to
   * polling if not. Returns the number of routes in the table.
   */
  async verify(): Promise<number> {
    const listed = (await tableRoutes(this.table)).map((l) => MONITOR_LINE.exec(`${l} table ${this.table}`)?.[2]).filter((p): p is string => !!p).map(normalPrefix);
    if (this.mode === "event") {
      const missed = listed.filter((p) => !this.seen.has(p));
      if (missed.length > 0) this.fallBack(`\`ip monitor\` missed ${missed.length} of ${listed.length} routes (e.g. ${missed[0]})`);
    }
    return listed.length;
  }

  async count(): Promise<number> {
    return (await tableRoutes(this.table)).length;
  }

  /**
   * Resolves with the wall time at which `prefix` was seen entering
   * (`present`) or leaving the table. Call it before making the change: with
   * the monitor, only lines arriving after the call count.
   */
  until(prefix: string, present: boolean, timeoutMs = 30_000): Promise<number> {
    if (this.mode === "poll") return this.poll(prefix, present, timeoutMs);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${prefix} still ${present ? "absent from" : "present in"} kernel table ${this.table} after ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        prefix,
        present,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
      this.waiters.push(waiter);
    });
  }

  private async poll(prefix: string, present: boolean, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const start = wallNow();
      const has = (await tableRoutes(this.table, "exact", prefix)).length > 0;
      if (has === present) return (start + wallNow()) / 2;
      if (Date.now() > deadline) throw new Error(`${prefix} still ${present ? "absent from" : "present in"} kernel table ${this.table} after ${timeoutMs} ms`);
      await sleep(1);
    }
  }

  /** Waits until the table holds exactly `n` routes. */
  async waitCount(n: number, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = -1;
    while ((last = await this.count()) !== n) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (kernel table ${this.table} has ${last} routes, want ${n})`);
      await sleep(50);
    }
  }

  /** Stops the monitor, flushes the table and frees it. */
  async release(): Promise<void> {
    const monitor = this.monitor;
    this.monitor = undefined;
    if (monitor && !this.monitorExited) {
      const exited = new Promise((resolve) => monitor.once("exit", resolve));
      monitor.kill("SIGTERM");
      await exited;
    }
    try {
      await run("ip", ["-4", "route", "flush", "table", String(this.table)]);
    } catch {
      /* an empty (never created) table */
    }
    rmSync(this.lockFile, { force: true });
  }
}

/** Claims table N among benchmark runs on this machine (a pid file; a dead holder's claim is taken over). */
function lockTable(table: number): string | undefined {
  const path = join(tmpdir(), `svcbgp-bench-kernel-table-${table}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return path;
    } catch {
      let holder = NaN;
      try {
        holder = Number(readFileSync(path, "utf8"));
      } catch {
        /* vanished: try again */
      }
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) return undefined;
      rmSync(path, { force: true });
    }
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
