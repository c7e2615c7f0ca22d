/**
 * Processes for benchmarks: peak and current RSS and CPU time from /proc,
 * a sampler, and child processes that talk JSON lines ("@@bench {...}" on
 * stdout, commands on stdin).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

const CLK_TCK = 100;

export interface MemInfo {
  /** Peak resident set (VmHWM), MB. */
  peakRssMb: number;
  /** Current resident set (VmRSS), MB. */
  rssMb: number;
}

export function memInfo(pid: number | "self"): MemInfo {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN);
  return { peakRssMb: kb("VmHWM") / 1024, rssMb: kb("VmRSS") / 1024 };
}

/** User + system CPU seconds the process has used (all threads). */
export function cpuSeconds(pid: number | "self"): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is state (field 3); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Samples VmRSS every `intervalMs` and keeps the maximum (VmHWM is the authoritative peak; this is a cross-check). */
export class RssSampler {
  maxRssMb = 0;
  private timer: NodeJS.Timeout;
  constructor(
    readonly pid: number,
    intervalMs = 50,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
  }
  sample(): void {
    try {
      this.maxRssMb = Math.max(this.maxRssMb, memInfo(this.pid).rssMb);
    } catch {
      /* exited */
    }
  }
  stop(): number {
    clearInterval(this.timer);
    return this.maxRssMb;
  }
}

export type BenchMessage = { type: string; [field: string]: unknown };

/** A Node child process speaking the bench JSON-lines protocol. */
export class BenchChild {
  private readonly waiters: Array<{ type: string; resolve: (m: BenchMessage) => void; reject: (e: Error) => void }> = [];
  private readonly backlog: BenchMessage[] = [];
  private lineWaiters: Array<{ match: (line: string) => boolean; resolve: (line: string) => void }> = [];
  private exited: Error | undefined;
  readonly log: string[] = [];
  readonly pid: number;

  constructor(private readonly child: ChildProcess) {
    this.pid = child.pid!;
    const rl = createInterface({ input: child.stdout! });
    rl.on("line", (line) => {
      if (!line.startsWith("@@bench ")) {
        this.keep(line);
        return;
      }
      const message = JSON.parse(line.slice(8)) as BenchMessage;
      const i = this.waiters.findIndex((w) => w.type === message.type);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(message);
      else this.backlog.push(message);
    });
    createInterface({ input: child.stderr! }).on("line", (line) => this.keep(line));
    child.on("exit", (code, signal) => {
      this.exited = new Error(`child ${this.pid} exited (${signal ?? code}); last output:\n${this.log.slice(-20).join("\n")}`);
      for (const w of this.waiters.splice(0)) w.reject(this.exited);
    });
  }

  private keep(line: string): void {
    if (this.lineWaiters.length > 0) {
      const hit = this.lineWaiters.filter((w) => w.match(line));
      if (hit.length > 0) {
        this.lineWaiters = this.lineWaiters.filter((w) => !hit.includes(w));
        for (const w of hit) w.resolve(line);
      }
    }
    this.log.push(line);
    if (this.log.length > 200) this.log.shift();
    if (process.env.BENCH_VERBOSE) process.stderr.write(`  [child ${this.pid}] ${line}\n`);
  }

  static spawn(script: string, args: string[] = [], options: { nodeFlags?: string[]; env?: NodeJS.ProcessEnv } = {}): BenchChild {
    const child = spawn(process.execPath, [...(options.nodeFlags ?? []), script, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
    });
    return new BenchChild(child);
  }

  /** Resolves with the next message of `type` (or one already received). */
  next(type: string, timeoutMs = 120_000): Promise<BenchMessage> {
    const i = this.backlog.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.backlog.splice(i, 1)[0]);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for "${type}" from child ${this.pid}; last output:\n${this.log.slice(-20).join("\n")}`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /**
   * Resolves with the next output line (stdout or stderr, not a bench
   * message) that `match` accepts: for children that only log, such as a
   * service's real main.
   */
  nextLine(match: (line: string) => boolean, timeoutMs = 120_000, what = "a matching line"): Promise<string> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (line: string) => {
          clearTimeout(timer);
          this.child.off("exit", onExit);
          resolve(line);
        },
      };
      const onExit = () => {
        clearTimeout(timer);
        this.lineWaiters = this.lineWaiters.filter((w) => w !== waiter);
        reject(this.exited ?? new Error(`child ${this.pid} exited`));
      };
      const timer = setTimeout(() => {
        this.lineWaiters = this.lineWaiters.filter((w) => w !== waiter);
        this.child.off("exit", onExit);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} from child ${this.pid}; last output:\n${this.log.slice(-20).join("\n")}`));
      }, timeoutMs);
      this.child.once("exit", onExit);
      this.lineWaiters.push(waiter);
    });
  }

  send(command: BenchMessage): void {
    this.child.stdin?.write(JSON.stringify(command) + "\n");
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(timeoutMs = 5000): Promise<void> {
    if (!this.running) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin?.end();
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
