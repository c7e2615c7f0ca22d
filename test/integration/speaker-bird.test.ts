/**
 * svcbgp-speaker in intent-file mode against a real BIRD 2 on loopback:
 * routes appear; editing the file changes only the edited prefix on BIRD;
 * an invalid file keeps the routes; a graceful shutdown leaves them with BIRD
 * (graceful restart). Addresses 127.0.0.2 (speaker) and 127.0.0.3 (BIRD),
 * unprivileged ports. Everything is polled; nothing asserts on timing.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labAvailable } from "../support/requirements.js";
import { sleep, waitFor } from "../support/wait.js";
import { startSpeaker, type RunningSpeaker } from "../../services/speaker/src/speaker.js";
import { bgpSessionFactory } from "../../services/speaker/src/peers/session-factory.js";
import type { SessionFactory } from "../../services/speaker/src/peers/reconciler.js";
import { createLogger } from "@svcbgp/telemetry";

const run = promisify(execFile);

/**
 * BIRD prints a route's "since" as its real-time clock now minus the route's
 * age on its monotonic clock (lib/timer.c, tm_format_time), the two read at
 * different moments: an untouched route's stamp moves by a millisecond or so
 * from one `show route` to the next, and by tens of ms on a busy machine. A
 * re-announced route is stamped when it arrives, which the tests below make
 * later than this by at least 2 × SINCE_JITTER_MS.
 */
const SINCE_JITTER_MS = 100;

/** A "since" stamp (timeformat route iso long ms: "YYYY-MM-DD HH:MM:SS.mmm") in ms; the zone cancels out in differences. */
function sinceMs(stamp: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})$/.exec(stamp);
  if (!m) throw new Error(`unexpected BIRD route stamp ${JSON.stringify(stamp)}`);
  const [year, month, day, hours, minutes, seconds, ms] = m.slice(1).map(Number);
  return Date.UTC(year, month - 1, day, hours, minutes, seconds, ms);
}

/** Each of `prefixes` is held before and after with the same "since" (within BIRD's jitter): it was not replaced in between. */
function expectNotReplaced(before: Map<string, string>, after: Map<string, string>, prefixes: string[]): void {
  for (const prefix of prefixes) {
    const [was, now] = [before.get(prefix), after.get(prefix)];
    expect(was !== undefined && now !== undefined, `${prefix} held before (${was}) and after (${now})`).toBe(true);
    expect(Math.abs(sinceMs(now!) - sinceMs(was!)), `${prefix}: since ${was} → ${now}`).toBeLessThan(SINCE_JITTER_MS);
  }
}

const SPEAKER_IP = "127.0.0.2";
const BIRD_IP = "127.0.0.3";
const BIRD_AS = 65001;
const NODE_AS = 64512;

function sessionFactory(): SessionFactory | undefined {
  try {
    return bgpSessionFactory();
  } catch (err) {
    const reason = (err as Error).message;
    if (process.env.SVCBGP_REQUIRE_LAB === "1") throw new Error(`speaker-bird: SVCBGP_REQUIRE_LAB=1 but ${reason}`);
    console.warn(`SKIP speaker-bird: ${reason}`);
    return undefined;
  }
}

const factory = labAvailable("speaker-bird", { bird: true }) ? sessionFactory() : undefined;

class Bird {
  private child: ChildProcess | undefined;
  private output = "";
  readonly sock: string;

  constructor(
    private readonly dir: string,
    readonly port: number,
  ) {
    this.sock = join(dir, "bird.ctl");
  }

  async start(): Promise<void> {
    const conf = join(this.dir, "bird.conf");
    await writeFile(
      conf,
      `log stderr all;
router id ${BIRD_IP};
timeformat route iso long ms;
timeformat protocol iso long ms;
protocol device { }
protocol bgp speaker {
  local ${BIRD_IP} port ${this.port} as ${BIRD_AS};
  neighbor ${SPEAKER_IP} as ${NODE_AS};
  multihop;
  passive on;
  strict bind on;
  connect delay time 1; connect retry time 1; error wait time 1,2;
  graceful restart on;
  ipv4 { import all; export none; };
}
`,
    );
    this.child = spawn("bird", ["-c", conf, "-s", this.sock, "-P", join(this.dir, "bird.pid"), "-f"], { stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.on("data", (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on("data", (d: Buffer) => (this.output += d.toString()));
    await waitFor(async () => existsSync(this.sock) && (await this.birdc("show", "status")).includes("Daemon is up"), 20_000, `BIRD to start (output: ${this.output})`);
  }

  async birdc(...args: string[]): Promise<string> {
    const { stdout } = await run("birdc", ["-s", this.sock, ...args]);
    return stdout;
  }

  /** prefix → "since" timestamp, for routes BIRD learned from the speaker. */
  async routes(): Promise<Map<string, string>> {
    const out = await this.birdc("show", "route", "protocol", "speaker");
    const routes = new Map<string, string>();
    for (const m of out.matchAll(/^(\S+\/\d+)\s+\S+\s+\[speaker ([^\]]+?)(?: from \S+)?\]/gm)) routes.set(m[1], m[2]);
    return routes;
  }

  async routeDetails(prefix: string): Promise<string> {
    return this.birdc("show", "route", prefix, "protocol", "speaker", "all");
  }

  async protocol(): Promise<{ state: string; updates: number; withdraws: number; text: string }> {
    const text = await this.birdc("show", "protocols", "all", "speaker");
    const state = /BGP state:\s+(\S+)/.exec(text)?.[1] ?? "?";
    const updates = Number(/Import updates:\s+(\d+)/.exec(text)?.[1] ?? NaN);
    const withdraws = Number(/Import withdraws:\s+(\d+)/.exec(text)?.[1] ?? NaN);
    return { state, updates, withdraws, text };
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child!.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
  }

  get log(): string {
    return this.output;
  }
}

const intentYaml = (port: number, routes: Array<{ prefix: string; communities?: string[] }>, extraPeerYaml = "") => `
nodeName: node-1
routerId: ${SPEAKER_IP}
localAsn: ${NODE_AS}
peers:
  - address: ${BIRD_IP}
    port: ${port}
    asn: ${BIRD_AS}
    sourceAddress: ${SPEAKER_IP}
    gracefulRestart: { enabled: true, restartTime: 120 }
${extraPeerYaml}routes:
${routes.map((r) => `  - prefix: ${r.prefix}\n${r.communities ? `    communities: [${r.communities.map((c) => `"${c}"`).join(", ")}]\n` : ""}`).join("")}`;

describe.skipIf(!factory)("speaker (intent file) against BIRD", () => {
  let dir: string;
  let bird: Bird;
  let speaker: RunningSpeaker | undefined;
  let intentPath: string;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const initial = [{ prefix: "10.49.0.0/16", communities: ["64512:100"] }, { prefix: "10.49.62.131/32" }, { prefix: "192.168.3.0/24" }];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "speaker-bird-"));
    intentPath = join(dir, "intent.yaml");
    bird = new Bird(dir, port);
    await bird.start();
    await writeFile(intentPath, intentYaml(port, initial));
    speaker = await startSpeaker(
      { nodeName: "node-1", intentFile: intentPath, apiListen: "127.0.0.1:0", httpListen: "127.0.0.1:0" },
      {
        sessionFactory: factory!,
        logger: createLogger({ name: "speaker-bird", level: process.env.TEST_LOG_LEVEL ?? "silent" }),
        file: { debounceMs: 50, pollMs: 200 },
        // As on a host without the TCP-MD5 addon: the password peer below is refused (bgp-tcp-md5.test.ts connects one).
        tcpMd5Unavailable: () => "no addon in this test",
      },
    );
  });

  afterAll(async () => {
    await speaker?.stop();
    await bird?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const routesOnBird = async (expected: string[]) =>
    waitFor(
      async () => {
        const routes = await bird.routes();
        return [...routes.keys()].sort().join(",") === [...expected].sort().join(",") ? routes : undefined;
      },
      60_000,
      `BIRD to hold exactly ${expected.join(", ")}`,
      200,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\nBIRD routes: ${[...(await bird.routes()).keys()].join(", ")}\n${(await bird.protocol()).text}\nspeaker peers: ${JSON.stringify(speaker?.controller.peers().map((p) => p.session?.status()))}`);
    });

  it("advertises the intent's routes, next hop self and communities", async () => {
    await routesOnBird(["10.49.0.0/16", "10.49.62.131/32", "192.168.3.0/24"]);
    expect((await bird.protocol()).state).toBe("Established");
    const details = await bird.routeDetails("10.49.0.0/16");
    expect(details).toMatch(new RegExp(`BGP\\.next_hop:\\s+${SPEAKER_IP.replace(/\./g, "\\.")}`));
    expect(details).toMatch(/BGP\.community:\s+\(64512,100\)/);
    expect(details).toMatch(/BGP\.as_path:\s+64512/);
    const status = speaker!.controller.peers()[0].session!.status();
    expect(status.state).toBe("Established");
    expect(status.capabilities).toContain("graceful-restart");
  });

  it("applies an edit to the file as a change of the edited prefix only", async () => {
    const before = await routesOnBird(["10.49.0.0/16", "10.49.62.131/32", "192.168.3.0/24"]);
    const statsBefore = await bird.protocol();
    await sleep(2 * SINCE_JITTER_MS); // a route re-announced from here on is stamped well past the jitter allowed
    await writeFile(intentPath, intentYaml(port, [initial[0], initial[1], { prefix: "192.168.4.0/24" }]));
    const after = await routesOnBird(["10.49.0.0/16", "10.49.62.131/32", "192.168.4.0/24"]);
    // The unchanged prefixes were not re-announced: same "since" on BIRD, and BIRD counted one update and one withdrawal.
    expectNotReplaced(before, after, ["10.49.0.0/16", "10.49.62.131/32"]);
    const statsAfter = await waitFor(async () => {
      const s = await bird.protocol();
      return s.withdraws === statsBefore.withdraws + 1 ? s : undefined;
    }, 30_000, "BIRD to count the withdrawal");
    expect(statsAfter.updates).toBe(statsBefore.updates + 1);
  });

  it("keeps the routes when the file becomes invalid", async () => {
    const before = await routesOnBird(["10.49.0.0/16", "10.49.62.131/32", "192.168.4.0/24"]);
    const statsBefore = await bird.protocol();
    await sleep(2 * SINCE_JITTER_MS); // a route re-announced from here on is stamped well past the jitter allowed
    await writeFile(intentPath, intentYaml(port, [{ prefix: "10.49.0.1/16" }]).replace("    sourceAddress", "    holdTime: 2\n    sourceAddress"));
    // The file is written in place: the speaker may first read it truncated (empty, also rejected), so wait for this file's reason.
    await waitFor(() => speaker!.fileSource!.status().lastError?.includes("routes[0].prefix"), 30_000, "the speaker to reject the file").catch((err: Error) => {
      throw new Error(`${err.message}; lastError: ${speaker!.fileSource!.status().lastError}`);
    });
    await sleep(1500); // give a wrong implementation the chance to withdraw
    const after = await bird.routes();
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    expectNotReplaced(before, after, [...before.keys()]);
    const statsAfter = await bird.protocol();
    expect([statsAfter.state, statsAfter.updates, statsAfter.withdraws]).toEqual(["Established", statsBefore.updates, statsBefore.withdraws]);
  });

  it("without TCP-MD5, refuses a peer with a password but keeps the other session", async () => {
    const statsBefore = await bird.protocol();
    await writeFile(
      intentPath,
      intentYaml(port, [initial[0], initial[1], { prefix: "192.168.4.0/24" }], `  - address: 127.0.0.4\n    port: ${port}\n    asn: ${BIRD_AS}\n    password: hunter2\n`),
    );
    await waitFor(() => speaker!.controller.peers().some((p) => p.refused?.startsWith("TCP-MD5 unavailable: no addon in this test")), 30_000, "the password peer to be refused");
    expect(speaker!.controller.peers().find((p) => p.key.startsWith("127.0.0.4"))?.session).toBeUndefined();
    const stats = await bird.protocol();
    expect([stats.state, stats.updates, stats.withdraws]).toEqual(["Established", statsBefore.updates, statsBefore.withdraws]);
  });

  it("on shutdown, closes without NOTIFICATION so BIRD keeps the routes (graceful restart)", async () => {
    const before = await routesOnBird(["10.49.0.0/16", "10.49.62.131/32", "192.168.4.0/24"]);
    await speaker!.stop();
    speaker = undefined;
    await waitFor(async () => (await bird.protocol()).state !== "Established", 30_000, "BIRD to notice the session closed");
    const text = (await bird.protocol()).text;
    expect(text).toMatch(/Neighbor graceful restart active/);
    expect(text).not.toMatch(/Administrative shutdown/i);
    expect([...(await bird.routes()).keys()].sort()).toEqual([...before.keys()].sort());
  });
});
