/**
 * libs/bgp against a real BIRD 2 on loopback: sessions, announcements and
 * withdrawals seen in BIRD's own table, route refresh, restarts,
 * NOTIFICATIONs and hold-timer expiry.
 */
import { describe, expect, it } from "vitest";
import { createBgpSession, type BgpSession, type OutRoute, type SessionOptions } from "@svcbgp/bgp";
import { labAvailable } from "../support/requirements.js";
import { Bird } from "../support/bird.js";
import { cleanupAfterEach } from "../support/cleanups.js";
import { loopbackAddress, unprivilegedPort } from "../support/loopback.js";
import { eventually, waitFor } from "../support/wait.js";

const run = labAvailable("BGP interop with BIRD", { bird: true });

interface Pair {
  bird: Bird;
  session: BgpSession;
  birdAddress: string;
  ourAddress: string;
}

const cleanups = cleanupAfterEach();

function birdConfig(o: {
  routerId: string;
  address: string;
  port: number;
  asn: number;
  peerAddress: string;
  peerAsn: number;
  hold?: number;
  as4?: boolean;
  ipv6?: boolean;
  exportStatic?: string[];
}): string {
  const family = o.ipv6 ? "ipv6" : "ipv4";
  const statics = o.exportStatic?.length ? `protocol static s1 { ${family}; ${o.exportStatic.map((p) => `route ${p} blackhole;`).join(" ")} }` : "";
  return `
router id ${o.routerId};
protocol device {}
${statics}
protocol bgp peer1 {
  local ${o.address} port ${o.port} as ${o.asn};
  neighbor ${o.peerAddress} as ${o.peerAsn};
  multihop; strict bind on; passive on;
  connect delay time 1; connect retry time 1; error wait time 1,2;
  hold time ${o.hold ?? 90};
  ${o.as4 === false ? "enable as4 off;" : ""}
  graceful restart on;
  ${family} { import all; export ${o.exportStatic?.length ? "where proto = \"s1\"" : "none"}; ${o.ipv6 ? "" : ""} };
}
`;
}

async function setUp(o: { ourAsn: number; birdAsn: number; hold?: number; as4?: boolean; exportStatic?: string[]; session?: Partial<SessionOptions> }): Promise<Pair> {
  const birdAddress = loopbackAddress();
  const ourAddress = loopbackAddress();
  const port = unprivilegedPort();
  const bird = await Bird.start(
    birdConfig({ routerId: birdAddress, address: birdAddress, port, asn: o.birdAsn, peerAddress: ourAddress, peerAsn: o.ourAsn, hold: o.hold, as4: o.as4, exportStatic: o.exportStatic }),
  );
  cleanups.push(() => bird.stop());
  const session = createBgpSession({
    peerAddress: birdAddress,
    peerPort: port,
    peerAsn: o.birdAsn,
    localAsn: o.ourAsn,
    routerId: ourAddress,
    localAddress: ourAddress,
    connectRetryTime: 1,
    gracefulRestart: { enabled: true, restartTime: 120 },
    ...o.session,
  });
  cleanups.push(() => session.stop("admin-shutdown"));
  session.start();
  await bird.waitEstablished("peer1");
  await waitFor(() => session.status().state === "Established", 10_000, "our session Established");
  return { bird, session, birdAddress, ourAddress };
}

function hostRoutes(count: number, base = [10, 200]): OutRoute[] {
  return Array.from({ length: count }, (_, i) => ({ prefix: `${base[0]}.${base[1] + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32` }));
}

describe.runIf(run)("interop with BIRD 2", () => {
  it("iBGP: announces with communities and local-pref, next hop self, then withdraws", async () => {
    const { bird, session, ourAddress } = await setUp({ ourAsn: 64512, birdAsn: 64512 });
    session.updateRoutes(
      [
        { prefix: "10.49.0.0/16", communities: ["64512:100", "no-export"], largeCommunities: ["64512:1:2"], localPref: 200 },
        { prefix: "10.49.62.131/32" },
      ],
      [],
    );
    await eventually(async () => expect((await bird.routes()).map((r) => r.prefix).sort()).toEqual(["10.49.0.0/16", "10.49.62.131/32"]));
    const [aggregate] = await bird.routes({ protocol: "peer1" }).then((rs) => rs.filter((r) => r.prefix === "10.49.0.0/16"));
    expect(aggregate).toMatchObject({ nextHop: ourAddress, asPath: [], localPref: 200, communities: ["64512:100", "65535:65281"], largeCommunities: ["64512:1:2"] });
    session.updateRoutes([], ["10.49.62.131/32"]);
    await eventually(async () => expect((await bird.routes()).map((r) => r.prefix)).toEqual(["10.49.0.0/16"]));
    expect(session.status()).toMatchObject({ state: "Established", prefixesSent: 1, capabilities: expect.arrayContaining(["ipv4-unicast", "4-octet-as", "route-refresh", "graceful-restart"]) });
  });

  it("eBGP with 4-octet ASNs: prepends our AS, sends no LOCAL_PREF", async () => {
    const { bird, session } = await setUp({ ourAsn: 4_200_000_001, birdAsn: 4_200_000_002 });
    session.updateRoutes([{ prefix: "192.168.3.0/24", localPref: 300 }], []);
    await eventually(async () => {
      const [route] = await bird.routes();
      expect(route).toMatchObject({ prefix: "192.168.3.0/24", asPath: [4_200_000_001] });
      expect(route.localPref).not.toBe(300);
    });
  });

  it("eBGP toward a 2-octet-only peer: encodes a 2-octet AS_PATH", async () => {
    const { bird, session } = await setUp({ ourAsn: 65001, birdAsn: 65002, as4: false });
    expect(session.status().capabilities).not.toContain("4-octet-as");
    session.updateRoutes([{ prefix: "192.168.3.0/24" }], []);
    await eventually(async () => expect((await bird.routes())[0]).toMatchObject({ prefix: "192.168.3.0/24", asPath: [65001] }));
  });

  it("announces and withdraws 10,000 prefixes: BIRD holds exactly that set", async () => {
    const { bird, session } = await setUp({ ourAsn: 64512, birdAsn: 64512 });
    const routes = hostRoutes(10_000);
    session.updateRoutes(routes, []);
    await waitFor(async () => (await bird.routeCount()) === 10_000, 60_000, "10,000 routes at BIRD");
    const held = new Set((await bird.routes()).map((r) => r.prefix));
    expect(held).toEqual(new Set(routes.map((r) => r.prefix)));
    const sent = session.status().sent.updates;
    expect(sent).toBeLessThan(100);
    session.updateRoutes([], routes.map((r) => r.prefix));
    await waitFor(async () => (await bird.routeCount()) === 0, 60_000, "all withdrawn at BIRD");
  });

  it("receives BIRD's routes into Adj-RIB-In", async () => {
    const { session } = await setUp({ ourAsn: 64512, birdAsn: 64512, exportStatic: ["172.20.0.0/16", "172.21.1.0/24"] });
    await eventually(() => expect([...session.adjRibIn()].map((r) => r.prefix)).toEqual(["172.20.0.0/16", "172.21.1.0/24"]));
    expect(session.status().prefixesReceived).toBe(2);
  });

  it("answers a ROUTE-REFRESH with the whole table", async () => {
    const { bird, session } = await setUp({ ourAsn: 64512, birdAsn: 64512 });
    session.updateRoutes([{ prefix: "10.49.0.0/16" }], []);
    await eventually(async () => expect(await bird.routeCount()).toBe(1));
    const before = session.status();
    await bird.birdc("reload in peer1");
    await eventually(() => expect(session.status().received.routeRefreshes).toBe(before.received.routeRefreshes + 1));
    await eventually(() => expect(session.status().sent.updates).toBeGreaterThan(before.sent.updates));
    expect(await bird.routeCount()).toBe(1);
  });

  it("reconnects after the peer restarts and re-advertises", async () => {
    const { bird, session } = await setUp({ ourAsn: 64512, birdAsn: 64512 });
    session.updateRoutes([{ prefix: "10.49.0.0/16" }], []);
    await eventually(async () => expect(await bird.routeCount()).toBe(1));
    // Watched while birdc runs: our session is back within about a second (idle hold), which birdc's exit may take to be seen.
    await Promise.all([waitFor(() => session.status().state !== "Established", 15_000, "session to drop"), bird.birdc("restart peer1")]);
    await bird.waitEstablished("peer1");
    await eventually(async () => expect(await bird.routeCount()).toBe(1), 15_000);
    expect(session.status().state).toBe("Established");
  });

  it("reports the peer's NOTIFICATION (Cease) and comes back when the peer does", async () => {
    const { bird, session } = await setUp({ ourAsn: 64512, birdAsn: 64512 });
    // The status is taken as the session goes down: about a second later (idle hold) it dials again, and the refused dial replaces lastError.
    const [down] = await Promise.all([
      waitFor(() => {
        const status = session.status();
        return status.state !== "Established" ? status : undefined;
      }, 15_000, "session down"),
      bird.birdc("disable peer1"),
    ]);
    expect(down.lastError).toMatch(/NOTIFICATION received: Cease/);
    await bird.birdc("enable peer1");
    await waitFor(() => session.status().state === "Established", 30_000, "session back");
  });

  it("expires the hold timer when the peer freezes", async () => {
    const { bird, session } = await setUp({ ourAsn: 64512, birdAsn: 64512, hold: 3, session: { holdTime: 3 } });
    expect(session.status().negotiatedHoldTime).toBe(3);
    bird.pause();
    try {
      await waitFor(() => session.status().state !== "Established", 20_000, "hold timer expiry");
      expect(session.status().lastError).toMatch(/Hold Timer Expired/);
    } finally {
      bird.resume();
    }
  });

  it("IPv6 over an IPv6 session on ::1: the /128 and the aggregate arrive with our global next hop", async () => {
    const port = unprivilegedPort();
    const ourPort = unprivilegedPort();
    const bird = await Bird.start(`
router id 127.0.0.1;
protocol device {}
protocol bgp peer1 {
  local ::1 port ${port} as 64512;
  neighbor ::1 port ${ourPort} as 64512;
  multihop; strict bind on; passive on;
  connect delay time 1; connect retry time 1; error wait time 1,2;
  ipv6 { import all; export none; };
}
`);
    cleanups.push(() => bird.stop());
    const session = createBgpSession({ peerAddress: "::1", peerPort: port, peerAsn: 64512, localAsn: 64512, routerId: "127.0.0.2", localAddress: "::1", connectRetryTime: 1 });
    cleanups.push(() => session.stop("admin-shutdown"));
    session.start();
    await bird.waitEstablished("peer1");
    session.updateRoutes([{ prefix: "fd00:49::/64" }, { prefix: "fd00:49::83/128" }, { prefix: "10.49.0.0/16" }], []);
    await eventually(async () => {
      const routes = await bird.routes({ table: "master6" });
      expect(routes.map((r) => r.prefix).sort()).toEqual(["fd00:49::/64", "fd00:49::83/128"]);
      expect(routes[0].nextHop).toBe("::1");
    });
    expect(session.status().capabilities).toEqual(expect.arrayContaining(["ipv6-unicast"]));
    expect(session.status().prefixesSent).toBe(2);
  });

  it("IPv6 routes over an IPv4 session (MP-BGP) use the configured IPv6 next hop", async () => {
    const birdAddress = loopbackAddress();
    const ourAddress = loopbackAddress();
    const port = unprivilegedPort();
    const bird = await Bird.start(`
router id ${birdAddress};
protocol device {}
protocol bgp peer1 {
  local ${birdAddress} port ${port} as 64512;
  neighbor ${ourAddress} as 64512;
  multihop; strict bind on; passive on;
  connect delay time 1; connect retry time 1; error wait time 1,2;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}
`);
    cleanups.push(() => bird.stop());
    const session = createBgpSession({
      peerAddress: birdAddress,
      peerPort: port,
      peerAsn: 64512,
      localAsn: 64512,
      routerId: ourAddress,
      localAddress: ourAddress,
      nextHopIpv6: "fd00:1::10",
      connectRetryTime: 1,
    });
    cleanups.push(() => session.stop("admin-shutdown"));
    session.start();
    await bird.waitEstablished("peer1");
    session.updateRoutes([{ prefix: "10.49.0.0/16" }, { prefix: "fd00:49::83/128" }], []);
    await eventually(async () => {
      expect((await bird.routes()).map((r) => r.prefix)).toEqual(["10.49.0.0/16"]);
      const v6 = await bird.routes({ table: "master6" });
      expect(v6.map((r) => [r.prefix, r.nextHop])).toEqual([["fd00:49::83/128", "fd00:1::10"]]);
    });
  });

  it("graceful-restart stop closes without NOTIFICATION: BIRD keeps our routes as stale", async () => {
    const { bird, session } = await setUp({ ourAsn: 64512, birdAsn: 64512 });
    session.updateRoutes([{ prefix: "10.49.0.0/16" }], []);
    await eventually(async () => expect(await bird.routeCount()).toBe(1));
    await session.stop("graceful-restart");
    await eventually(async () => expect((await bird.protocol("peer1")).info).not.toMatch(/^Established/));
    expect(await bird.routeCount()).toBe(1);
  });
});
