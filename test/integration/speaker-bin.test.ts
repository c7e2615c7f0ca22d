/**
 * The built svcbgp-speaker binary: flags, readiness, SIGTERM → exit 0.
 * Needs `npm run build` (skips with a printed reason otherwise).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { waitFor } from "../support/wait.js";

const main = fileURLToPath(new URL("../../services/speaker/dist/main.js", import.meta.url));
const built = existsSync(main);
if (!built && process.env.SVCBGP_REQUIRE_LAB === "1") throw new Error(`speaker-bin: ${main} is missing (run npm run build)`);
if (!built) console.warn(`SKIP speaker-bin: ${main} is missing (run npm run build)`);

describe.skipIf(!built)("svcbgp-speaker binary", () => {
  it("rejects bad flags with exit status 1", () => {
    const result = spawnSync(process.execPath, [main, "--watcher", "127.0.0.1:1"], { env: { ...process.env, NODE_NAME: "" }, encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("--node-name (or NODE_NAME) is required");
  });

  it("serves /readyz once the intent file is loaded and exits 0 on SIGTERM", async () => {
    const dir = await mkdtemp(join(tmpdir(), "speaker-bin-"));
    const intent = join(dir, "intent.yaml");
    await writeFile(intent, "routerId: 127.0.0.2\nlocalAsn: 64512\nroutes:\n  - prefix: 10.49.0.0/16\n");
    // Port 0, read back from the log: a port picked here could be taken meanwhile (127.0.0.1 is shared with every other suite).
    const child = spawn(process.execPath, [main, "--intent-file", intent, "--api-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--log-level", "info"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    // "close", not "exit": only then has all of its output been read.
    const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    try {
      // A line still being written does not parse yet: waitFor takes the throw as "not yet".
      const startedLine = () => output.split("\n").find((line) => line.includes('"msg":"speaker started"'));
      const http = await waitFor(() => startedLine() && (JSON.parse(startedLine()!) as { http?: string }).http, 20_000, "the speaker to start").catch((err: Error) => {
        throw new Error(`${err.message}; output: ${output}`);
      });
      await waitFor(async () => (await fetch(`http://${http}/readyz`).catch(() => undefined))?.status === 200, 20_000, "the speaker to be ready");
      const metrics = await (await fetch(`http://${http}/metrics`)).text();
      expect(metrics).toContain("svcbgp_speaker_intent_routes 1");
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(output).toContain('"msg":"stopped"');
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });
});
