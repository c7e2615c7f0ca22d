/**
 * Convergence: from an EndpointSlice change at the API server to the route
 * present (or absent) in the ToR's table.
 *
 * Chain: test list/watch API server → watcher (startWatcher, own process:
 * informers → engine → IntentHub → gRPC WatchIntent) → svcbgp-speaker for
 * node-0 (its real main, own process) → iBGP → the ToR, a BIRD on loopback.
 * The change adds (then removes) a node-0 endpoint to an eTP-Local Service,
 * so node-0 starts (stops) advertising its cluster IP /32.
 *
 * Reference, same run, same ToR: gobgpd peering with that BIRD, the route
 * injected with `gobgp global rib add` (and removed with `del`), timed from
 * starting the CLI (its start-up included, as in the reference).
 *
 * "The ToR's table" is BIRD's master4, polled over its control socket every
 * ~1 ms (no kernel table: this runs on loopback, not in the namespace lab).
 */
import { rmSync } from "node:fs";
import { Bird } from "../support/bird.js";
import { Gobgp } from "../support/gobgp.js";
import { loopbackAddress } from "../support/loopback.js";
import { sleep, waitFor } from "../support/wait.js";
import { BirdControl } from "./lib/bird-control.js";
import { bundleEntry } from "./lib/build.js";
import { ipOf, isLocal, makePeer, makeSlice, type ClusterSize } from "./lib/cluster.js";
import { endpoint } from "./lib/daemons.js";
import { BenchChild } from "./lib/proc.js";
import { distribution, round, wallNow, type Distribution } from "./lib/stats.js";
import type { Bench } from "./lib/types.js";
import { startClusterServer } from "./watcher-scale.js";
import type { ApiObject } from "../support/kube-api-server.js";

const SENT_AT = "bench.svcbgp.io/sent-at";
const ASN = 64512;

async function until(control: BirdControl, prefix: string, present: boolean, protocol: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const start = wallNow();
    const has = await control.hasRoute(prefix, protocol);
    if (has === present) return (start + wallNow()) / 2;
    if (Date.now() > deadline) throw new Error(`${prefix} still ${present ? "absent" : "present"} at the ToR after ${timeoutMs} ms`);
    await sleep(1);
  }
}

function torConfig(tor: { address: string; port: number }, node: string, gobgp: { address: string; port: number }): string {
  const common = "multihop; strict bind on; passive on; connect delay time 1; connect retry time 1; error wait time 1,2; ipv4 { import all; export none; };";
  return `router id ${tor.address};
protocol device {}
protocol bgp speaker { local ${tor.address} port ${tor.port} as ${ASN}; neighbor ${node} as ${ASN}; ${common} }
protocol bgp gobgp { local ${tor.address} port ${tor.port} as ${ASN}; neighbor ${gobgp.address} port ${gobgp.port} as ${ASN}; ${common} }
`;
}

export const convergence: Bench = async (ctx) => {
  const size: ClusterSize = ctx.quick ? { nodes: 50, services: 1000, endpointsPerService: 10 } : { nodes: 100, services: 10_000, endpointsPerService: 10 };
  const changes = ctx.quick ? 15 : 100;
  const tor = endpoint();
  const nodeIp = loopbackAddress();
  const gobgpEnd = endpoint();
  const bird = await Bird.start(torConfig(tor, nodeIp, gobgpEnd));
  const control = await BirdControl.open(bird.socket);
  const cluster = await startClusterServer(size, { nodeIps: { 0: nodeIp }, peer: makePeer(`${tor.address}:${tor.port}`, ASN) });
  const { server } = cluster;
  let watcher: BenchChild | undefined;
  let speaker: BenchChild | undefined;
  let gobgp: Gobgp | undefined;
  try {
    watcher = BenchChild.spawn(await ctx.child("watcher-scale"), [`--kubeconfig=${cluster.kubeconfig}`], { nodeFlags: ctx.nodeFlags("convergence-watcher") });
    const synced = await watcher.next("synced", 300_000);
    const speakerScript = await bundleEntry("services/speaker/src/main.ts", "speaker");
    speaker = BenchChild.spawn(speakerScript, ["--node-name", "node-0", "--watcher", String(synced.address), "--api-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--log-level", "warn"], {
      nodeFlags: ctx.nodeFlags("convergence-speaker"),
    });
    await bird.waitEstablished("speaker", 60_000);
    watcher.send({ type: "intent", node: "node-0" });
    const intent = (await watcher.next("intent")).routes as string[];
    await waitFor(async () => (await bird.routeCount({ protocol: "speaker" })) === intent.length, 60_000, `node-0's ${intent.length} routes at the ToR`);
    ctx.log(`watcher synced (${size.services} Services); speaker node-0 Established with the ToR, ${intent.length} routes advertised`);

    // Local Services with no endpoint on node-0: adding one makes node-0 advertise the cluster IP.
    const candidates: number[] = [];
    for (let i = 0; i < size.services && candidates.length < changes; i++) {
      if (!isLocal(i)) continue;
      const slice = makeSlice(i, size) as unknown as { endpoints: Array<{ nodeName?: string }> };
      if (!slice.endpoints.some((e) => e.nodeName === "node-0")) candidates.push(i);
    }
    const withNode0 = (i: number, stamp: string) => {
      const slice = makeSlice(i, size, 0, { [SENT_AT]: stamp }) as ApiObject & { endpoints: unknown[] };
      slice.endpoints.push({ addresses: ["10.48.255.1"], conditions: { ready: true }, nodeName: "node-0" });
      return slice;
    };
    const ours = { announce: [] as number[], withdraw: [] as number[] };
    for (const i of candidates) {
      const prefix = `${ipOf("10.49", i)}/32`;
      let t0 = wallNow();
      server.update(withNode0(i, String(t0)));
      ours.announce.push((await until(control, prefix, true, "speaker")) - t0);
      await sleep(10);
      t0 = wallNow();
      server.update(makeSlice(i, size, 0, { [SENT_AT]: String(t0) }) as ApiObject);
      ours.withdraw.push((await until(control, prefix, false, "speaker")) - t0);
      await sleep(10);
    }
    watcher.send({ type: "stats" });
    const watcherStats = await watcher.next("stats");

    // Reference: gobgpd → the same ToR.
    gobgp = await Gobgp.start({ asn: ASN, routerId: gobgpEnd.address, listenAddress: gobgpEnd.address, listenPort: gobgpEnd.port, neighbors: [{ address: tor.address, port: tor.port, asn: ASN, localAddress: gobgpEnd.address }] });
    await bird.waitEstablished("gobgp", 60_000);
    const theirs = { announce: [] as number[], withdraw: [] as number[] };
    for (let k = 0; k < candidates.length; k++) {
      const prefix = `10.99.${k >> 8}.${k & 255}/32`;
      let t0 = wallNow();
      let cli = gobgp.addRoute(prefix, "192.0.2.1");
      theirs.announce.push((await until(control, prefix, true, "gobgp")) - t0);
      await cli;
      await sleep(10);
      t0 = wallNow();
      cli = gobgp.deleteRoute(prefix);
      theirs.withdraw.push((await until(control, prefix, false, "gobgp")) - t0);
      await cli;
      await sleep(10);
    }

    const d = (xs: number[]): Distribution => distribution(xs);
    const all = { svcbgp: { announce: d(ours.announce), withdraw: d(ours.withdraw), both: d([...ours.announce, ...ours.withdraw]) }, gobgp: { announce: d(theirs.announce), withdraw: d(theirs.withdraw), both: d([...theirs.announce, ...theirs.withdraw]) } };
    const apiToWatcher = distribution(watcherStats.endToEndMs as number[]);
    ctx.log(`svcbgp: announce p50 ${all.svcbgp.announce.p50.toFixed(1)} / p99 ${all.svcbgp.announce.p99.toFixed(1)} ms, withdraw p50 ${all.svcbgp.withdraw.p50.toFixed(1)} / p99 ${all.svcbgp.withdraw.p99.toFixed(1)} ms`);
    ctx.log(`gobgp CLI: announce p50 ${all.gobgp.announce.p50.toFixed(1)} / p99 ${all.gobgp.announce.p99.toFixed(1)} ms, withdraw p50 ${all.gobgp.withdraw.p50.toFixed(1)} / p99 ${all.gobgp.withdraw.p99.toFixed(1)} ms`);
    const row = (metric: string, ours: number, theirs: number, target?: boolean) => ({
      metric,
      unit: "ms",
      svcbgp: round(ours, 1),
      references: { "gobgp global rib add/del": round(theirs, 1) },
      ...(target ? { target: "≤ reference", met: ours <= theirs } : {}),
    });
    return {
      title: `Convergence: EndpointSlice change → route at the ToR (${size.services.toLocaleString("en")} Services, ${candidates.length} changes each way)`,
      figures: { size, changes: candidates.length, nodeRoutes: intent.length, samples: { svcbgp: ours, gobgp: theirs }, distributions: all, apiToWatcherApply: apiToWatcher },
      summary: [
        row("all changes p50", all.svcbgp.both.p50, all.gobgp.both.p50),
        row("all changes p99", all.svcbgp.both.p99, all.gobgp.both.p99, true),
        row("route present p50", all.svcbgp.announce.p50, all.gobgp.announce.p50),
        row("route present p99", all.svcbgp.announce.p99, all.gobgp.announce.p99),
        row("route absent p50", all.svcbgp.withdraw.p50, all.gobgp.withdraw.p50),
        row("route absent p99", all.svcbgp.withdraw.p99, all.gobgp.withdraw.p99),
      ],
      notes: [
        "svcbgp: API server write → watcher (informers, engine, hub, gRPC) → svcbgp-speaker (node-0) → iBGP → BIRD; reference: `gobgp global rib add/del` (CLI start-up included) → gobgpd → iBGP → the same BIRD",
        `ToR table = BIRD master4 polled over its control socket (~1 ms); loopback, not the namespace lab, so no kernel FIB step for either`,
        `of which API write → watcher's intents updated: p50 ${round(apiToWatcher.p50, 2)} ms, p99 ${round(apiToWatcher.p99, 2)} ms; node-0 advertises ${intent.length} routes`,
      ],
    };
  } finally {
    control.close();
    await gobgp?.stop();
    await speaker?.stop();
    await watcher?.stop();
    await server.close();
    rmSync(cluster.dir, { recursive: true, force: true });
    await bird.stop();
  }
};
