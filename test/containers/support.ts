/**
 * Helpers for the container suites: running docker and compose commands,
 * the suites' setup and teardown, and reading the ToR's kernel routing table.
 */
import { execFile } from "node:child_process";
import { afterAll, afterEach, beforeAll } from "vitest";

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs a command; resolves with stdout, rejects with the command line, exit status and stderr. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err) {
          const status = (err as { code?: unknown }).code ?? (err as { signal?: unknown }).signal;
          reject(new Error(`${command} ${args.join(" ")} failed (${String(status)}): ${stderr.trim() || stdout.trim() || err.message}`));
        } else resolve(stdout);
      },
    );
  });
}

/** Like run, but never rejects: for cleanup and diagnostics. */
export async function runQuiet(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  try {
    return await run(command, args, options);
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * True when `name` (`<prefix><pid>x<suffix>`, a run's project or label) was made
 * by a process that is gone: what a killed run left behind.
 */
export function deadRun(name: string, prefix: string): boolean {
  const pid = Number(new RegExp(`^${prefix}(\\d+)x`).exec(name)?.[1]);
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

export interface SuiteLifecycle {
  /** Runs in beforeAll. */
  setup: () => Promise<void>;
  setupTimeoutMs: number;
  /** Printed (headed "<name> diagnostics:") before the teardown when the setup or any test failed. */
  name: string;
  diagnostics: () => Promise<string>;
  /** Runs in afterAll, whatever happened. */
  teardown: () => Promise<void>;
  teardownTimeoutMs: number;
}

/** Registers a container suite's beforeAll/afterEach/afterAll: setup, failure tracking, diagnostics on failure, teardown. */
export function suiteLifecycle(suite: SuiteLifecycle): void {
  let failed = false;

  beforeAll(async () => {
    try {
      await suite.setup();
    } catch (err) {
      failed = true;
      throw err;
    }
  }, suite.setupTimeoutMs);

  afterEach((context) => {
    if (context.task.result?.state === "fail") failed = true;
  });

  afterAll(async () => {
    try {
      if (failed) console.error(`${suite.name} diagnostics:\n${await suite.diagnostics()}`);
    } finally {
      await suite.teardown();
    }
  }, suite.teardownTimeoutMs);
}

export interface KernelRoute {
  dst: string;
  gateway?: string;
  protocol?: string;
  nexthops?: Array<{ gateway?: string; dev?: string; weight?: number }>;
}

/** `ip -j route` output (the main table). */
export function parseRoutes(json: string): KernelRoute[] {
  return JSON.parse(json) as KernelRoute[];
}

/** The sorted next hops of the route to `prefix` (a /32 may be listed without its length), or [] when there is none. */
export function nextHops(routes: KernelRoute[], prefix: string): string[] {
  const bare = prefix.replace(/\/32$/, "");
  const route = routes.find((r) => r.dst === prefix || r.dst === bare);
  if (!route) return [];
  const hops = route.nexthops ? route.nexthops.map((h) => h.gateway ?? "") : [route.gateway ?? ""];
  return hops.filter(Boolean).sort(compareIp);
}

export function compareIp(a: string, b: string): number {
  const key = (ip: string) => ip.split(".").map((part) => part.padStart(3, "0")).join(".");
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}

/** A shell loop for a client container: curls `url` until /tmp/<name>.stop exists, one line per try (OK <body> | FAIL <exit code>). */
export function curlLoopScript(url: string, name: string, intervalSeconds = 0.1): string {
  return [
    `rm -f /tmp/${name}.stop`,
    `while [ ! -f /tmp/${name}.stop ]; do`,
    `  if body=$(curl -sS -m 2 --fail ${url} 2>&1); then echo "OK $body"; else echo "FAIL $? $body"; fi`,
    `  sleep ${intervalSeconds}`,
    `done`,
  ].join("\n");
}

/** Counts of a curl loop's output lines. */
export function curlTally(output: string): { ok: number; failed: number; failures: string[]; answers: Record<string, number> } {
  const lines = output.split("\n").filter(Boolean);
  const answers: Record<string, number> = {};
  const failures: string[] = [];
  let ok = 0;
  for (const line of lines) {
    if (line.startsWith("OK ")) {
      ok++;
      const body = line.slice(3).trim();
      answers[body] = (answers[body] ?? 0) + 1;
    } else if (line.startsWith("FAIL")) failures.push(line);
  }
  return { ok, failed: failures.length, failures, answers };
}
