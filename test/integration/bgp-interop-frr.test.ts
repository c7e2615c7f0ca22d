/**
 * libs/bgp against a real FRR bgpd (the usual data-centre ToR) on loopback,
 * run without zebra. FRR drops received routes whose next hop is martian
 * (127.0.0.0/8 included), so routes toward it carry an explicit
 * documentation-range next hop.
 */
import { describe, expect, it } from "vitest";
import { createBgpSession, type BgpSession, type OutRoute, type SessionOptions } from "@svcbgp/bgp";
import { labAvailable } from "../support/requirements.js";
import { Frr, type FrrNeighbor, type FrrOptions } from "../support/frr.js";
import { cleanupAfterEach } from "../support/cleanups.js";
import { loopbackAddress, unprivilegedPort } from "../support/loopback.js";
import { eventually, waitFor } from "../support/wait.js";

const run = labAvailable("BGP interop with FRR", { frr: true });
const NEXT_HOP = "192.0.2.10";
const IBGP = { ourAsn: 64512, peerAsn: 64512 };
const EBGP = { ourAsn: 4_200_000_010, peerAsn: 65010 };

const cleanups = cleanupAfterEach();

interface SetUp {
  ourAsn: number;
  peerAsn: number;
  neighbor?: Partial<FrrNeighbor>;
  frr?: Partial<FrrOptions>;
  session?: Partial<SessionOptions>;
}

/** A passive bgpd at a fresh loopback address and port, and our session dialling it, both Established. */
async function setUp(o: SetUp): Promise<{ frr: Frr; session: BgpSession; ourAddress: string }> {
  const [address, ourAddress] = [loopbackAddress(), loopbackAddress()];
  const neighbors = [{ address: ourAddress, asn: o.ourAsn, ...o.neighbor }];
  const frr = await Frr.start({ asn: o.peerAsn, routerId: address, listenAddress: address, listenPort: unprivilegedPort(), neighbors, ...o.frr });
  cleanups.push(() => frr.stop());
  const session = createBgpSession(frr.sessionOptions(ourAddress, o.session));
  cleanups.push(() => session.stop("admin-shutdown"));
  session.start();
  await frr.waitEstablished(ourAddress);
  await waitFor(() => session.status().state === "Established", 30_000, "session Established with FRR");
  return { frr, session, ourAddress };
}

/** `count` host routes in 10.200.0.0/14 toward NEXT_HOP. */
function hostRoutes(count: number): OutRoute[] {
  return Array.from({ length: count }, (_, i) => ({ prefix: `10.${200 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}/32`, nextHop: NEXT_HOP }));
}

/** The prefixes in FRR's table, sorted and comma-joined: one string to wait for. */
async function prefixes(frr: Frr, family: "ipv4" | "ipv6" = "ipv4"): Promise<string> {
  return (await frr.rib(family))
    .map((p) => p.prefix)
    .sort()
    .join();
}

describe.runIf(run)("interop with FRR", () => {
  it("iBGP: next hop, local-pref, communities and large communities arrive; withdraw removes", async () => {
    const { frr, session } = await setUp(IBGP);
    session.updateRoutes([{ prefix: "10.49.0.0/16", nextHop: NEXT_HOP, communities: ["64512:100"], largeCommunities: ["64512:7:8"], localPref: 150 }], []);
    await eventually(async () =>
      expect(await frr.route("10.49.0.0/16")).toMatchObject({ nextHop: NEXT_HOP, asPath: [], localPref: 150, communities: ["64512:100"], largeCommunities: ["64512:7:8"], valid: true }),
    );
    session.updateRoutes([], ["10.49.0.0/16"]);
    await eventually(async () => expect(await frr.rib()).toEqual([]));
  });

  it("eBGP with 4-octet ASNs: our AS prepended, no LOCAL_PREF sent", async () => {
    const { frr, session, ourAddress } = await setUp(EBGP);
    session.updateRoutes([{ prefix: "192.168.3.0/24", nextHop: NEXT_HOP, localPref: 150 }], []);
    await eventually(async () => expect(await frr.route("192.168.3.0/24")).toMatchObject({ nextHop: NEXT_HOP, asPath: [EBGP.ourAsn], valid: true }));
    // FRR shows its own default (100) for an eBGP path: ours was never on the wire.
    expect((await frr.route("192.168.3.0/24"))?.localPref).not.toBe(150);
    expect(await frr.receivedRoutes(ourAddress)).toEqual(["192.168.3.0/24"]);
    session.updateRoutes([], ["192.168.3.0/24"]);
    await eventually(async () => expect(await frr.rib()).toEqual([]));
  });

  for (const [name, asns] of [
    ["iBGP", IBGP],
    ["eBGP", EBGP],
  ] as const) {
    it(`${name}: announces and withdraws 1 and 10,000 prefixes`, async () => {
      const { frr, session } = await setUp(asns);
      for (const routes of [[{ prefix: "10.50.0.0/24", nextHop: NEXT_HOP }], hostRoutes(10_000)]) {
        const want = routes.map((r) => r.prefix).sort().join();
        session.updateRoutes(routes, []);
        await waitFor(async () => (await prefixes(frr)) === want, 90_000, `${routes.length} route(s) at FRR`);
        session.updateRoutes([], routes.map((r) => r.prefix));
        await waitFor(async () => (await frr.rib()).length === 0, 90_000, "all withdrawn at FRR");
      }
    });
  }

  it("IPv6 unicast over MP-BGP with an IPv6 next hop", async () => {
    const { frr, session } = await setUp({ ...IBGP, neighbor: { ipv6: true }, session: { families: ["ipv4", "ipv6"], nextHopIpv6: "2001:db8::10" } });
    session.updateRoutes([{ prefix: "fd00:49::83/128" }], []);
    await eventually(async () => expect((await frr.rib("ipv6")).map((p) => [p.prefix, p.nextHop])).toEqual([["fd00:49::83/128", "2001:db8::10"]]));
    session.updateRoutes([], ["fd00:49::83/128"]);
    await eventually(async () => expect(await frr.rib("ipv6")).toEqual([]));
  });

  it("reports FRR's NOTIFICATION (clear bgp) and comes back", async () => {
    const { frr, session, ourAddress } = await setUp(IBGP);
    session.updateRoutes([{ prefix: "10.51.0.0/24", nextHop: NEXT_HOP }], []);
    await waitFor(async () => (await prefixes(frr)) === "10.51.0.0/24", 30_000, "route at FRR");
    await Promise.all([waitFor(() => /NOTIFICATION received: Cease/.test(session.status().lastError ?? ""), 15_000, "Cease from FRR"), frr.vtysh(`clear bgp ${ourAddress}`)]);
    await frr.waitEstablished(ourAddress, 60_000);
    await waitFor(() => session.status().state === "Established", 60_000, "session back");
    await waitFor(async () => (await prefixes(frr)) === "10.51.0.0/24", 30_000, "route re-sent to FRR");
  });

  it("graceful restart: negotiated, and FRR keeps our routes as stale when we go away without a NOTIFICATION", async () => {
    const { frr, session, ourAddress } = await setUp({ ...IBGP, frr: { gracefulRestart: true }, session: { gracefulRestart: { enabled: true, restartTime: 120 } } });
    expect(session.status().capabilities).toContain("graceful-restart");
    expect(await frr.capabilities(ourAddress)).toMatchObject({ gracefulRestart: "advertisedAndReceived" });
    session.updateRoutes([{ prefix: "10.52.0.0/24", nextHop: NEXT_HOP }], []);
    await waitFor(async () => (await prefixes(frr)) === "10.52.0.0/24", 30_000, "route at FRR");
    await session.stop("graceful-restart");
    await waitFor(async () => (await frr.neighborState(ourAddress)) !== "Established", 30_000, "FRR sees the session gone");
    await eventually(async () => expect(await frr.rib()).toMatchObject([{ prefix: "10.52.0.0/24", stale: true }]));
    expect(session.status().sent.notifications).toBe(0);
  });
});
