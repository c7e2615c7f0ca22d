/**
 * Guards the seed lab's recipe itself, with BIRD standing in for the speakers:
 * the ToR's ECMP, host routes, withdrawal (curl times out), graceful restart
 * with dynamic neighbors, and the IPv6 side. If this fails, the seed suite's
 * failures say nothing about svcbgp.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lab, NODES, SEED } from "../lab/lab.js";
import { listNamespaces } from "../lab/netns.js";
import { labAvailable } from "../support/requirements.js";
import { eventually, waitFor } from "../support/wait.js";

const available = labAvailable("lab infrastructure (BIRD as fake speakers)", { bird: true, netns: true });
const ALL = NODES.map((n) => n.ip).sort();
const T = 60_000;
/** Per-test limit: a test chains polls of up to T each (and 30 curls); vitest's default 60 s would cut the chain short of the polls' own deadlines. */
const TEST_TIMEOUT = 3 * T;

describe.skipIf(!available)("seed lab infrastructure, IPv4 (BIRD as speakers)", { timeout: TEST_TIMEOUT }, () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await Lab.start();
  });

  afterAll(async () => {
    if (!lab) return;
    const namespaces = Object.values(lab.ns).flatMap((v) => (typeof v === "string" ? [v] : Object.values(v)));
    await lab.stop();
    const left = await listNamespaces();
    expect(left.filter((n) => namespaces.includes(n))).toEqual([]);
  });

  async function routeOf(prefix: string): Promise<string[] | undefined> {
    return (await lab.torRoutes(4)).find((r) => r.prefix === prefix)?.nexthops;
  }

  it("the ToR installs the aggregate with one next hop per node (ECMP) and curl reaches the nodes", async () => {
    for (const n of NODES) await lab.startFakeSpeaker(n.name, [SEED.clusterCidr]);
    await eventually(async () => expect(await routeOf(SEED.clusterCidr)).toEqual(ALL), T, 200);
    expect(await lab.torIpRoute()).toMatch(/10\.49\.0\.0\/16 proto bird metric 32\s*\n\s+nexthop via 192\.168\.1\.10 dev eth0 weight 1/);

    const answers = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const res = await lab.curlFromClient(SEED.clusterIP, 5000);
      expect(res, res.error).toMatchObject({ ok: true });
      answers.add(res.body);
    }
    // L4 hashing on the ToR spreads new connections over the next hops.
    expect(answers.size).toBeGreaterThan(1);
    for (const a of answers) expect(NODES.map((n) => n.name)).toContain(a);
  });

  it("a host route from two nodes has exactly their next hops", async () => {
    for (const n of NODES.slice(1)) await lab.startFakeSpeaker(n.name, [SEED.clusterCidr, `${SEED.clusterIP}/32`]);
    await eventually(async () => expect(await routeOf(`${SEED.clusterIP}/32`)).toEqual([NODES[1].ip, NODES[2].ip]), T, 200);
    expect(await routeOf(SEED.clusterCidr)).toEqual(ALL);
  });

  it("graceful restart: while a speaker is down (no NOTIFICATION), the ToR keeps its next hop", async () => {
    await eventually(async () => expect(await routeOf(SEED.clusterCidr)).toEqual(ALL), T, 200);
    await lab.stopFakeSpeaker(NODES[0].name, "SIGKILL");
    await eventually(async () => expect((await lab.torProtocols()).filter((p) => p.info.startsWith("Established")).length).toBe(2), T, 100);
    // The session is down; sample the route and curl for a while.
    const sampler = lab.startRouteSampler(SEED.clusterCidr, 50);
    const curls = lab.startCurlLoop(SEED.clusterIP, 100);
    await waitFor(() => curls.peek().length >= 20, T, "20 curls", 50);
    const [samples, results] = [await sampler.stop(), await curls.stop()];
    expect((await lab.torProtocols()).filter((p) => p.info.startsWith("Established")).length).toBe(2);
    expect(samples.length).toBeGreaterThan(0);
    const seq = samples.map((s) => s.length).join("");
    expect(samples.filter((s) => s.length !== 3), `next-hop counts sampled: ${seq}`).toEqual([]);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    // (The moment of re-establishment is not checked here: BIRD started afresh as a
    // speaker sends no forwarding-state bit, so the ToR rightly flushes its stale
    // routes before the new ones arrive. seed.test.ts checks svcbgp's restart.)
    await lab.startFakeSpeaker(NODES[0].name, [SEED.clusterCidr]);
    await eventually(async () => expect((await lab.torProtocols()).filter((p) => p.info.startsWith("Established")).length).toBe(3), T, 200);
    await eventually(async () => expect(await routeOf(SEED.clusterCidr)).toEqual(ALL), T, 200);
  });

  it("a withdrawn route makes curl time out (blackhole default on the ToR), as in the seed", async () => {
    for (const n of NODES) await lab.startFakeSpeaker(n.name, [SEED.externalCidr]);
    await eventually(async () => {
      expect(await routeOf(SEED.clusterCidr)).toBeUndefined();
      expect(await routeOf(`${SEED.clusterIP}/32`)).toBeUndefined();
      expect(await routeOf(SEED.externalCidr)).toEqual(ALL);
    }, T, 200);
    const res = await lab.curlFromClient(SEED.clusterIP, 2000);
    expect(res.ok).toBe(false);
    expect(res.exitCode).toBe(28);
    const ext = await lab.curlFromClient(SEED.externalIP, 5000);
    expect(ext, ext.error).toMatchObject({ ok: true });
  });

  it("a speaker that shuts down cleanly (Cease) is withdrawn from the ECMP set", async () => {
    await lab.stopFakeSpeaker(NODES[2].name, "SIGTERM");
    await eventually(async () => expect(await routeOf(SEED.externalCidr)).toEqual([NODES[0].ip, NODES[1].ip]), T, 200);
  });
});

describe.skipIf(!available)("seed lab infrastructure, dual stack (BIRD as speakers)", { timeout: TEST_TIMEOUT }, () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await Lab.start({ ipv6: true });
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it("the ToR's IPv6 table has the aggregate and the /128 with ECMP, and curl over IPv6 works", async () => {
    for (const n of NODES) {
      const host = n.name === "node-1" ? [] : [`${SEED.clusterIP6}/128`];
      await lab.startFakeSpeaker(n.name, [SEED.clusterCidr, SEED.clusterCidr6, ...host]);
    }
    const v6 = NODES.map((n) => n.ip6).sort();
    await eventually(async () => {
      const routes = await lab.torRoutes(6);
      expect(routes.find((r) => r.prefix === SEED.clusterCidr6)?.nexthops).toEqual(v6);
      expect(routes.find((r) => r.prefix === `${SEED.clusterIP6}/128`)?.nexthops).toEqual(v6.slice(1));
      expect((await lab.torRoutes(4)).find((r) => r.prefix === SEED.clusterCidr)?.nexthops).toEqual(ALL);
    }, T, 200);
    for (let i = 0; i < 5; i++) {
      const res = await lab.curlFromClient(SEED.clusterIP6, 5000);
      expect(res, res.error).toMatchObject({ ok: true });
      expect(["node-2", "node-3"]).toContain(res.body);
    }
  });
});
