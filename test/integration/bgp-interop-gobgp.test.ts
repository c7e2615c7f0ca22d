/**
 * libs/bgp against a real gobgpd on loopback. GoBGP drops received routes
 * whose next hop is in 127.0.0.0/8, so routes toward it carry an explicit
 * documentation-range next hop.
 */
import { describe, expect, it } from "vitest";
import { createBgpSession, type BgpSession, type SessionOptions } from "@svcbgp/bgp";
import { cleanupAfterEach } from "../support/cleanups.js";
import { labAvailable } from "../support/requirements.js";
import { Gobgp, type GobgpNeighbor } from "../support/gobgp.js";
import { loopbackAddress, unprivilegedPort } from "../support/loopback.js";
import { eventually, waitFor } from "../support/wait.js";

const run = labAvailable("BGP interop with GoBGP", { gobgp: true });
const NEXT_HOP = "192.0.2.10";

const cleanups = cleanupAfterEach();

async function setUp(o: { ourAsn: number; peerAsn: number; neighbor?: Partial<GobgpNeighbor>; session?: Partial<SessionOptions> }): Promise<{ gobgp: Gobgp; session: BgpSession; ourAddress: string }> {
  const gobgpAddress = loopbackAddress();
  const ourAddress = loopbackAddress();
  const port = unprivilegedPort();
  const gobgp = await Gobgp.start({
    asn: o.peerAsn,
    routerId: gobgpAddress,
    listenAddress: gobgpAddress,
    listenPort: port,
    neighbors: [{ address: ourAddress, asn: o.ourAsn, localAddress: gobgpAddress, passive: true, ...o.neighbor }],
  });
  cleanups.push(() => gobgp.stop());
  const session = createBgpSession({
    peerAddress: gobgpAddress,
    peerPort: port,
    peerAsn: o.peerAsn,
    localAsn: o.ourAsn,
    routerId: ourAddress,
    localAddress: ourAddress,
    connectRetryTime: 1,
    ...o.session,
  });
  cleanups.push(() => session.stop("admin-shutdown"));
  session.start();
  await waitFor(() => session.status().state === "Established", 30_000, "session Established with gobgpd");
  await gobgp.waitEstablished(ourAddress);
  return { gobgp, session, ourAddress };
}

describe.runIf(run)("interop with GoBGP", () => {
  it("iBGP: communities, large communities and local-pref arrive; withdraw removes", async () => {
    const { gobgp, session } = await setUp({ ourAsn: 64512, peerAsn: 64512 });
    session.updateRoutes([{ prefix: "10.49.0.0/16", nextHop: NEXT_HOP, communities: ["64512:100"], largeCommunities: ["64512:7:8"], localPref: 150 }], []);
    await eventually(async () => {
      const [path] = await gobgp.rib();
      expect(path).toMatchObject({ prefix: "10.49.0.0/16", nextHop: NEXT_HOP, asPath: [], localPref: 150, largeCommunities: ["64512:7:8"] });
      expect(path.communities).toEqual([64512 * 65536 + 100]);
    });
    session.updateRoutes([], ["10.49.0.0/16"]);
    await eventually(async () => expect(await gobgp.rib()).toEqual([]));
  });

  it("eBGP with 4-octet ASNs prepends our AS", async () => {
    const { gobgp, session } = await setUp({ ourAsn: 4_200_000_010, peerAsn: 65010 });
    session.updateRoutes([{ prefix: "192.168.3.0/24", nextHop: NEXT_HOP }], []);
    await eventually(async () => expect((await gobgp.rib())[0]).toMatchObject({ prefix: "192.168.3.0/24", asPath: [4_200_000_010] }));
  });

  it("announces and withdraws 10,000 prefixes", async () => {
    const { gobgp, session } = await setUp({ ourAsn: 64512, peerAsn: 64512 });
    const routes = Array.from({ length: 10_000 }, (_, i) => ({ prefix: `10.${200 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`, nextHop: NEXT_HOP }));
    session.updateRoutes(routes, []);
    await waitFor(async () => (await gobgp.rib()).length === 10_000, 60_000, "10,000 routes at gobgpd");
    expect(new Set((await gobgp.rib()).map((p) => p.prefix))).toEqual(new Set(routes.map((r) => r.prefix)));
    session.updateRoutes([], routes.map((r) => r.prefix));
    await waitFor(async () => (await gobgp.rib()).length === 0, 60_000, "all withdrawn at gobgpd");
  });

  it("IPv6 unicast over MP-BGP", async () => {
    const { gobgp, session } = await setUp({
      ourAsn: 64512,
      peerAsn: 64512,
      neighbor: { families: ["ipv4-unicast", "ipv6-unicast"] },
      session: { families: ["ipv4", "ipv6"], nextHopIpv6: "2001:db8::10" },
    });
    session.updateRoutes([{ prefix: "fd00:49::83/128" }], []);
    await eventually(async () => expect((await gobgp.rib("ipv6")).map((p) => [p.prefix, p.nextHop])).toEqual([["fd00:49::83/128", "2001:db8::10"]]));
  });

  it("receives GoBGP's routes, and GoBGP re-sends them on our ROUTE-REFRESH", async () => {
    const { gobgp, session } = await setUp({ ourAsn: 64512, peerAsn: 64512 });
    await gobgp.addRoute("172.30.0.0/16", "192.0.2.99");
    await eventually(() => expect([...session.adjRibIn()].map((r) => [r.prefix, r.nextHop])).toEqual([["172.30.0.0/16", "192.0.2.99"]]));
    // GoBGP keeps its own Adj-RIB-In, so `softresetin` never reaches the wire; our request does.
    const before = session.status();
    session.requestRefresh();
    await eventually(() => expect(session.status().sent.routeRefreshes).toBe(before.sent.routeRefreshes + 1));
    await eventually(() => expect(session.status().received.updates).toBeGreaterThan(before.received.updates));
    expect(session.status().prefixesReceived).toBe(1);
  });

  it("reports GoBGP's NOTIFICATION and reconnects after it restarts the peer", async () => {
    const { gobgp, session, ourAddress } = await setUp({ ourAsn: 64512, peerAsn: 64512 });
    // Watched while the CLI runs: about a second after the Cease (idle hold) the session dials again, and lastError moves on.
    await Promise.all([waitFor(() => /NOTIFICATION received: Cease/.test(session.status().lastError ?? ""), 15_000, "Cease from gobgpd"), gobgp.cli("neighbor", ourAddress, "reset")]);
    await waitFor(() => session.status().state === "Established", 60_000, "session back");
  });

  it("expires the hold timer when gobgpd freezes", async () => {
    const { gobgp, session } = await setUp({ ourAsn: 64512, peerAsn: 64512, neighbor: { holdTime: 3, keepalive: 1 }, session: { holdTime: 3 } });
    expect(session.status().negotiatedHoldTime).toBe(3);
    gobgp.pause();
    try {
      await waitFor(() => session.status().state !== "Established", 20_000, "hold timer expiry");
      expect(session.status().lastError).toMatch(/Hold Timer Expired/);
    } finally {
      gobgp.resume();
    }
  });
});
