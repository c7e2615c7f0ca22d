/**
 * Watcher scale: a synthetic cluster served by the test list/watch API
 * server (test/support/kube-api-server.ts) to the real watcher
 * (startWatcher: client-node informers → route engine → IntentHub → gRPC) in
 * its own process.
 *
 * - initial sync: from startWatcher to the source synced, plus materialising
 *   every node's intent (engine.intent for each node);
 * - RSS of the watcher process (VmHWM and after sync);
 * - per-event latency: Service and EndpointSlice updates, one at a time;
 *   "apply" is from the watch event reaching the watcher's sink to engine and
 *   hub having taken it (intents updated); "end to end" from the API
 *   server's write (an annotation carries the wall time) — informer HTTP
 *   stream and JSON parsing included;
 * - fan-out: N WatchIntent streams (one per node, from another process)
 *   connected; time from the API write to the last stream receiving its
 *   event, for a BGPConfiguration change (a new aggregate CIDR on every
 *   node: a one-route delta per stream) and for a Cluster-policy LoadBalancer IP
 *   appearing on every node (aggregation Disabled: a delta per stream);
 *   the watcher's CPU time (from /proc) is reported for sync and each fan-out.
 *
 * No external reference exists for this one: figures are shown against the
 * issue's targets.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { service, slice } from "../../services/watcher/src/engine/fixtures.js";
import { KubeApiServer, type ApiObject } from "../support/kube-api-server.js";
import { sleep } from "../support/wait.js";
import { clusterObjects, makeConfig, makeService, makeSlice, type ClusterOptions, type ClusterSize } from "./lib/cluster.js";
import { BenchChild, cpuSeconds, memInfo } from "./lib/proc.js";
import { distribution, round, wallNow } from "./lib/stats.js";
import type { Bench } from "./lib/types.js";

const SENT_AT = "bench.svcbgp.io/sent-at";

export async function startClusterServer(size: ClusterSize, options: ClusterOptions = {}): Promise<{ server: KubeApiServer; kubeconfig: string; dir: string }> {
  const server = await KubeApiServer.start();
  for (const object of clusterObjects(size, options)) server.create(object as ApiObject);
  const dir = mkdtempSync(join(tmpdir(), "svcbgp-bench-"));
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, server.kubeConfig().exportConfig());
  return { server, kubeconfig, dir };
}

export const watcherScale: Bench = async (ctx) => {
  const size: ClusterSize = ctx.quick ? { nodes: 500, services: 1000, endpointsPerService: 10 } : { nodes: 5000, services: 10_000, endpointsPerService: 10 };
  const events = ctx.quick ? 200 : 1000;
  const notes: string[] = [];
  const { server, kubeconfig, dir } = await startClusterServer(size);
  const watcher = BenchChild.spawn(await ctx.child("watcher-scale"), [`--kubeconfig=${kubeconfig}`], { nodeFlags: ctx.nodeFlags("watcher", ["--expose-gc"]) });
  let streams: BenchChild | undefined;
  try {
    const synced = await watcher.next("synced", 300_000);
    const initialMs = (synced.syncMs as number) + (synced.intentsMs as number);
    // CPU time of the watcher process (all threads: GC helpers included), from its start to "synced".
    const syncCpuMs = cpuSeconds(watcher.pid) * 1000;
    ctx.log(`synced ${size.nodes} nodes / ${size.services} Services / ${size.services * size.endpointsPerService} endpoints in ${(synced.syncMs as number).toFixed(0)} ms + intents ${(synced.intentsMs as number).toFixed(0)} ms (${synced.routes} routes); RSS ${(synced.rssMb as number).toFixed(0)} MB`);

    // Per-event latency, one event at a time.
    for (let k = 0; k < events; k++) {
      const i = (k * 7919) % size.services;
      const stamp = { [SENT_AT]: String(wallNow()) };
      if (k % 2 === 0) server.update(makeSlice(i, size, k + 1, stamp) as ApiObject);
      else server.update(makeService(i, { "svcbgp.io/local-pref": String(100 + (k % 50) + 1), ...stamp }) as ApiObject);
      await sleep(3);
    }
    await sleep(500);
    watcher.send({ type: "stats" });
    const stats = await watcher.next("stats");
    const apply = distribution(stats.applyMs as number[]);
    const e2e = distribution(stats.endToEndMs as number[]);
    ctx.log(`per event (n=${apply.n}): apply p50 ${apply.p50.toFixed(2)} ms p99 ${apply.p99.toFixed(2)} ms; end to end p50 ${e2e.p50.toFixed(2)} ms p99 ${e2e.p99.toFixed(2)} ms`);

    // Fan-out to one stream per node.
    let fanoutConfigMs = NaN;
    let fanoutDeltaMs = NaN;
    let fanout: Record<string, unknown> = {};
    streams = BenchChild.spawn(await ctx.child("intent-streams"), [`--target=${synced.address}`, `--nodes=${size.nodes}`, "--channels=50"], { nodeFlags: ["--max-old-space-size=4096"] });
    const connectStart = wallNow();
    const connected = await streams.next("connected", 300_000);
    const connectMs = (connected.at as number) - connectStart;
    const afterStreams = memInfo(watcher.pid);
    ctx.log(`${size.nodes} streams got their snapshots in ${connectMs.toFixed(0)} ms; watcher RSS ${afterStreams.rssMb.toFixed(0)} MB`);
    await sleep(500);

    streams.send({ type: "mark" });
    await streams.next("marked");
    let t0 = wallNow();
    let cpu0 = cpuSeconds(watcher.pid);
    server.update(makeConfig({ serviceExternalIPs: [{ cidr: "192.168.3.0/24" }] }) as ApiObject);
    const config = await streams.next("fanout", 120_000);
    fanoutConfigMs = (config.lastAt as number) - t0;
    const configCpuMs = (cpuSeconds(watcher.pid) - cpu0) * 1000;
    const configFirstMs = (config.firstAt as number) - t0;
    ctx.log(`config change → all ${size.nodes} streams: ${fanoutConfigMs.toFixed(0)} ms (first ${((config.firstAt as number) - t0).toFixed(0)} ms; ${JSON.stringify(config.kinds)}); watcher CPU ${configCpuMs.toFixed(0)} ms`);
    await sleep(500);

    // A Cluster-policy LoadBalancer IP: advertised from every node (aggregation Disabled) once it has an endpoint.
    server.create(slice("fanout-abc", "fanout", { endpoints: [{ ip: "10.48.250.1", node: "node-0", ready: true }] }) as ApiObject);
    await sleep(500);
    streams.send({ type: "mark" });
    await streams.next("marked");
    t0 = wallNow();
    cpu0 = cpuSeconds(watcher.pid);
    server.create(service("fanout", { type: "LoadBalancer", clusterIP: "10.49.250.1", loadBalancerIPs: ["10.60.250.1"], externalTrafficPolicy: "Cluster" }) as ApiObject);
    const delta = await streams.next("fanout", 120_000);
    fanoutDeltaMs = (delta.lastAt as number) - t0;
    const hostRouteCpuMs = (cpuSeconds(watcher.pid) - cpu0) * 1000;
    ctx.log(`host route on every node → all ${size.nodes} streams: ${fanoutDeltaMs.toFixed(0)} ms (first ${((delta.firstAt as number) - t0).toFixed(0)} ms; ${JSON.stringify(delta.kinds)}); watcher CPU ${hostRouteCpuMs.toFixed(0)} ms`);
    fanout = {
      streams: size.nodes,
      connectMs,
      configChange: { ms: fanoutConfigMs, firstMs: configFirstMs, cpuMs: configCpuMs, kinds: config.kinds },
      hostRoute: { ms: fanoutDeltaMs, firstMs: (delta.firstAt as number) - t0, cpuMs: hostRouteCpuMs, kinds: delta.kinds },
    };

    const peak = memInfo(watcher.pid);
    const rssTarget = 1024;
    return {
      title: `Watcher scale: ${size.nodes.toLocaleString("en")} nodes, ${size.services.toLocaleString("en")} Services (half eTP Local), ${(size.services * size.endpointsPerService).toLocaleString("en")} endpoints`,
      figures: {
        size,
        syncMs: synced.syncMs,
        intentsMs: synced.intentsMs,
        initialMs,
        syncCpuMs,
        routes: synced.routes,
        rssAfterSyncMb: synced.rssMb,
        heapAfterSyncMb: synced.heapUsedMb,
        peakRssMb: peak.peakRssMb,
        rssWithStreamsMb: afterStreams.rssMb,
        perEvent: { apply, endToEnd: e2e },
        fanout,
      },
      summary: [
        { metric: "initial sync, every intent computed", unit: "ms", svcbgp: round(initialMs, 0), references: {}, target: "≤ 5000 ms", met: initialMs <= 5000 },
        { metric: "watcher peak RSS (streams connected)", unit: "MB", svcbgp: round(peak.peakRssMb, 0), references: {}, target: `≤ ${rssTarget} MB`, met: peak.peakRssMb <= rssTarget },
        { metric: "per event: watch event → intents, p99", unit: "ms", svcbgp: round(apply.p99, 2), references: {}, target: "≤ 5 ms", met: apply.p99 <= 5 },
        { metric: "per event: API write → intents, p99", unit: "ms", svcbgp: round(e2e.p99, 2), references: {} },
        { metric: `fan-out: config change → ${size.nodes} streams`, unit: "ms", svcbgp: round(fanoutConfigMs, 0), references: {}, target: "≤ 1000 ms", met: fanoutConfigMs <= 1000 },
        { metric: `fan-out: host route → ${size.nodes} streams`, unit: "ms", svcbgp: round(fanoutDeltaMs, 0), references: {}, target: "≤ 1000 ms", met: fanoutDeltaMs <= 1000 },
      ],
      notes: [
        `watcher CPU (user + system, all threads): start to synced ${round(syncCpuMs, 0)} ms; config fan-out ${round(configCpuMs, 0)} ms; host-route fan-out ${round(hostRouteCpuMs, 0)} ms`,
        `sync ${round(synced.syncMs as number, 0)} ms (informers list + engine) + materialising ${synced.nodes} intents ${round(synced.intentsMs as number, 0)} ms (${synced.routes} routes); RSS after sync ${round(synced.rssMb as number, 0)} MB, with ${size.nodes} streams ${round(afterStreams.rssMb, 0)} MB`,
        `per event over ${apply.n} updates (EndpointSlice endpoint moves and Service annotation changes, one at a time): apply p50 ${round(apply.p50, 2)} ms, end to end p50 ${round(e2e.p50, 2)} ms`,
        `${size.nodes} WatchIntent streams over 50 gRPC channels from one client process; first snapshots took ${round(connectMs, 0)} ms`,
        "no external reference: shown against the issue's targets",
        ...notes,
      ],
    };
  } finally {
    await streams?.stop();
    await watcher.stop();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
};
