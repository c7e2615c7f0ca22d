/**
 * The seed scenario as assertions: svcbgp's watcher (manifests source) and
 * three speakers in network namespaces, peering with a BIRD ToR. Same steps
 * and manifests as `npm run demo` (test/lab/seed-steps.ts), plus what the
 * seed only promises: endpoints moving, speaker and watcher restarts, dual
 * stack, and svcbgpctl against the running lab.
 *
 * No timing assertions: every check polls with generous timeouts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODES, SEED, servicesBuilt, TOR } from "../lab/lab.js";
import { listNamespaces } from "../lab/netns.js";
import { comparable, expectedTorRoutes, nodeIp, SeedLab } from "../lab/seed-lab.js";
import { SeedManifests, type Manifest, type SeedStep } from "../lab/seed-steps.js";
import { labAvailable } from "../support/requirements.js";
import { eventually, waitFor } from "../support/wait.js";

const available = labAvailable("seed lab", { bird: true, netns: true });
const built = servicesBuilt();
if (available && !built) {
  const why = "seed lab: services/{watcher,speaker,ctl}/dist/main.js missing; run npm run build";
  if (process.env.SVCBGP_REQUIRE_LAB === "1") throw new Error(`SVCBGP_REQUIRE_LAB=1 but ${why}`);
  console.warn(`SKIP ${why}`);
}
const run = available && built;
const T = 90_000;
/**
 * Per-test limit. A test chains several polls of up to T each (sessions, then
 * routes, then curls); vitest's default 60 s would cut that chain short of the
 * polls' own deadlines on a slow machine, and leave its loops running into the
 * next test.
 */
const TEST_TIMEOUT = 4 * T;

function labNamespaces(seed: SeedLab): string[] {
  const ns = seed.lab.ns;
  return [ns.bridge, ns.tor, ns.client, ns.watcher, ...Object.values(ns.nodes)];
}

async function stopAndCheckCleanup(seed: SeedLab | undefined): Promise<void> {
  if (!seed) return;
  const names = labNamespaces(seed);
  await seed.stop();
  expect((await listNamespaces()).filter((n) => names.includes(n))).toEqual([]);
}

/** Runs a test body; on failure, appends the lab's process logs to the error. */
async function withLogs(seed: SeedLab, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    (err as Error).message += `\n--- lab logs ---\n${seed.lab.logs(60)}`;
    throw err;
  }
}

describe.skipIf(!run)("the seed scenario on a BIRD ToR (IPv4)", { timeout: TEST_TIMEOUT }, () => {
  let manifests: SeedManifests;
  let steps: SeedStep[];
  let seed: SeedLab;
  const all = NODES.map((n) => n.name);

  beforeAll(async () => {
    manifests = SeedManifests.load();
    steps = manifests.steps();
    seed = await SeedLab.start(steps[0].manifests);
  });

  afterAll(async () => {
    await stopAndCheckCleanup(seed);
  });

  async function curlsFrom(ip: string, n: number): Promise<string[]> {
    const bodies: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await seed.lab.curlFromClient(ip, 5000);
      expect(res, `curl ${ip}: ${res.error}`).toMatchObject({ ok: true });
      bodies.push(res.body);
    }
    return bodies;
  }

  async function applyStep(n: number): Promise<SeedStep> {
    const step = steps[n - 1];
    seed.apply(step.manifests);
    await seed.waitForRoutes(step.expect.routes, T);
    return step;
  }

  it("step 1: every speaker peers with the ToR (dynamic iBGP neighbors), nothing advertised yet", () =>
    withLogs(seed, async () => {
      await seed.waitForSessions(NODES.length, T);
      expect(await seed.torRoutes()).toEqual([]);
    }));

  it("step 2: the ToR has 10.49.0.0/16 with exactly the three nodes as next hops", () =>
    withLogs(seed, async () => {
      await applyStep(2);
      expect(await seed.torRoutes()).toEqual([{ prefix: SEED.clusterCidr, nexthops: NODES.map((n) => n.ip) }]);
      expect(await seed.lab.torIpRoute()).toMatch(/^10\.49\.0\.0\/16 proto bird metric 32 *\n(\s+nexthop via 192\.168\.1\.1[012] dev eth0 weight 1 *\n?){3}$/m);
    }));

  it("step 3: curl to the cluster IP from outside the cluster works, through every node", () =>
    withLogs(seed, async () => {
      await applyStep(3);
      const answers = new Set(await curlsFrom(SEED.clusterIP, 30));
      for (const a of answers) expect(all).toContain(a);
      expect(answers.size).toBeGreaterThan(1);
    }));

  it("step 4: externalTrafficPolicy Local adds 10.49.62.131/32 via exactly the endpoint nodes", () =>
    withLogs(seed, async () => {
      const step = await applyStep(4);
      const local = manifests.endpointNodes;
      expect(local.length).toBeGreaterThan(0);
      expect(local.length).toBeLessThan(NODES.length);
      expect(await seed.torRoutes()).toEqual(expectedTorRoutes(step.expect.routes));
      // The /32 wins over the /16: only nodes running nginx answer.
      for (const body of await curlsFrom(SEED.clusterIP, 20)) expect(local).toContain(body);
    }));

  it("svcbgpctl: peers shows Established to the ToR on every speaker", () =>
    withLogs(seed, async () => {
      for (const n of NODES) {
        await eventually(async () => {
          const peers = JSON.parse(await seed.lab.ctl(n.name, ["-o", "json", "peers"])) as Array<{ address: string; state: string }>;
          const tor = peers.find((p) => p.address === TOR.ip);
          expect(tor, JSON.stringify(peers)).toBeDefined();
          expect(tor?.state).toBe("SESSION_STATE_ESTABLISHED");
        }, 30_000, 500);
        // The table form says so too.
        expect(await seed.lab.ctl(n.name, ["peers"])).toMatch(/Established/i);
      }
    }));

  it("svcbgpctl: routes --node (from the watcher) matches the ToR's view of each node", () =>
    withLogs(seed, async () => {
      const tor = await seed.torRoutes();
      for (const n of NODES) {
        const routes = JSON.parse(await seed.lab.ctl(n.name, ["-o", "json", "routes", "--node", n.name])) as Array<{ prefix: string }>;
        const fromWatcher = routes.map((r) => r.prefix).sort();
        const atTor = tor.filter((r) => r.nexthops.includes(n.ip)).map((r) => r.prefix).sort();
        expect(fromWatcher, `node ${n.name}`).toEqual(atTor);
      }
    }));

  it("beyond the seed: an endpoint moving to another node moves the /32", () =>
    withLogs(seed, async () => {
      const step4 = steps[3];
      const local = manifests.endpointNodes;
      const from = local[0];
      const to = all.find((n) => !local.includes(n))!;
      const moved: Manifest[] = step4.manifests.map((m) => (m.kind === "EndpointSlice" ? manifests.slicesMoved(from, to).find((s) => s.metadata.name === m.metadata.name)! : m));
      seed.apply(moved);
      const nowLocal = [...local.filter((n) => n !== from), to].sort();
      await seed.waitForRoutes(
        [
          { prefix: SEED.clusterCidr, nodes: all },
          { prefix: `${SEED.clusterIP}/32`, nodes: nowLocal },
        ],
        T,
      );
      for (const body of await curlsFrom(SEED.clusterIP, 10)) expect(nowLocal).toContain(body);
      // And back.
      await applyStep(4);
    }));

  let restartSamples: string[][] = [];
  let restartedNode = "";

  it("beyond the seed: a speaker restart (SIGTERM, then start) causes zero failed curls from the client", () =>
    withLogs(seed, async () => {
      restartedNode = manifests.endpointNodes[0];
      const sampler = seed.lab.startRouteSampler(`${SEED.clusterIP}/32`, 50);
      const curls = seed.lab.startCurlLoop(SEED.clusterIP, 100, 3000);
      try {
        await waitFor(() => curls.peek().length >= 5, 30_000, "curls before the restart", 50);
        await seed.lab.stopSpeaker(restartedNode, "SIGTERM");
        await seed.lab.startSpeaker(restartedNode);
        await seed.waitForSessions(NODES.length, T);
        await seed.waitForRoutes(steps[3].expect.routes, T);
        // The stale routes kept through the restart already match step 4: wait for the
        // new session's End-of-RIB, so the restart is over before the next test reads
        // BIRD's route stamps.
        await seed.waitForRestartDone(restartedNode, T);
        // Keep curling a little after convergence.
        const n = curls.peek().length;
        await waitFor(() => curls.peek().length >= n + 10, 30_000, "curls after the restart", 50);
      } finally {
        restartSamples = await sampler.stop();
        const results = await curls.stop();
        const failed = results.filter((r) => !r.ok);
        // At least 5 before the restart and 10 after it.
        expect(results.length).toBeGreaterThanOrEqual(15);
        expect(failed, `${failed.length} of ${results.length} curls failed`).toEqual([]);
      }
    }));

  it("beyond the seed: with graceful restart the ToR kept the restarting node's next hop throughout", () => {
    expect(restartedNode).not.toBe("");
    expect(restartSamples.length).toBeGreaterThan(0);
    const ip = nodeIp(restartedNode);
    const without = restartSamples.filter((s) => !s.includes(ip));
    expect(without, `${without.length} of ${restartSamples.length} samples of the /32 lacked ${ip}`).toEqual([]);
  });

  it("beyond the seed: a watcher restart withdraws nothing at the ToR (BIRD's route ages unchanged)", () =>
    withLogs(seed, async () => {
      const before = await seed.lab.torBirdRoutes();
      expect(before.length).toBeGreaterThan(0);
      const sampler = seed.lab.startRouteSampler(SEED.clusterCidr, 50);
      let samples: string[][] = [];
      try {
        await seed.lab.stopWatcher("SIGTERM");
        await seed.lab.startWatcher(seed.manifestsDir);
        // Prove the speakers are following the new watcher: a new Service with a
        // local endpoint on node-1 gets its /32 at the ToR.
        const probe = probeService(manifests, "10.49.0.99", "node-1");
        seed.apply([...steps[3].manifests, ...probe]);
        await seed.waitForRoutes([...steps[3].expect.routes, { prefix: "10.49.0.99/32", nodes: ["node-1"] }], T);
      } finally {
        samples = await sampler.stop();
      }
      expect(samples.filter((s) => s.length !== NODES.length)).toEqual([]);
      const after = await seed.lab.torBirdRoutes();
      // BIRD shows route ages from its monotonic clock plus a wall-clock offset it
      // re-reads once per loop iteration, so an untouched route's stamp moves by
      // however long BIRD ran (or was preempted) between the two clock reads:
      // a millisecond on a quiet machine, more on a loaded one. A replaced route
      // would be stamped after the watcher stopped and a new one started, well
      // over a second later: the last route change (the speaker restart's) was
      // followed by 10 curls at least 100 ms apart, and the watcher takes most of
      // a second to start.
      const key = (r: { prefix: string; protocol: string; nextHop?: string }) => `${r.prefix} ${r.nextHop} ${r.protocol}`;
      const kept = after.filter((r) => r.prefix !== "10.49.0.99/32");
      expect(kept.map(key).sort()).toEqual(before.map(key).sort());
      for (const r of kept) {
        const was = before.find((b) => key(b) === key(r));
        expect(stampDistanceMs(r.since, was!.since), `${key(r)}: since ${was!.since} → ${r.since}`).toBeLessThan(STAMP_JITTER_MS);
      }
      seed.apply(steps[3].manifests);
      await seed.waitForRoutes(steps[3].expect.routes, T);
    }));

  it("step 5: switching to serviceExternalIPs withdraws 10.49.0.0/16 and the /32 and adds 192.168.3.0/24; the cluster IP times out", () =>
    withLogs(seed, async () => {
      await applyStep(5);
      expect(await seed.torRoutes()).toEqual([{ prefix: SEED.externalCidr, nexthops: NODES.map((n) => n.ip) }]);
      const res = await seed.lab.curlFromClient(SEED.clusterIP, 3000);
      expect(res.ok).toBe(false);
      expect(res.exitCode, res.error).toBe(28);
    }));

  it("step 6: externalIPs [192.168.3.180] makes curl 192.168.3.180 work (eTP Local: via the endpoint nodes)", () =>
    withLogs(seed, async () => {
      const step = await applyStep(6);
      expect(await seed.torRoutes()).toEqual(expectedTorRoutes(step.expect.routes));
      for (const body of await curlsFrom(SEED.externalIP, 10)) expect(manifests.endpointNodes).toContain(body);
      expect((await seed.lab.curlFromClient(SEED.clusterIP, 2000)).exitCode).toBe(28);
    }));
});

/** Well above BIRD's stamp jitter, well below how much later a replaced route is stamped (see the watcher restart test). */
const STAMP_JITTER_MS = 500;

/** Distance between two BIRD "HH:MM:SS.mmm" stamps, across midnight too. */
function stampDistanceMs(a: string, b: string): number {
  const ms = (t: string) => {
    const [h, m, s] = t.split(" ").pop()!.split(":").map(Number);
    return ((h * 60 + m) * 60 + s) * 1000;
  };
  const day = 86_400_000;
  const d = Math.abs(ms(a) - ms(b)) % day;
  return Math.min(d, day - d);
}

/** A second eTP Local Service with one endpoint on `node`, for proving the speakers follow the watcher. */
function probeService(m: SeedManifests, clusterIP: string, node: string): Manifest[] {
  const ns = m.service.metadata.namespace ?? "default";
  return [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "probe", namespace: ns },
      spec: { type: "NodePort", externalTrafficPolicy: "Local", clusterIP, clusterIPs: [clusterIP], ports: [{ port: 80, protocol: "TCP" }] },
    },
    {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "probe-1", namespace: ns, labels: { "kubernetes.io/service-name": "probe" } },
      addressType: "IPv4",
      ports: [{ port: 80, protocol: "TCP" }],
      endpoints: [{ addresses: ["10.48.9.9"], nodeName: node, conditions: { ready: true } }],
    },
  ];
}

describe.skipIf(!run)("the seed scenario, dual stack", { timeout: TEST_TIMEOUT }, () => {
  let manifests: SeedManifests;
  let seed: SeedLab;

  beforeAll(async () => {
    manifests = SeedManifests.load();
    seed = await SeedLab.start(manifests.dualStack(), { ipv6: true });
  });

  afterAll(async () => {
    await stopAndCheckCleanup(seed);
  });

  it("the ToR's IPv6 table has the cluster range with ECMP and the /128 via the endpoint nodes; curl over IPv6 works", () =>
    withLogs(seed, async () => {
      const local = manifests.endpointNodes;
      const all = NODES.map((n) => n.name);
      const routes = await seed.waitForRoutes(
        [
          { prefix: SEED.clusterCidr, nodes: all },
          { prefix: `${SEED.clusterIP}/32`, nodes: local },
          { prefix: SEED.clusterCidr6, nodes: all },
          { prefix: `${SEED.clusterIP6}/128`, nodes: local },
        ],
        T,
      );
      expect(comparable(routes).filter((r) => r.prefix.includes(":"))).toHaveLength(2);
      for (let i = 0; i < 10; i++) {
        const res = await seed.lab.curlFromClient(SEED.clusterIP6, 5000);
        expect(res, res.error).toMatchObject({ ok: true });
        expect(local).toContain(res.body);
      }
    }));
});
