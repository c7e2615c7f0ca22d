/**
 * Convergence: from a Service change (an EndpointSlice update) to the route
 * present (or absent) in the ToR's kernel routing table.
 *
 * Two svcbgp paths, one after the other, with the same synthetic cluster:
 *
 * - list/watch: the test list/watch API server → watcher (startWatcher, own
 *   process: informers → engine → IntentHub → gRPC WatchIntent) →
 *   svcbgp-speaker for node-0 (its real main, own process) → iBGP → the ToR,
 *   a BIRD on loopback. A change is one `update` on the API server.
 * - manifests: the same cluster as YAML files (lib/manifests.ts: one file per
 *   Service + EndpointSlice, cluster.yaml for Nodes, BGPConfiguration and
 *   BGPPeer) → the real `svcbgp-watcher --manifests DIR` (its main, bundled)
 *   → a second svcbgp-speaker → iBGP → the same BIRD. A change rewrites one
 *   Service's file (temporary file + rename), timed from just before the write.
 *
 * Each change adds (then removes) a node-0 endpoint to an eTP-Local Service,
 * so node-0 starts (stops) advertising its cluster IP /32.
 *
 * Reference, same run, same ToR: gobgpd peering with that BIRD, the route
 * injected with `gobgp global rib add` (and removed with `del`), timed from
 * starting the CLI (its start-up included, as in the issue's reference).
 *
 * "The ToR's table": as root, a dedicated kernel routing table (no `ip rule`
 * uses it, so no traffic does) that the ToR BIRD's `protocol kernel` exports
 * its BGP routes into, followed with `ip monitor` (lib/kernel-table.ts).
 * Otherwise BIRD's master4, polled over its control socket (~1 ms), and the
 * notes say the kernel step is missing.
 */
import { rmSync } from "node:fs";
import { Bird } from "../support/bird.js";
import { Gobgp } from "../support/gobgp.js";
import { loopbackAddress } from "../support/loopback.js";
import { sleep, waitFor } from "../support/wait.js";
import { BirdControl } from "./lib/bird-control.js";
import { bundleEntry } from "./lib/build.js";
import { ipOf, isLocal, makePeer, makeSlice, type ClusterSize } from "./lib/cluster.js";
import { endpoint, type Endpoint } from "./lib/daemons.js";
import { KernelTable, kernelTableUnusable } from "./lib/kernel-table.js";
import { replaceFile, serviceManifest, writeClusterManifests, type ManifestsDir } from "./lib/manifests.js";
import { BenchChild } from "./lib/proc.js";
import { distribution, round, wallNow, type Distribution } from "./lib/stats.js";
import type { Bench, BenchContext, SummaryRow } from "./lib/types.js";
import { startClusterServer } from "./watcher-scale.js";
import type { ApiObject } from "../support/kube-api-server.js";
import type { KubeObject } from "../../services/watcher/src/sources/source.js";

const SENT_AT = "bench.svcbgp.io/sent-at";
const ASN = 64512;
const REFERENCE = "gobgp global rib add/del";

/** Where a route's arrival is seen: arm before the change, then await the returned wait. */
interface Probe {
  arm(prefix: string, present: boolean, protocol: string): () => Promise<number>;
}

function birdProbe(control: BirdControl): Probe {
  return {
    arm: (prefix, present, protocol) => async () => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const start = wallNow();
        const has = await control.hasRoute(prefix, protocol);
        if (has === present) return (start + wallNow()) / 2;
        if (Date.now() > deadline) throw new Error(`${prefix} still ${present ? "absent" : "present"} at the ToR after 30 s`);
        await sleep(1);
      }
    },
  };
}

function kernelProbe(kernel: KernelTable): Probe {
  return {
    arm: (prefix, present) => {
      const arrived = kernel.until(prefix, present);
      return () => arrived;
    },
  };
}

function torConfig(tor: Endpoint, nodes: { listWatch: string; manifests: string }, gobgp: Endpoint, kernelTable: number | undefined): string {
  const common = "multihop; strict bind on; passive on; connect delay time 1; connect retry time 1; error wait time 1,2; ipv4 { import all; export none; };";
  // The kernel protocol writes the BGP routes into a table nothing looks up. Their next hops are loopback
  // addresses, which BIRD cannot resolve (it ignores lo): the routes land as `unreachable`, the same for all paths.
  const kernel = kernelTable === undefined ? "" : `protocol kernel fib { kernel table ${kernelTable}; ipv4 { import none; export where source = RTS_BGP; }; }\n`;
  return `router id ${tor.address};
protocol device {}
${kernel}protocol bgp speaker { local ${tor.address} port ${tor.port} as ${ASN}; neighbor ${nodes.listWatch} as ${ASN}; ${common} }
protocol bgp manifests { local ${tor.address} port ${tor.port} as ${ASN}; neighbor ${nodes.manifests} as ${ASN}; ${common} }
protocol bgp gobgp { local ${tor.address} port ${tor.port} as ${ASN}; neighbor ${gobgp.address} port ${gobgp.port} as ${ASN}; ${common} }
`;
}

interface Samples {
  announce: number[];
  withdraw: number[];
}

interface Directions {
  announce: Distribution;
  withdraw: Distribution;
  both: Distribution;
}

const directions = (s: Samples): Directions => ({ announce: distribution(s.announce), withdraw: distribution(s.withdraw), both: distribution([...s.announce, ...s.withdraw]) });

/**
 * Announces then withdraws each prefix in turn: `change(k, present)` makes
 * the k-th change (its promise is awaited after the route has been seen, so a
 * CLI's exit is not waited for first); the clock starts just before it.
 */
async function measure(count: number, prefixOf: (k: number) => string, protocol: string, probe: Probe, change: (k: number, present: boolean) => Promise<unknown> | void): Promise<Samples> {
  const samples: Samples = { announce: [], withdraw: [] };
  for (let k = 0; k < count; k++) {
    for (const present of [true, false]) {
      const prefix = prefixOf(k);
      const wait = probe.arm(prefix, present, protocol);
      const t0 = wallNow();
      const done = change(k, present);
      const at = await wait();
      await done;
      (present ? samples.announce : samples.withdraw).push(at - t0);
      await sleep(10);
    }
  }
  return samples;
}

/** Local Services with no endpoint on node-0: adding one makes node-0 advertise the cluster IP. */
function candidates(size: ClusterSize, count: number): number[] {
  const found: number[] = [];
  for (let i = 0; i < size.services && found.length < count; i++) {
    if (!isLocal(i)) continue;
    const slice = makeSlice(i, size) as unknown as { endpoints: Array<{ nodeName?: string }> };
    if (!slice.endpoints.some((e) => e.nodeName === "node-0")) found.push(i);
  }
  return found;
}

/** Service i's slice with an extra ready endpoint on node-0. */
function withNode0(i: number, size: ClusterSize, annotations?: Record<string, string>): KubeObject {
  const slice = makeSlice(i, size, 0, annotations) as KubeObject & { endpoints: unknown[] };
  slice.endpoints.push({ addresses: ["10.48.255.1"], conditions: { ready: true }, nodeName: "node-0" });
  return slice;
}

const clusterIpPrefix = (i: number) => `${ipOf("10.49", i)}/32`;

/** The speaker for node-0 following `watcher`; resolves once its session is up and its routes reached the ToR (and the kernel table). */
async function startSpeaker(ctx: BenchContext, label: string, watcher: string, bird: Bird, protocol: string, routes: number, kernel: KernelTable | undefined): Promise<BenchChild> {
  const speakerScript = await bundleEntry("services/speaker/src/main.ts", "speaker");
  const speaker = BenchChild.spawn(speakerScript, ["--node-name", "node-0", "--watcher", watcher, "--api-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--log-level", "warn"], {
    nodeFlags: ctx.nodeFlags(label),
  });
  try {
    await bird.waitEstablished(protocol, 60_000);
    await waitFor(async () => (await bird.routeCount({ protocol })) === routes, 120_000, `node-0's ${routes} routes at the ToR (protocol ${protocol})`);
    await kernel?.waitCount(routes, 60_000, `node-0's ${routes} routes in the kernel table`);
  } catch (err) {
    await speaker.stop();
    throw err;
  }
  return speaker;
}

export const convergence: Bench = async (ctx) => {
  const size: ClusterSize = ctx.quick ? { nodes: 50, services: 1000, endpointsPerService: 10 } : { nodes: 100, services: 10_000, endpointsPerService: 10 };
  const changes = ctx.quick ? 15 : 100;
  const picked = candidates(size, changes);
  const tor = endpoint();
  const nodeIps = { listWatch: loopbackAddress(), manifests: loopbackAddress() };
  const gobgpEnd = endpoint();
  const peer = makePeer(`${tor.address}:${tor.port}`, ASN);

  const unusable = await kernelTableUnusable();
  const kernel = unusable ? undefined : await KernelTable.acquire();
  let bird: Bird | undefined;
  let control: BirdControl | undefined;
  let cluster: Awaited<ReturnType<typeof startClusterServer>> | undefined;
  let manifests: ManifestsDir | undefined;
  let watcher: BenchChild | undefined;
  let speaker: BenchChild | undefined;
  let gobgp: Gobgp | undefined;
  const stopPath = async () => {
    await speaker?.stop();
    await watcher?.stop();
    speaker = watcher = undefined;
  };
  try {
    bird = await Bird.start(torConfig(tor, nodeIps, gobgpEnd, kernel?.table));
    control = await BirdControl.open(bird.socket);
    const probe = kernel ? kernelProbe(kernel) : birdProbe(control);
    const where = kernel ? `BIRD → kernel table ${kernel.table}` : "BIRD (master4; no kernel step)";
    if (kernel) ctx.log(`ToR table: kernel table ${kernel.table} (BIRD protocol kernel; no ip rule uses it), followed with ip monitor`);
    else ctx.log(`ToR table: BIRD master4 over its control socket — kernel step NOT included (${unusable})`);

    // 1. list/watch API server → watcher → speaker → BIRD.
    cluster = await startClusterServer(size, { nodeIps: { 0: nodeIps.listWatch }, peer });
    const { server } = cluster;
    watcher = BenchChild.spawn(await ctx.child("watcher-scale"), [`--kubeconfig=${cluster.kubeconfig}`], { nodeFlags: ctx.nodeFlags("convergence-watcher") });
    const synced = await watcher.next("synced", 300_000);
    watcher.send({ type: "intent", node: "node-0" });
    const intent = (await watcher.next("intent")).routes as string[];
    speaker = await startSpeaker(ctx, "convergence-speaker", String(synced.address), bird, "speaker", intent.length, kernel);
    const kernelRoutes = kernel ? await kernel.verify() : undefined;
    ctx.log(`list/watch: watcher synced (${size.services} Services); speaker node-0 Established with the ToR, ${intent.length} routes advertised${kernel ? `, ${kernelRoutes} in kernel table ${kernel.table} (${kernel.mode === "event" ? "ip monitor saw them all" : `polling: ${kernel.fallbackReason}`})` : ""}`);
    const listWatch = await measure(picked.length, (k) => clusterIpPrefix(picked[k]), "speaker", probe, (k, present) => {
      const i = picked[k];
      const stamp = { [SENT_AT]: String(wallNow()) };
      server.update((present ? withNode0(i, size, stamp) : makeSlice(i, size, 0, stamp)) as ApiObject);
    });
    watcher.send({ type: "stats" });
    const apiToWatcher = distribution((await watcher.next("stats")).endToEndMs as number[]);
    const lw = directions(listWatch);
    ctx.log(`list/watch: announce p50 ${lw.announce.p50.toFixed(1)} / p99 ${lw.announce.p99.toFixed(1)} ms, withdraw p50 ${lw.withdraw.p50.toFixed(1)} / p99 ${lw.withdraw.p99.toFixed(1)} ms`);
    await stopPath();
    await server.close();
    rmSync(cluster.dir, { recursive: true, force: true });
    cluster = undefined;
    // The speaker ends its session gracefully-restartable (BIRD would keep its routes as stale): shut the ToR's side.
    await bird.birdc("disable speaker");
    await waitFor(async () => (await bird!.routeCount({ protocol: "speaker" })) === 0, 30_000, "the list/watch speaker's routes gone from the ToR");
    await kernel?.waitCount(0, 30_000, "the list/watch speaker's routes gone from the kernel table");

    // 2. manifests directory → svcbgp-watcher --manifests → speaker → BIRD.
    const writeStart = performance.now();
    manifests = await writeClusterManifests(size, { nodeIps: { 0: nodeIps.manifests }, peer });
    const writeMs = performance.now() - writeStart;
    const watcherScript = await bundleEntry("services/watcher/src/main.ts", "watcher");
    const spawnAt = performance.now();
    watcher = BenchChild.spawn(watcherScript, ["--manifests", manifests.dir, "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--log-level", "info"], {
      nodeFlags: ctx.nodeFlags("convergence-manifests-watcher"),
    });
    const startedLine = watcher.nextLine((l) => l.includes('"msg":"watcher started"'), 300_000, "the watcher's start");
    const syncedLine = watcher.nextLine((l) => l.includes('"msg":"source synced; serving intents"'), 300_000, "the manifests source synced");
    const listen = String((JSON.parse(await startedLine) as { listen: string }).listen);
    const manifestsSynced = JSON.parse(await syncedLine) as { services?: number };
    const manifestsSyncMs = performance.now() - spawnAt;
    if (manifestsSynced.services !== size.services) throw new Error(`the manifests watcher synced ${manifestsSynced.services} Services, want ${size.services}`);
    speaker = await startSpeaker(ctx, "convergence-manifests-speaker", listen, bird, "manifests", intent.length, kernel);
    ctx.log(`manifests: ${manifests.files} files written in ${writeMs.toFixed(0)} ms; svcbgp-watcher --manifests up and synced in ${manifestsSyncMs.toFixed(0)} ms; speaker node-0 Established, the same ${intent.length} routes at the ToR`);
    const files = manifests;
    const fromFiles = await measure(picked.length, (k) => clusterIpPrefix(picked[k]), "manifests", probe, (k, present) => {
      const i = picked[k];
      return replaceFile(files.serviceFile(i), serviceManifest(i, size, present ? withNode0(i, size) : undefined));
    });
    const mf = directions(fromFiles);
    ctx.log(`manifests: announce p50 ${mf.announce.p50.toFixed(1)} / p99 ${mf.announce.p99.toFixed(1)} ms, withdraw p50 ${mf.withdraw.p50.toFixed(1)} / p99 ${mf.withdraw.p99.toFixed(1)} ms`);
    await stopPath();
    await bird.birdc("disable manifests");
    await waitFor(async () => (await bird!.routeCount({ protocol: "manifests" })) === 0, 30_000, "the manifests speaker's routes gone from the ToR");
    await kernel?.waitCount(0, 30_000, "the manifests speaker's routes gone from the kernel table");

    // Reference: gobgpd → the same ToR (and so the same kernel table).
    gobgp = await Gobgp.start({ asn: ASN, routerId: gobgpEnd.address, listenAddress: gobgpEnd.address, listenPort: gobgpEnd.port, neighbors: [{ address: tor.address, port: tor.port, asn: ASN, localAddress: gobgpEnd.address }] });
    await bird.waitEstablished("gobgp", 60_000);
    const gobgpd = gobgp;
    const reference = await measure(picked.length, (k) => `10.99.${k >> 8}.${k & 255}/32`, "gobgp", probe, (k, present) => {
      const prefix = `10.99.${k >> 8}.${k & 255}/32`;
      // Next hop: gobgpd's own (loopback) address, like the speaker's node IP.
      return present ? gobgpd.addRoute(prefix, gobgpEnd.address) : gobgpd.deleteRoute(prefix);
    });
    const ref = directions(reference);
    ctx.log(`gobgp CLI: announce p50 ${ref.announce.p50.toFixed(1)} / p99 ${ref.announce.p99.toFixed(1)} ms, withdraw p50 ${ref.withdraw.p50.toFixed(1)} / p99 ${ref.withdraw.p99.toFixed(1)} ms`);
    if (kernel?.mode === "poll") ctx.log(`kernel table followed by polling: ${kernel.fallbackReason}`);

    const rows = (path: string, ours: Directions): SummaryRow[] => {
      const row = (metric: string, value: number, theirs: number, target?: boolean): SummaryRow => ({
        metric: `${path}: ${metric}`,
        unit: "ms",
        svcbgp: round(value, 1),
        references: { [REFERENCE]: round(theirs, 1) },
        ...(target ? { target: "≤ reference", met: value <= theirs } : {}),
      });
      return [
        row("all changes p50", ours.both.p50, ref.both.p50),
        row("all changes p99", ours.both.p99, ref.both.p99, true),
        row("route present p50", ours.announce.p50, ref.announce.p50),
        row("route present p99", ours.announce.p99, ref.announce.p99),
        row("route absent p50", ours.withdraw.p50, ref.withdraw.p50),
        row("route absent p99", ours.withdraw.p99, ref.withdraw.p99),
      ];
    };
    const tableNote = kernel
      ? `ToR table = kernel routing table ${kernel.table} (IPv4), written by the ToR BIRD's \`protocol kernel\` (BGP routes only, as \`unreachable\` routes: BIRD cannot resolve the loopback next hops, as it ignores lo; same netlink write as a unicast route); no ip rule points at it, so it carries no traffic; ${kernel.mode === "event" ? "followed event-driven with `ip -ts -4 monitor route`, each line stamped on arrival" : `followed by polling \`ip route show table ${kernel.table} exact PREFIX\` (${kernel.fallbackReason})`}; for all three paths`
      : `ToR table = BIRD master4 polled over its control socket (~1 ms) for all three paths: the kernel FIB step is NOT included (${unusable}; run as root for the kernel table)`;
    return {
      title: `Convergence: EndpointSlice change → route in the ToR's ${kernel ? "kernel table" : "BIRD table (no kernel step)"} (${size.services.toLocaleString("en")} Services, ${picked.length} changes each way per path)`,
      figures: {
        size,
        changes: picked.length,
        nodeRoutes: intent.length,
        torTable: kernel ? { kind: "kernel", table: kernel.table, detection: kernel.mode, fallbackReason: kernel.fallbackReason } : { kind: "bird-master4", reason: unusable },
        samples: { listWatch, manifests: fromFiles, gobgp: reference },
        distributions: { listWatch: lw, manifests: mf, gobgp: ref },
        apiToWatcherApply: apiToWatcher,
        manifests: { files: manifests.files, layout: "cluster.yaml (BGPConfiguration, BGPPeer, Nodes) + services/svc-<i>.yaml (Service + EndpointSlice)", writeMs, watcherStartToSyncedMs: manifestsSyncMs },
      },
      summary: [...rows("list/watch", lw), ...rows("manifests", mf)],
      notes: [
        `list/watch: API server write → watcher (informers, engine, hub, gRPC) → svcbgp-speaker (node-0) → iBGP → ${where}; of which API write → watcher's intents updated: p50 ${round(apiToWatcher.p50, 2)} ms, p99 ${round(apiToWatcher.p99, 2)} ms`,
        `manifests: rewrite of services/svc-<i>.yaml (temp file + rename; one file per Service + EndpointSlice, ${manifests.files.toLocaleString("en")} files with cluster.yaml) → svcbgp-watcher --manifests (its real main: the source's fs.watch, debounce and re-read included) → svcbgp-speaker → iBGP → ${where}; watcher start to synced ${round(manifestsSyncMs, 0)} ms`,
        `reference: \`gobgp global rib add/del\` (CLI start-up included) → gobgpd → iBGP → the same ${where}`,
        tableNote,
        `node-0 advertises ${intent.length} routes; the paths run one after another (list/watch, manifests, reference), each change one at a time`,
      ],
    };
  } finally {
    control?.close();
    await gobgp?.stop();
    await stopPath();
    await cluster?.server.close();
    if (cluster) rmSync(cluster.dir, { recursive: true, force: true });
    if (manifests) rmSync(manifests.dir, { recursive: true, force: true });
    await bird?.stop();
    await kernel?.release();
  }
};
