/** The machine and versions a run was measured on. */
import { execFileSync } from "node:child_process";
import { cpus, loadavg, release, totalmem } from "node:os";
import { ROOT } from "./build.js";

function version(command: string, args: string[]): string {
  try {
    const out = execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return out.trim().split("\n")[0];
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    const text = `${e.stdout ?? ""}${e.stderr ?? ""}`.trim();
    return text ? text.split("\n")[0] : "unavailable";
  }
}

function birdVersion(): string {
  try {
    // `bird --version` prints to stderr.
    return execFileSync("sh", ["-c", "bird --version 2>&1"], { encoding: "utf8" }).trim();
  } catch {
    return "unavailable";
  }
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  kernel: string;
  node: string;
  bird: string;
  gobgp: string;
  commit: string;
  dirty: boolean;
  /** 1/5/15-minute load averages when the run started (other work on the machine skews wall-clock figures). */
  loadAverage: number[];
}

export function machine(): Machine {
  const list = cpus();
  let commit = "unknown";
  let dirty = false;
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    dirty = execFileSync("git", ["status", "--porcelain"], { cwd: ROOT, encoding: "utf8" }).trim().length > 0;
  } catch {
    /* not a checkout */
  }
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? "unknown",
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    bird: birdVersion(),
    gobgp: version("gobgpd", ["--version"]),
    commit,
    dirty,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
