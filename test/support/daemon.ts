/** A routing daemon a test started: its process and its scratch directory. */
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";

const KILL_AFTER_MS = 3000;

export class Daemon {
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
