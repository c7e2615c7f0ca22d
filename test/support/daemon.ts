/** A routing daemon a test started: its process and its scratch directory. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./wait.js";

const KILL_AFTER_MS = 3000;

export interface LaunchSpec<D extends Daemon> {
  command: string;
  args: string[];
  /** The output kept for the error when the daemon exits before it is ready. */
  capture: Array<"stdout" | "stderr">;
  /** Wraps the spawned process. */
  create: (child: ChildProcess) => D;
  /** Polled (waitFor) until it resolves truthy; throwing counts as "not yet". */
  ready: (daemon: D) => Promise<boolean>;
  timeoutMs: number;
  /** What waitFor names when it times out. */
  what?: string;
}

export class Daemon {
  /** A new scratch directory (svcbgp-<name>-*) holding `file` with `content`; returns both paths. */
  protected static scratch(name: string, file: string, content: string): { dir: string; path: string } {
    const dir = mkdtempSync(join(tmpdir(), `svcbgp-${name}-`));
    const path = join(dir, file);
    writeFileSync(path, content);
    return { dir, path };
  }

  /** Spawns a daemon and waits until it is ready; stops it (and removes its directory) if it never is. */
  protected static async launch<D extends Daemon>(spec: LaunchSpec<D>): Promise<D> {
    const child = spawn(spec.command, spec.args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    for (const stream of spec.capture) child[stream]?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const daemon = spec.create(child);
    try {
      await waitFor(async () => {
        if (child.exitCode !== null) throw new Error(`${spec.command} exited: ${output.trim()}`);
        return spec.ready(daemon);
      }, spec.timeoutMs, spec.what);
    } catch (err) {
      await daemon.stop();
      throw err;
    }
    return daemon;
  }

  constructor(
    readonly dir: string,
    protected readonly child: ChildProcess,
  ) {}

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Freezes the process (SIGSTOP), e.g. to let its peer's hold timer expire. */
  pause(): void {
    this.child.kill("SIGSTOP");
  }

  resume(): void {
    this.child.kill("SIGCONT");
  }

  /** Stops the process (SIGTERM, SIGKILL if it lingers) and removes its directory. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGCONT");
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), KILL_AFTER_MS);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
