/**
 * The built svcbgp-watcher bin on the seed's manifests (examples/seed),
 * queried with svcbgpctl: exact output for the seed. Also: readiness, and a
 * SIGTERM that ends a speaker's stream cleanly and exits 0. Runs
 * services/watcher/dist/main.js: `npm run build` first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../services/ctl/src/cli.js";
import { waitFor } from "../support/wait.js";
import { StreamFollower } from "./watcher-support.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = `${ROOT}services/watcher/dist/main.js`;

let child: ChildProcess;
let logLines: Array<Record<string, unknown>> = [];
let address = "";
let httpAddress = "";
let exited: Promise<number | null>;

async function ctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(["--watcher", address, ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error("services/watcher/dist/main.js is missing: run npm run build first");
  child = spawn(process.execPath, [BIN, "--manifests", `${ROOT}examples/seed`, "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--log-level", "info"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  // "close", not "exit": only then has all of its output (the log lines the last test reads) been read.
  exited = new Promise((resolve) => child.on("close", (code) => resolve(code)));
  let buffer = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    logLines.push(...lines.filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>));
  });
  const started = await waitFor(() => logLines.find((l) => l.msg === "watcher started"), 30_000, "the watcher to start");
  address = started.listen as string;
  httpAddress = started.http as string;
  await waitFor(() => logLines.some((l) => l.msg === "source synced; serving intents"), 30_000, "the sync");
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill("SIGKILL");
    await exited;
  }
  logLines = [];
});

describe("svcbgpctl against svcbgp-watcher --manifests examples/seed", () => {
  it("routes --node N -o json: an array of Route sorted by prefix", async () => {
    for (const node of ["node-1", "node-2", "node-3"]) {
      const { code, stdout } = await ctl("routes", "--node", node, "-o", "json");
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual([{ prefix: "10.49.0.0/16", reasons: [{ source: "default", kind: "ROUTE_KIND_CLUSTER_IP_RANGE" }] }]);
    }
  });

  it("intent --node N", async () => {
    expect(await ctl("intent", "--node", "node-2")).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        "node node-2  router-id 192.168.1.11  asn 64512  revision 3",
        "",
        "PEER          PORT   ASN     LOCAL-ASN   SOURCE         HOLD      GR     NAME",
        "192.168.1.1   179    64512   64512       192.168.1.11   default   120s   bgppeer-global-64512",
        "",
        "PREFIX         NEXT-HOP   COMMUNITIES   LOCAL-PREF   REASONS",
        "10.49.0.0/16   self       -             -            cluster-ip-range:default",
        "",
      ].join("\n"),
    });
    const json = await ctl("intent", "--node", "node-1", "-o", "json");
    expect(JSON.parse(json.stdout)).toEqual({
      nodeName: "node-1",
      routerId: "192.168.1.10",
      localAsn: 64512,
      peers: [{ address: "192.168.1.1", asn: 64512, sourceAddress: "192.168.1.10", gracefulRestart: { enabled: true }, name: "bgppeer-global-64512" }],
      routes: [{ prefix: "10.49.0.0/16", reasons: [{ source: "default", kind: "ROUTE_KIND_CLUSTER_IP_RANGE" }] }],
    });
  });

  it("explain NS/NAME", async () => {
    expect(await ctl("explain", "default/nginx")).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        "IP             KIND         ALLOWED-BY     NODE     ADVERTISED     REASON",
        "10.49.62.131   cluster-ip   10.49.0.0/16   node-1   10.49.0.0/16   covered by 10.49.0.0/16",
        "10.49.62.131   cluster-ip   10.49.0.0/16   node-2   10.49.0.0/16   covered by 10.49.0.0/16",
        "10.49.62.131   cluster-ip   10.49.0.0/16   node-3   10.49.0.0/16   covered by 10.49.0.0/16",
        "",
      ].join("\n"),
    });
    const json = await ctl("explain", "default/nginx", "-o", "json");
    expect(JSON.parse(json.stdout)).toEqual({
      found: true,
      ips: [
        {
          ip: "10.49.62.131",
          kind: "ROUTE_KIND_CLUSTER_IP",
          allowedBy: "10.49.0.0/16",
          nodes: ["node-1", "node-2", "node-3"].map((nodeName) => ({ nodeName, advertisedPrefix: "10.49.0.0/16", reason: "covered by 10.49.0.0/16" })),
        },
      ],
    });
  });

  it("reports unknown nodes and Services as errors", async () => {
    expect(await ctl("routes", "--node", "node-9")).toEqual({ code: 1, stdout: "", stderr: "svcbgpctl: no intent for node node-9: the watcher does not know this node\n" });
    expect(await ctl("explain", "default/nope")).toEqual({ code: 1, stdout: "", stderr: "svcbgpctl: service default/nope not found by the watcher\n" });
  });

  it("is ready, and on SIGTERM ends a speaker's stream cleanly and exits 0", async () => {
    const ready = await fetch(`http://${httpAddress}/readyz`);
    expect(ready.status).toBe(200);
    const speaker = new StreamFollower(address, "node-3");
    await waitFor(() => speaker.held, 10_000, "the snapshot");
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    await speaker.done;
    expect(speaker.errors).toEqual([]);
    expect(speaker.events.map((e) => e.event.case)).toEqual(["snapshot"]);
    expect(logLines.some((l) => l.msg === "signal received, shutting down")).toBe(true);
  });
});
