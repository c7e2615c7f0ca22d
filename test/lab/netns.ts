/**
 * Thin helpers over iproute2 for the seed lab: network namespaces, veth pairs,
 * a bridge, addresses, routes, and processes run inside a namespace.
 *
 * Every command is an execFile argv (never a shell string). Everything created
 * goes into one registry and is torn down in reverse order on `cleanup()`, on
 * SIGINT/SIGTERM, and (best effort, synchronously) on process exit. Namespace
 * names are `sbgp-<4 hex run id>-<role>`; each run records its owner pid in its
 * run directory so `cleanupStale()` can remove what a crashed run left behind
 * without touching a concurrent live run.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Prefix of every namespace the lab creates. */
export const NS_PREFIX = "sbgp-";
/** Linux interface names are at most 15 bytes (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;

export function runDirFor(runId: string): string {
  return join(tmpdir(), `svcbgp-lab-${runId}`);
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly stdout: string,
    readonly stderr: string,
    readonly code: number | string | undefined,
  ) {
    super(`${argv.join(" ")} failed (${code}): ${stderr.trim() || stdout.trim()}`);
  }
}

/** Runs a command (argv, no shell) and returns its stdout; throws CommandError on failure. */
export async function exec(file: string, args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
  try {
    const { stdout } = await run(file, args, { maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 30_000 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number | string; message: string };
    throw new CommandError([file, ...args], e.stdout ?? "", e.stderr ?? e.message, e.code);
  }
}

/** `ip ARGS`, or `ip -n NS ARGS` inside a namespace. */
export function ip(args: string[], ns?: string): Promise<string> {
  return exec("ip", ns ? ["-n", ns, ...args] : args);
}

/** Runs `cmd args` inside `ns` to completion and returns stdout. */
export function execIn(ns: string, cmd: string, args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
  return exec("ip", ["netns", "exec", ns, cmd, ...args], options);
}

export async function sysctl(ns: string, key: string, value: string): Promise<void> {
  await execIn(ns, "sysctl", ["-q", "-w", `${key}=${value}`]);
}

export async function listNamespaces(): Promise<string[]> {
  const out = await exec("ip", ["-j", "netns", "list"]);
  if (!out.trim()) return [];
  return (JSON.parse(out) as Array<{ name: string }>).map((n) => n.name);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function nsPids(ns: string): Promise<number[]> {
  try {
    const out = await exec("ip", ["netns", "pids", ns]);
    return out.split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Kills whatever still runs inside `ns` and deletes it. Ignores a namespace that is already gone. */
export async function deleteNamespace(ns: string): Promise<void> {
  for (const pid of await nsPids(ns)) killQuietly(pid, "SIGKILL");
  try {
    await exec("ip", ["netns", "del", ns]);
  } catch (err) {
    if (!(err instanceof CommandError) || !/No such file|Invalid netns|not found/i.test(err.stderr)) throw err;
  }
}

/**
 * Removes namespaces (and run directories) left by earlier lab runs that
 * crashed: those named `sbgp-<id>-*` whose run's owner process is gone.
 * Returns the namespaces deleted.
 */
export async function cleanupStale(prefix = NS_PREFIX): Promise<string[]> {
  const removed: string[] = [];
  for (const ns of await listNamespaces()) {
    if (!ns.startsWith(prefix)) continue;
    const id = ns.slice(prefix.length).split("-")[0];
    const ownerFile = join(runDirFor(id), "owner.pid");
    let owner = 0;
    try {
      owner = Number(readFileSync(ownerFile, "utf8").trim());
    } catch {
      owner = 0;
    }
    if (owner && owner !== process.pid && pidAlive(owner)) continue;
    if (owner === process.pid) continue;
    await deleteNamespace(ns);
    removed.push(ns);
    rmSync(runDirFor(id), { recursive: true, force: true });
  }
  return removed;
}

export interface LabProcess {
  readonly name: string;
  readonly ns: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
}

export function isRunning(p: LabProcess): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

/** Sends `signal`, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopProcess(p: LabProcess, signal: NodeJS.Signals = "SIGTERM", graceMs = 5000): Promise<void> {
  if (!isRunning(p)) return;
  p.child.kill(signal);
  const timer = setTimeout(() => p.child.kill("SIGKILL"), graceMs);
  await p.exited;
  clearTimeout(timer);
}

type CleanupStep = { what: string; run: () => Promise<void>; runSync: () => void };

/**
 * A run of the lab: its id, its run directory, and the registry of what it
 * created. `cleanup()` undoes everything in reverse order and is idempotent.
 */
export class LabRun {
  readonly id: string;
  readonly dir: string;
  private readonly steps: CleanupStep[] = [];
  private readonly processes: LabProcess[] = [];
  private cleaning: Promise<void> | undefined;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nsvcbgp lab: ${signal}, cleaning up run ${this.id} ...\n`);
    void this.cleanup().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  private readonly onExit = () => this.cleanupSync();

  constructor(options: { handleSignals?: boolean } = {}) {
    this.id = randomBytes(2).toString("hex");
    this.dir = runDirFor(this.id);
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, "owner.pid"), `${process.pid}\n`);
    this.steps.push({
      what: `run dir ${this.dir}`,
      run: async () => rmSync(this.dir, { recursive: true, force: true }),
      runSync: () => rmSync(this.dir, { recursive: true, force: true }),
    });
    if (options.handleSignals ?? true) {
      process.once("SIGINT", this.onSignal);
      process.once("SIGTERM", this.onSignal);
    }
    process.once("exit", this.onExit);
  }

  /** `sbgp-<id>-<role>`; throws if longer than an interface name may be (so it can double as one). */
  nsName(role: string): string {
    const name = `${NS_PREFIX}${this.id}-${role}`;
    if (name.length > IFNAME_MAX) throw new Error(`namespace name too long: ${name}`);
    return name;
  }

  /** Creates a namespace named for `role` with `lo` up; registered for deletion. */
  async createNamespace(role: string): Promise<string> {
    const ns = this.nsName(role);
    await exec("ip", ["netns", "add", ns]);
    this.steps.push({
      what: `namespace ${ns}`,
      run: () => deleteNamespace(ns),
      runSync: () => {
        try {
          const pids = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).split(/\s+/).filter(Boolean);
          for (const pid of pids) killQuietly(Number(pid), "SIGKILL");
          execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
        } catch {
          // gone already
        }
      },
    });
    await ip(["link", "set", "lo", "up"], ns);
    return ns;
  }

  /**
   * A veth pair: `a` in namespace `nsA`, `b` in `nsB`, both up. Interfaces die
   * with their namespaces, so nothing extra is registered.
   */
  async veth(nsA: string, a: string, nsB: string, b: string): Promise<void> {
    for (const n of [a, b]) if (n.length > IFNAME_MAX) throw new Error(`interface name too long: ${n}`);
    await ip(["link", "add", a, "type", "veth", "peer", "name", b, "netns", nsB], nsA);
    await ip(["link", "set", a, "up"], nsA);
    await ip(["link", "set", b, "up"], nsB);
  }

  async bridge(ns: string, name: string): Promise<void> {
    await ip(["link", "add", name, "type", "bridge"], ns);
    await ip(["link", "set", name, "up"], ns);
  }

  async attach(ns: string, port: string, bridge: string): Promise<void> {
    await ip(["link", "set", port, "master", bridge], ns);
  }

  /** Adds an address (CIDR form); IPv6 addresses skip DAD so they are usable at once. */
  async addAddress(ns: string, dev: string, cidr: string): Promise<void> {
    const args = ["addr", "add", cidr, "dev", dev];
    if (cidr.includes(":")) args.push("nodad");
    await ip(args, ns);
  }

  async addRoute(ns: string, args: string[]): Promise<void> {
    const family = args.some((a) => a.includes(":")) ? ["-6"] : [];
    await ip([...family, "route", "add", ...args], ns);
  }

  /**
   * Starts `cmd args` inside `ns` (`ip netns exec` execs it, so the pid is the
   * command's own); stdout and stderr go to `<run dir>/<name>.log`.
   */
  spawnIn(ns: string, name: string, cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): LabProcess {
    const logFile = join(this.dir, `${name}.log`);
    const fd = openSync(logFile, "a");
    const child = spawn("ip", ["netns", "exec", ns, cmd, ...args], { stdio: ["ignore", fd, fd], env: options.env ?? process.env });
    closeSync(fd);
    const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
      child.once("exit", (code, signal) => resolve(code ?? signal));
      child.once("error", (err) => {
        writeFileSync(logFile, `spawn error: ${err.message}\n`, { flag: "a" });
        resolve(null);
      });
    });
    const p: LabProcess = { name, ns, child, logFile, exited };
    this.processes.push(p);
    this.steps.push({
      what: `process ${name} (${child.pid}) in ${ns}`,
      run: () => stopProcess(p, "SIGTERM", 3000),
      runSync: () => {
        if (isRunning(p)) child.kill("SIGKILL");
      },
    });
    return p;
  }

  /** Registers an extra cleanup action (run in reverse order with the rest). */
  defer(what: string, fn: () => Promise<void> | void): void {
    this.steps.push({ what, run: async () => fn(), runSync: () => void fn() });
  }

  /** The tail of every process log, for failure reports. */
  logs(maxLines = 40): string {
    const parts: string[] = [];
    // A restarted process appends to the same log: show it once, with the latest state.
    const latest = new Map<string, LabProcess>();
    for (const p of this.processes) latest.set(p.logFile, p);
    for (const p of latest.values()) {
      if (!existsSync(p.logFile)) continue;
      const lines = readFileSync(p.logFile, "utf8").split("\n");
      parts.push(`==> ${p.logFile} (${isRunning(p) ? "running" : `exited ${p.child.exitCode ?? p.child.signalCode}`}) <==\n${lines.slice(-maxLines).join("\n")}`);
    }
    return parts.join("\n");
  }

  /** Tears everything down in reverse order; safe to call more than once. */
  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      const errors: string[] = [];
      while (this.steps.length) {
        const step = this.steps.pop()!;
        try {
          await step.run();
        } catch (err) {
          errors.push(`${step.what}: ${(err as Error).message}`);
        }
      }
      process.removeListener("SIGINT", this.onSignal);
      process.removeListener("SIGTERM", this.onSignal);
      process.removeListener("exit", this.onExit);
      if (errors.length) throw new Error(`lab cleanup: ${errors.join("; ")}`);
    })();
    return this.cleaning;
  }

  /** Synchronous best effort for the `exit` event (no event loop left). */
  cleanupSync(): void {
    while (this.steps.length) {
      try {
        this.steps.pop()!.runSync();
      } catch {
        // best effort
      }
    }
  }
}
