/**
 * TCP-MD5 signatures (RFC 2385) against real peers on loopback: BIRD 2 with
 * `password`, gobgpd with `auth-password`. Our session dials a password peer
 * and reaches Established; a wrong or missing password never does (BIRD's
 * state, after a generous wait); BIRD dials our BgpListener with the password;
 * the speaker connects a password peer from its intent and follows a password
 * change. Needs the TCP-MD5 addon (`npm run build` with gcc); TCP_MD5SIG needs
 * no privilege. Addresses from test/support/loopback.ts, unprivileged ports.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createBgpSession } from "@svcbgp/bgp";
import { createLogger } from "@svcbgp/telemetry";
import { labAvailable } from "../support/requirements.js";
import { BirdPeerTests, birdPeerConfig, birdRoutes, expectDialledUp, explain, OUR_AS, PEER_AS, PEER_PROTOCOL, sessionOptions, type BirdLab, type BirdPeerOptions } from "../support/bird-peer.js";
import { Gobgp } from "../support/gobgp.js";
import { loopbackAddress, unprivilegedPort } from "../support/loopback.js";
import { sleep, waitFor } from "../support/wait.js";

const withBird = labAvailable("TCP-MD5 with BIRD", { bird: true, tcpMd5: true });
const withGobgp = labAvailable("TCP-MD5 with GoBGP", { gobgp: true, tcpMd5: true });

const PASSWORD = "s3cret-BGP key";
/** How long a session with a bad key is watched for never coming up: several connect retries on both sides. */
const NEVER_WAIT_MS = 8000;

const suite = new BirdPeerTests();
const { cleanups } = suite;

/** BIRD's side with `password` (none if undefined). */
function withPassword(password: string | undefined, dials?: boolean): BirdPeerOptions {
  return { dials, extra: password !== undefined ? [`password "${password}";`] : [] };
}

/** A BIRD with `password` for a neighbor at a fresh loopback address; passive unless it should dial us. */
function startBird(o: { password?: string; dials?: boolean }): Promise<BirdLab> {
  return suite.startBird(withPassword(o.password, o.dials));
}

describe.runIf(withBird)("TCP-MD5 with BIRD 2", () => {
  it("(a) an active session with the password reaches Established and BIRD receives the route", async () => {
    const lab = await startBird({ password: PASSWORD });
    const session = suite.startSession(sessionOptions(lab, { password: PASSWORD }));
    await lab.bird.waitEstablished(PEER_PROTOCOL).catch((err: Error) => explain(lab, session, err));
    await waitFor(() => session.status().state === "Established", 30_000, "our session Established");
    await waitFor(async () => (await birdRoutes(lab.bird)) === "10.49.0.0/16", 30_000, "our route at BIRD");
    expect(JSON.stringify(session.status())).not.toContain(PASSWORD);
  });

  it("(b) a wrong or a missing password never reaches Established", async () => {
    const [wrongLab, missingLab] = await Promise.all([startBird({ password: PASSWORD }), startBird({ password: PASSWORD })]);
    const wrong = suite.startSession(sessionOptions(wrongLab, { password: "not the password" }));
    const missing = suite.startSession(sessionOptions(missingLab));
    const deadline = Date.now() + NEVER_WAIT_MS;
    while (Date.now() < deadline) {
      for (const lab of [wrongLab, missingLab]) expect((await lab.bird.protocol(PEER_PROTOCOL)).info).not.toMatch(/Established/);
      expect([wrong.status().state, missing.status().state]).not.toContain("Established");
      await sleep(250);
    }
    // The peer drops badly signed segments without a word: the dial goes unanswered, and the error says what to check.
    await waitFor(() => wrong.status().lastError?.includes("(TCP-MD5: check that the peer has the same password)"), 30_000, "the TCP-MD5 hint").catch((err: Error) => {
      throw new Error(`${err.message}; lastError: ${wrong.status().lastError}`);
    });
    expect(wrong.status().lastError).not.toContain("not the password");
    expect(missing.status().lastError).toMatch(/no answer|timeout/);
  });

  it("(c) passive: BIRD dials our listener with the password; the session comes up and advertises", async () => {
    const lab = await startBird({ password: PASSWORD, dials: true });
    const listener = await suite.listen(lab);
    const session = suite.registerPassive(listener, sessionOptions(lab, { password: PASSWORD }));
    expect(listener.keyedPeers()).toEqual([lab.birdAddress]);
    await expectDialledUp(lab, session, ["10.49.62.131/32"]);
  });

  it("the speaker connects a password peer from its intent, and a new password (on both ends) brings it back", async () => {
    const lab = await startBird({ password: PASSWORD });
    const logLines: string[] = [];
    const sink = new PassThrough();
    sink.on("data", (chunk: Buffer) => logLines.push(chunk.toString()));
    const logger = createLogger({ name: "bgp-tcp-md5", level: "debug", destination: sink });
    const { speaker, rewrite } = await suite.startIntentSpeaker(lab, { name: "bgp-tcp-md5", peer: { password: PASSWORD }, logger });
    await lab.bird.waitEstablished(PEER_PROTOCOL).catch((err: Error) => explain(lab, speaker.controller.peers()[0]?.session, err));
    await waitFor(async () => (await birdRoutes(lab.bird)) === "10.49.0.0/16", 30_000, "the intent's route at BIRD");
    const first = speaker.controller.peers()[0].session!;
    expect(first.status().state).toBe("Established");

    // Rotate: BIRD first (the session drops: the old key no longer matches), then the intent.
    const rotated = "r0tated-key";
    await lab.bird.configure(birdPeerConfig(lab, withPassword(rotated)));
    await rewrite({ password: rotated });
    await waitFor(() => speaker.controller.peers()[0]?.session !== first, 30_000, "the session to restart with the new password");
    await lab.bird.waitEstablished(PEER_PROTOCOL).catch((err: Error) => explain(lab, speaker.controller.peers()[0]?.session, err));
    await waitFor(async () => (await birdRoutes(lab.bird)) === "10.49.0.0/16", 30_000, "the route at BIRD again");
    await waitFor(() => speaker.controller.peers()[0].session?.status().state === "Established", 30_000, "our new session Established");
    const text = logLines.join("");
    expect(text).toContain('"changed":["password"]');
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(rotated);
  });
});

describe.runIf(withGobgp)("TCP-MD5 with GoBGP", () => {
  it("(d) an active session with the password interoperates with gobgpd's auth-password", async () => {
    const gobgpAddress = loopbackAddress();
    const ourAddress = loopbackAddress();
    const port = unprivilegedPort();
    const gobgp = await Gobgp.start({
      asn: PEER_AS,
      routerId: gobgpAddress,
      listenAddress: gobgpAddress,
      listenPort: port,
      neighbors: [{ address: ourAddress, asn: OUR_AS, localAddress: gobgpAddress, passive: true, authPassword: PASSWORD }],
    });
    cleanups.push(() => gobgp.stop());
    const session = createBgpSession({ peerAddress: gobgpAddress, peerPort: port, peerAsn: PEER_AS, localAsn: OUR_AS, routerId: ourAddress, localAddress: ourAddress, connectRetryTime: 1, password: PASSWORD });
    cleanups.push(() => session.stop("admin-shutdown"));
    // GoBGP drops routes with a next hop in 127.0.0.0/8: an explicit documentation-range one.
    session.setRoutes([{ prefix: "10.49.0.0/16", nextHop: "192.0.2.10" }]);
    session.start();
    await waitFor(() => session.status().state === "Established", 30_000, "session Established with gobgpd").catch((err: Error) => {
      throw new Error(`${err.message}\nours: ${JSON.stringify(session.status())}`);
    });
    await gobgp.waitEstablished(ourAddress);
    await waitFor(async () => (await gobgp.rib()).map((p) => p.prefix).join() === "10.49.0.0/16", 30_000, "our route at gobgpd");
  });
});
