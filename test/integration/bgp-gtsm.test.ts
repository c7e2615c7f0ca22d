/**
 * GTSM (RFC 5082, `ttlSecurity`) against real peers on loopback: BIRD 2 with
 * `ttl security on`, gobgpd with `ttl-security`. Loopback does not decrement TTLs, so what gets through
 * is decided by the TTLs themselves: a GTSM end sends with 255 and drops
 * anything below 256 - hops; a plain end sends with the default (64). Both
 * ends with GTSM reach Established (dialling, and BIRD dialling our
 * BgpListener); either end alone never does (watched for a few seconds, on
 * both sides). The speaker connects a ttlSecurity peer from its intent. Needs
 * the native addon (`npm run build` with gcc); IP_MINTTL needs no privilege.
 * Addresses from test/support/loopback.ts, unprivileged ports.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { BgpListener, createBgpSession, type BgpSession, type SessionOptions } from "@svcbgp/bgp";
import { createLogger } from "@svcbgp/telemetry";
import { labAvailable } from "../support/requirements.js";
import { Bird, birdPeering, type BirdPeering } from "../support/bird.js";
import { Gobgp } from "../support/gobgp.js";
import { loopbackAddress, unprivilegedPort } from "../support/loopback.js";
import { sleep, waitFor } from "../support/wait.js";
import { startSpeaker } from "../../services/speaker/src/speaker.js";
import { bgpSessionFactory } from "../../services/speaker/src/peers/session-factory.js";

// GTSM's socket options come from the TCP-MD5 addon (libs/bgp/native): the same requirement.
const withBird = labAvailable("GTSM with BIRD", { bird: true, tcpMd5: true });
const withGobgp = labAvailable("GTSM with GoBGP", { gobgp: true, tcpMd5: true });

const OUR_AS = 64512;
const PEER_AS = 65001;
/** Directly connected, as on a ToR link: only TTL 255 is accepted. */
const HOPS = 1;
/** How long a one-sided GTSM session is watched for never coming up: several connect retries on both sides. */
const NEVER_WAIT_MS = 5000;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

type Lab = BirdPeering & { bird: Bird };

/**
 * BIRD's side: `multihop` because loopback addresses are not on a shared
 * subnet; with `ttl security on` its hop count sets BIRD's minimum TTL
 * (256 - hops), so `multihop 1` makes BIRD as strict as HOPS = 1.
 */
function birdConfig(o: BirdPeering & { gtsm: boolean; passive: boolean }): string {
  return `
router id ${o.birdAddress};
protocol device {}
protocol bgp peer1 {
  local ${o.birdAddress} port ${o.birdPort} as ${PEER_AS};
  neighbor ${o.ourAddress} ${o.passive ? "" : `port ${o.ourPort}`} as ${OUR_AS};
  multihop ${HOPS}; strict bind on; ${o.passive ? "passive on;" : ""}
  connect delay time 1; connect retry time 1; error wait time 1,2;
  ttl security ${o.gtsm ? "on" : "off"};
  ipv4 { import all; export none; };
}
`;
}

/** A BIRD for a neighbor at a fresh loopback address; passive unless it should dial us. */
async function startBird(o: { gtsm: boolean; passive?: boolean }): Promise<Lab> {
  const addresses = birdPeering();
  const bird = await Bird.start(birdConfig({ ...addresses, gtsm: o.gtsm, passive: o.passive ?? true }));
  cleanups.push(() => bird.stop());
  return { ...addresses, bird };
}

function sessionOptions(lab: BirdPeering, extra: Partial<SessionOptions>): SessionOptions {
  return {
    peerAddress: lab.birdAddress,
    peerPort: lab.birdPort,
    peerAsn: PEER_AS,
    localAsn: OUR_AS,
    routerId: lab.ourAddress,
    localAddress: lab.ourAddress,
    connectRetryTime: 1,
    ...extra,
  };
}

function startSession(options: SessionOptions, prefix = "10.49.0.0/16"): BgpSession {
  const session = createBgpSession(options);
  cleanups.push(() => session.stop("admin-shutdown"));
  session.setRoutes([{ prefix }]);
  session.start();
  return session;
}

async function birdRoutes(bird: Bird): Promise<string> {
  return (await bird.routes({ protocol: "peer1" }))
    .map((r) => r.prefix)
    .sort()
    .join();
}

/** Diagnostics for a failed wait: BIRD's view and ours. */
async function explain(lab: Lab, session: BgpSession | undefined, err: Error): Promise<never> {
  const protocol = await lab.bird.birdc("show protocols all peer1").catch((e: Error) => e.message);
  throw new Error(`${err.message}\nBIRD: ${protocol}\nours: ${JSON.stringify(session?.status())}`);
}

/** Watches both ends for NEVER_WAIT_MS: neither may reach Established. */
async function expectNeverEstablished(lab: Lab, session: BgpSession): Promise<void> {
  const deadline = Date.now() + NEVER_WAIT_MS;
  while (Date.now() < deadline) {
    expect((await lab.bird.protocol("peer1")).info).not.toMatch(/Established/);
    expect(session.status().state).not.toBe("Established");
    await sleep(250);
  }
}

describe.runIf(withBird)("GTSM with BIRD 2", () => {
  it("(a) GTSM on both ends: our active session reaches Established and BIRD receives the route", async () => {
    const lab = await startBird({ gtsm: true });
    const session = startSession(sessionOptions(lab, { ttlSecurity: HOPS }));
    await lab.bird.waitEstablished("peer1").catch((err: Error) => explain(lab, session, err));
    await waitFor(() => session.status().state === "Established", 30_000, "our session Established").catch((err: Error) => explain(lab, session, err));
    await waitFor(async () => (await birdRoutes(lab.bird)) === "10.49.0.0/16", 30_000, "our route at BIRD");
  });

  it("(b) GTSM on our end only: BIRD's session segments (below TTL 255) are dropped, never Established", async () => {
    const lab = await startBird({ gtsm: false });
    const session = startSession(sessionOptions(lab, { ttlSecurity: HOPS }));
    // BIRD's listening socket answers SYNs with TTL 255 whatever its sessions say, so TCP may
    // connect; its OPEN then goes with its own TTL (multihop 1: TTL 1) and never reaches us.
    await expectNeverEstablished(lab, session);
    expect(session.status().received.opens).toBe(0);
  });

  it("(c) GTSM on BIRD's end only: our segments (TTL 64) are dropped, never Established", async () => {
    const lab = await startBird({ gtsm: true });
    const session = startSession(sessionOptions(lab, {}));
    await expectNeverEstablished(lab, session);
  });

  it("(d) passive: BIRD dials our listener, GTSM on both ends; the session comes up and advertises", async () => {
    const lab = await startBird({ gtsm: true, passive: false });
    const listener = new BgpListener({ host: lab.ourAddress, port: lab.ourPort });
    await listener.listen();
    cleanups.push(() => listener.close());
    const session = createBgpSession(sessionOptions(lab, { passive: true, ttlSecurity: HOPS }));
    cleanups.push(() => session.stop("admin-shutdown"));
    listener.register(session);
    // The only session is a GTSM one: the listening socket sends with TTL 255 and filters too.
    expect(listener.listenerTtlSecurity).toBe(HOPS);
    session.setRoutes([{ prefix: "10.49.62.131/32" }]);
    session.start();
    await waitFor(() => session.status().state === "Established", 30_000, "our passive session Established").catch((err: Error) => explain(lab, session, err));
    await lab.bird.waitEstablished("peer1");
    await waitFor(async () => (await birdRoutes(lab.bird)) === "10.49.62.131/32", 30_000, "our route at BIRD");
  });

  it("(d') passive without GTSM on our end: BIRD's dial never comes up (our SYN-ACK has TTL 64)", async () => {
    const lab = await startBird({ gtsm: true, passive: false });
    const listener = new BgpListener({ host: lab.ourAddress, port: lab.ourPort });
    await listener.listen();
    cleanups.push(() => listener.close());
    const session = createBgpSession(sessionOptions(lab, { passive: true }));
    cleanups.push(() => session.stop("admin-shutdown"));
    listener.register(session);
    session.start();
    await expectNeverEstablished(lab, session);
  });

  it("the speaker connects a ttlSecurity peer from its intent", async () => {
    const lab = await startBird({ gtsm: true });
    const dir = await mkdtemp(join(tmpdir(), "bgp-gtsm-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const intentFile = join(dir, "intent.yaml");
    await writeFile(
      intentFile,
      `nodeName: node-1
routerId: ${lab.ourAddress}
localAsn: ${OUR_AS}
peers:
  - address: ${lab.birdAddress}
    port: ${lab.birdPort}
    asn: ${PEER_AS}
    sourceAddress: ${lab.ourAddress}
    ttlSecurity: ${HOPS}
routes:
  - prefix: 10.49.0.0/16
`,
    );
    const sink = new PassThrough();
    sink.resume();
    const speaker = await startSpeaker(
      { nodeName: "node-1", intentFile, apiListen: "127.0.0.1:0", httpListen: "127.0.0.1:0" },
      { sessionFactory: bgpSessionFactory(), logger: createLogger({ name: "bgp-gtsm", level: "warn", destination: sink }), file: { debounceMs: 50, pollMs: 200 } },
    );
    cleanups.push(() => speaker.stop());
    await lab.bird.waitEstablished("peer1").catch((err: Error) => explain(lab, speaker.controller.peers()[0]?.session, err));
    await waitFor(async () => (await birdRoutes(lab.bird)) === "10.49.0.0/16", 30_000, "the intent's route at BIRD");
    expect(speaker.controller.peers()[0].session?.status().state).toBe("Established");
  });
});

describe.runIf(withGobgp)("GTSM with GoBGP", () => {
  it("(e) an active GTSM session interoperates with gobgpd's ttl-security (ttl-min 255); without GTSM it never comes up", async () => {
    const gobgpAddress = loopbackAddress();
    const [gtsmAddress, plainAddress] = [loopbackAddress(), loopbackAddress()];
    const port = unprivilegedPort();
    const neighbor = (address: string) => ({ address, asn: OUR_AS, localAddress: gobgpAddress, passive: true, ttlMin: 256 - HOPS });
    const gobgp = await Gobgp.start({ asn: PEER_AS, routerId: gobgpAddress, listenAddress: gobgpAddress, listenPort: port, neighbors: [neighbor(gtsmAddress), neighbor(plainAddress)] });
    cleanups.push(() => gobgp.stop());
    const start = (localAddress: string, extra: Partial<SessionOptions>) => {
      const session = createBgpSession({ peerAddress: gobgpAddress, peerPort: port, peerAsn: PEER_AS, localAsn: OUR_AS, routerId: localAddress, localAddress, connectRetryTime: 1, ...extra });
      cleanups.push(() => session.stop("admin-shutdown"));
      // GoBGP drops routes with a next hop in 127.0.0.0/8: an explicit documentation-range one.
      session.setRoutes([{ prefix: "10.49.0.0/16", nextHop: "192.0.2.10" }]);
      session.start();
      return session;
    };
    const gtsm = start(gtsmAddress, { ttlSecurity: HOPS });
    const plain = start(plainAddress, {});
    await waitFor(() => gtsm.status().state === "Established", 30_000, "GTSM session Established with gobgpd").catch((err: Error) => {
      throw new Error(`${err.message}\nours: ${JSON.stringify(gtsm.status())}`);
    });
    await gobgp.waitEstablished(gtsmAddress);
    await waitFor(async () => (await gobgp.rib()).map((p) => p.prefix).join() === "10.49.0.0/16", 30_000, "our route at gobgpd");
    const deadline = Date.now() + NEVER_WAIT_MS;
    while (Date.now() < deadline) {
      expect(plain.status().state).not.toBe("Established");
      expect(await gobgp.neighborState(plainAddress)).not.toMatch(/^(6|established|ESTABLISHED)$/);
      await sleep(250);
    }
  });
});
