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
import { describe, expect, it } from "vitest";
import { createBgpSession, type BgpSession, type SessionOptions } from "@svcbgp/bgp";
import { labAvailable } from "../support/requirements.js";
import { BirdPeerTests, birdRoutes, expectDialledUp, explain, OUR_AS, PEER_AS, PEER_PROTOCOL, sessionOptions, type BirdLab } from "../support/bird-peer.js";
import { Gobgp } from "../support/gobgp.js";
import { loopbackAddress, unprivilegedPort } from "../support/loopback.js";
import { sleep, waitFor } from "../support/wait.js";

// GTSM's socket options come from the TCP-MD5 addon (libs/bgp/native): the same requirement.
const withBird = labAvailable("GTSM with BIRD", { bird: true, tcpMd5: true });
const withGobgp = labAvailable("GTSM with GoBGP", { gobgp: true, tcpMd5: true });

/** Directly connected, as on a ToR link: only TTL 255 is accepted. */
const HOPS = 1;
/** How long a one-sided GTSM session is watched for never coming up: several connect retries on both sides. */
const NEVER_WAIT_MS = 5000;

const suite = new BirdPeerTests();
const { cleanups } = suite;

/**
 * BIRD's side: with `ttl security on` its multihop hop count sets BIRD's
 * minimum TTL (256 - hops), so `multihop 1` makes BIRD as strict as HOPS = 1.
 */
function startBird(o: { gtsm: boolean; dials?: boolean }): Promise<BirdLab> {
  return suite.startBird({ multihop: HOPS, dials: o.dials, extra: [`ttl security ${o.gtsm ? "on" : "off"};`] });
}

/**
 * Watches for NEVER_WAIT_MS: BIRD never reaches Established, nor, when
 * `ours` is given, our session. Only the GTSM end is held to it: BIRD sets
 * its minimum TTL on a connection once the handshake is done, so a plain
 * end's OPEN can slip in before and that end may see OPEN and KEEPALIVE
 * from BIRD (TTL 255) and think itself Established, while BIRD, whose
 * filter drops the plain end's KEEPALIVE, never is.
 */
async function expectNeverEstablished(lab: BirdLab, ours?: BgpSession): Promise<void> {
  const deadline = Date.now() + NEVER_WAIT_MS;
  while (Date.now() < deadline) {
    expect((await lab.bird.protocol(PEER_PROTOCOL)).info).not.toMatch(/Established/);
    if (ours) expect(ours.status().state).not.toBe("Established");
    await sleep(250);
  }
}

describe.runIf(withBird)("GTSM with BIRD 2", () => {
  it("(a) GTSM on both ends: our active session reaches Established and BIRD receives the route", async () => {
    const lab = await startBird({ gtsm: true });
    const session = suite.startSession(sessionOptions(lab, { ttlSecurity: HOPS }));
    await lab.bird.waitEstablished(PEER_PROTOCOL).catch((err: Error) => explain(lab, session, err));
    await waitFor(() => session.status().state === "Established", 30_000, "our session Established").catch((err: Error) => explain(lab, session, err));
    await waitFor(async () => (await birdRoutes(lab.bird)) === "10.49.0.0/16", 30_000, "our route at BIRD");
  });

  it("(b) GTSM on our end only: BIRD's session segments (below TTL 255) are dropped, never Established", async () => {
    const lab = await startBird({ gtsm: false });
    const session = suite.startSession(sessionOptions(lab, { ttlSecurity: HOPS }));
    // BIRD's listening socket answers SYNs with TTL 255 whatever its sessions say, so TCP may
    // connect; its OPEN then goes with its own TTL (multihop 1: TTL 1) and never reaches us.
    await expectNeverEstablished(lab, session);
    expect(session.status().received.opens).toBe(0);
  });

  it("(c) GTSM on BIRD's end only: our segments (TTL 64) are dropped, BIRD never Established", async () => {
    const lab = await startBird({ gtsm: true });
    suite.startSession(sessionOptions(lab));
    await expectNeverEstablished(lab);
  });

  it("(d) passive: BIRD dials our listener, GTSM on both ends; the session comes up and advertises", async () => {
    const lab = await startBird({ gtsm: true, dials: true });
    const listener = await suite.listen(lab);
    const session = suite.registerPassive(listener, sessionOptions(lab, { ttlSecurity: HOPS }));
    // The only session is a GTSM one: the listening socket sends with TTL 255 and filters too.
    expect(listener.listenerTtlSecurity).toBe(HOPS);
    await expectDialledUp(lab, session, ["10.49.62.131/32"]);
  });

  it("(d') passive without GTSM on our end: BIRD's dial never comes up (our segments have TTL 64)", async () => {
    const lab = await startBird({ gtsm: true, dials: true });
    const listener = await suite.listen(lab);
    const session = suite.registerPassive(listener, sessionOptions(lab));
    session.start();
    expect(listener.listenerTtlSecurity).toBe(0);
    await expectNeverEstablished(lab);
  });

  it("the speaker connects a ttlSecurity peer from its intent", async () => {
    const lab = await startBird({ gtsm: true });
    const { speaker } = await suite.startIntentSpeaker(lab, { name: "bgp-gtsm", peer: { ttlSecurity: HOPS } });
    await lab.bird.waitEstablished(PEER_PROTOCOL).catch((err: Error) => explain(lab, speaker.controller.peers()[0]?.session, err));
    await waitFor(async () => (await birdRoutes(lab.bird)) === "10.49.0.0/16", 30_000, "the intent's route at BIRD");
    expect(speaker.controller.peers()[0].session?.status().state).toBe("Established");
  });
});

describe.runIf(withGobgp)("GTSM with GoBGP", () => {
  // Only the positive case: gobgpd sets its minimum TTL on a connection after accepting it, so a plain
  // peer's OPEN can arrive before and reach Established (until its later segments are dropped and the
  // hold timer runs out). The one-sided cases are checked against BIRD above.
  it("(e) an active GTSM session interoperates with gobgpd's ttl-security (ttl-min 255)", async () => {
    const gobgpAddress = loopbackAddress();
    const gtsmAddress = loopbackAddress();
    const port = unprivilegedPort();
    const neighbor = (address: string) => ({ address, asn: OUR_AS, localAddress: gobgpAddress, passive: true, ttlMin: 256 - HOPS });
    const gobgp = await Gobgp.start({ asn: PEER_AS, routerId: gobgpAddress, listenAddress: gobgpAddress, listenPort: port, neighbors: [neighbor(gtsmAddress)] });
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
    await waitFor(() => gtsm.status().state === "Established", 30_000, "GTSM session Established with gobgpd").catch((err: Error) => {
      throw new Error(`${err.message}\nours: ${JSON.stringify(gtsm.status())}`);
    });
    await gobgp.waitEstablished(gtsmAddress);
    await waitFor(async () => (await gobgp.rib()).map((p) => p.prefix).join() === "10.49.0.0/16", 30_000, "our route at gobgpd");
  });
});
