/**
 * Footprint: svcbgp-speaker (its real main, following a static intent file)
 * with 3 BGP peers and 1,000 routes, left idle: resident memory and CPU.
 * Reference: BIRD doing the same job (1,000 static routes exported to the
 * same 3 peers). The peers are 3 BIRDs on 3 loopback addresses. Default
 * timers (hold 90 s) on both.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Bird } from "../support/bird.js";
import { loopbackAddress, unprivilegedPort } from "../support/loopback.js";
import { sleep, waitFor } from "../support/wait.js";
import { bundleEntry } from "./lib/build.js";
import { birdImported, hostPrefix, pidOf, staticRoutes } from "./lib/daemons.js";
import { BenchChild, cpuSeconds, memInfo } from "./lib/proc.js";
import { round } from "./lib/stats.js";
import type { Bench } from "./lib/types.js";

const ASN = 64512;
const PEERS = 3;
const ROUTES = 1000;

/** One BIRD per peer (one BIRD cannot hold several sessions with the same neighbor address). */
class Peers {
  private constructor(readonly birds: Bird[]) {}

  static async start(tors: string[], port: number, node: string): Promise<Peers> {
    const birds: Bird[] = [];
    for (const tor of tors) {
      birds.push(
        await Bird.start(
          `router id ${tor};\nprotocol device {}\nprotocol bgp peer1 { local ${tor} port ${port} as ${ASN}; neighbor ${node} as ${ASN}; multihop; strict bind on; passive on; connect delay time 1; connect retry time 1; error wait time 1,2; ipv4 { import all; export none; }; }\n`,
        ),
      );
    }
    return new Peers(birds);
  }

  async stop(): Promise<void> {
    for (const bird of this.birds) await bird.stop();
  }
}

interface Idle {
  rssMb: number;
  peakRssMb: number;
  cpuMs: number;
  cpuPercent: number;
  settleMs: number;
}

async function idle(pid: number, seconds: number, settleMs: number): Promise<Idle> {
  const cpu0 = cpuSeconds(pid);
  await sleep(seconds * 1000);
  const cpuMs = (cpuSeconds(pid) - cpu0) * 1000;
  const mem = memInfo(pid);
  return { rssMb: mem.rssMb, peakRssMb: mem.peakRssMb, cpuMs, cpuPercent: (cpuMs / (seconds * 1000)) * 100, settleMs };
}

async function allRoutesAt(peers: Peers, count: number): Promise<void> {
  await waitFor(async () => {
    for (const bird of peers.birds) if ((await birdImported(bird, "peer1")) !== count) return false;
    return true;
  }, 60_000, `${count} routes at each of ${PEERS} peers`);
}

export const footprint: Bench = async (ctx) => {
  const seconds = ctx.quick ? 5 : 30;
  const settle = ctx.quick ? 1000 : 3000;
  const port = unprivilegedPort();
  const dir = mkdtempSync(join(tmpdir(), "svcbgp-bench-"));
  const results: Record<string, Idle> = {};
  try {
    // svcbgp-speaker.
    {
      const tors = Array.from({ length: PEERS }, () => loopbackAddress());
      const node = loopbackAddress();
      const peers = await Peers.start(tors, port, node);
      const intentFile = join(dir, "intent.json");
      writeFileSync(
        intentFile,
        JSON.stringify({
          nodeName: "node-0",
          routerId: node,
          localAsn: ASN,
          peers: tors.map((address) => ({ address, port, asn: ASN, sourceAddress: node })),
          routes: Array.from({ length: ROUTES }, (_, i) => ({ prefix: hostPrefix(i) })),
        }),
      );
      const script = await bundleEntry("services/speaker/src/main.ts", "speaker");
      const speaker = BenchChild.spawn(script, ["--intent-file", intentFile, "--api-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--log-level", process.env.BENCH_VERBOSE ? "info" : "warn"], { nodeFlags: ctx.nodeFlags("footprint") });
      try {
        await allRoutesAt(peers, ROUTES);
        await sleep(settle);
        results.svcbgp = await idle(speaker.pid, seconds, settle);
      } finally {
        await speaker.stop();
        await peers.stop();
      }
    }
    // BIRD as the speaker.
    {
      const tors = Array.from({ length: PEERS }, () => loopbackAddress());
      const node = loopbackAddress();
      const peers = await Peers.start(tors, port, node);
      const speakerPort = unprivilegedPort();
      const bird = await Bird.start(
        [
          `router id ${node};`,
          "protocol device {}",
          `protocol static s1 { ipv4;\n${staticRoutes(ROUTES, hostPrefix)}\n}`,
          ...tors.map(
            (tor, i) =>
              `protocol bgp tor${i + 1} { local ${node} port ${speakerPort} as ${ASN}; neighbor ${tor} port ${port} as ${ASN}; multihop; strict bind on; connect delay time 1; connect retry time 1; error wait time 1,2; ipv4 { import none; export where proto = "s1"; next hop self; }; }`,
          ),
        ].join("\n"),
      );
      try {
        await allRoutesAt(peers, ROUTES);
        await sleep(settle);
        results.bird = await idle(pidOf(bird), seconds, settle);
      } finally {
        await bird.stop();
        await peers.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const { svcbgp, bird } = results;
  ctx.log(`svcbgp-speaker: RSS ${svcbgp.rssMb.toFixed(1)} MB, CPU ${svcbgp.cpuMs.toFixed(0)} ms over ${seconds} s; BIRD: RSS ${bird.rssMb.toFixed(1)} MB, CPU ${bird.cpuMs.toFixed(0)} ms`);
  return {
    title: `Footprint: speaker idle with ${PEERS} peers and ${ROUTES.toLocaleString("en")} routes (${seconds} s)`,
    figures: { peers: PEERS, routes: ROUTES, idleSeconds: seconds, svcbgp, bird },
    summary: [
      { metric: "idle RSS", unit: "MB", svcbgp: round(svcbgp.rssMb, 1), references: { "BIRD as speaker": round(bird.rssMb, 1) } },
      { metric: "peak RSS (start-up and initial sync)", unit: "MB", svcbgp: round(svcbgp.peakRssMb, 1), references: { "BIRD as speaker": round(bird.peakRssMb, 1) } },
      { metric: "idle CPU", unit: "%", svcbgp: round(svcbgp.cpuPercent, 2), references: { "BIRD as speaker": round(bird.cpuPercent, 2) } },
    ],
    notes: [
      `svcbgp-speaker = services/speaker/src/main.ts (bundled, plain node) following an intent file, with its gRPC API and metrics endpoint up; idle window ${seconds} s after all ${PEERS}×${ROUTES} routes were at the peers (+${settle} ms)`,
      "CPU from /proc/<pid>/stat (user + system); RSS is VmRSS at the end of the window, peak is VmHWM",
    ],
  };
};
