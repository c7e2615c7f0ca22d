/**
 * TCP-MD5 signatures (RFC 2385) against real peers on loopback: BIRD 2 with
 * `password`, gobgpd with `auth-password`. Our session dials a password peer
 * and reaches Established; a wrong or missing password never does (BIRD's
 * state, after a generous wait); BIRD dials our BgpListener with the password;
 * the speaker connects a password peer from its intent and follows a password
 * change. Needs the TCP-MD5 addon (`npm run build` with gcc); TCP_MD5SIG needs
 * no privilege. Addresses from test/support/loopback.ts, unprivileged ports.
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

const withBird = labAvailable("TCP-MD5 with BIRD", { bird: true, tcpMd5: true });
const withGobgp = labAvailable("TCP-MD5 with GoBGP", { gobgp: true, tcpMd5: true });

const OUR_AS = 64512;
const PEER_AS = 65001;
const PASSWORD = "s3cret-BGP key";
/** How long a session with a bad key is watched for never coming up: several connect retries on both sides. */
const NEVER_WAIT_MS = 8000;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

type Lab = BirdPeering & { bird: Bird };

function birdConfig(o: BirdPeering & { password?: string; passive: boolean }): string {
  return `
router id ${o.birdAddress};
protocol device {}
protocol bgp peer1 {
  local ${o.birdAddress} port ${o.birdPort} as ${PEER_AS};
  neighbor ${o.ourAddress} ${o.passive ? "" : `port ${o.ourPort}`} as ${OUR_AS};
  multihop; strict bind on; ${o.passive ? "passive on;" : ""}
  connect delay time 1; connect retry time 1; error wait time 1,2;
  ${o.password !== undefined ? `password "${o.password}";` : ""}
  ipv4 { import all; export none; };
}
`;
}

/** A BIRD with `password` for a neighbor at a fresh loopback address; passive unless it should dial us. */
async function startBird(o: { password?: string; passive?: boolean }): Promise<Lab> {
  const addresses = birdPeering();
  const bird = await Bird.start(birdConfig({ ...addresses, password: o.password, passive: o.passive ?? true }));
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

function startSession(options: SessionOptions): BgpSession {
  const session = createBgpSession(options);
  cleanups.push(() => session.stop("admin-shutdown"));
  session.setRoutes([{ prefix: "10.49.0.0/16" }]);
  session.start();
  return session;
}

async function birdRoutes(bird: Bird): Promise<string> {
  return (await bird.routes({ protocol: "peer1" }))
    .map((r) => r.prefix)
    .sort()
    .join();
}

/** Diagnostics for a failed wait: BIRD's view and ours (the status never holds the password). */
async function explain(lab: Lab, session: BgpSession | undefined, err: Error): Promise<never> {
  const protocol = await lab.bird.birdc("show protocols all peer1").catch((e: Error) => e.message);
  throw new Error(`${err.message}\nBIRD: ${protocol}\nours: ${JSON.stringify(session?.status())}`);
}

describe.runIf(withBird)("TCP-MD5 with BIRD 2", () => {
  it("(a) an active session with the password reaches Established and BIRD receives the route", async () => {
    const lab = await startBird({ password: PASSWORD });
    const session = startSession(sessionOptions(lab, { password: PASSWORD }));
    await lab.bird.waitEstablished("peer1").catch((err: Error) => explain(lab, session, err));
    await waitFor(() => session.status().state === "Established", 30_000, "our session Established");
    await waitFor(async () => (await birdRoutes(lab.bird)) === "10.49.0.0/16", 30_000, "our route at BIRD");
    expect(JSON.stringify(session.status())).not.toContain(PASSWORD);
  });

  it("(b) a wrong or a missing password never reaches Established", async () => {
    const [wrongLab, missingLab] = await Promise.all([startBird({ password: PASSWORD }), startBird({ password: PASSWORD })]);
    const wrong = startSession(sessionOptions(wrongLab, { password: "not the password" }));
    const missing = startSession(sessionOptions(missingLab, {}));
    const deadline = Date.now() + NEVER_WAIT_MS;
    while (Date.now() < deadline) {
      for (const lab of [wrongLab, missingLab]) expect((await lab.bird.protocol("peer1")).info).not.toMatch(/Established/);
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
    const lab = await startBird({ password: PASSWORD, passive: false });
    const listener = new BgpListener({ host: lab.ourAddress, port: lab.ourPort });
    await listener.listen();
    cleanups.push(() => listener.close());
    const session = createBgpSession(sessionOptions(lab, { passive: true, password: PASSWORD }));
    cleanups.push(() => session.stop("admin-shutdown"));
    listener.register(session);
    expect(listener.keyedPeers()).toEqual([lab.birdAddress]);
    session.setRoutes([{ prefix: "10.49.62.131/32" }]);
    session.start();
    await waitFor(() => session.status().state === "Established", 30_000, "our passive session Established").catch((err: Error) => explain(lab, session, err));
    await lab.bird.waitEstablished("peer1");
    await waitFor(async () => (await birdRoutes(lab.bird)) === "10.49.62.131/32", 30_000, "our route at BIRD");
  });

  it("the speaker connects a password peer from its intent, and a new password (on both ends) brings it back", async () => {
    const lab = await startBird({ password: PASSWORD });
    const dir = await mkdtemp(join(tmpdir(), "bgp-tcp-md5-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const intentFile = join(dir, "intent.yaml");
    const intent = (password: string) => `nodeName: node-1
routerId: ${lab.ourAddress}
localAsn: ${OUR_AS}
peers:
  - address: ${lab.birdAddress}
    port: ${lab.birdPort}
    asn: ${PEER_AS}
    sourceAddress: ${lab.ourAddress}
    password: ${JSON.stringify(password)}
routes:
  - prefix: 10.49.0.0/16
`;
    await writeFile(intentFile, intent(PASSWORD));
    const logLines: string[] = [];
    const sink = new PassThrough();
    sink.on("data", (chunk: Buffer) => logLines.push(chunk.toString()));
    const speaker = await startSpeaker(
      { nodeName: "node-1", intentFile, apiListen: "127.0.0.1:0", httpListen: "127.0.0.1:0" },
      { sessionFactory: bgpSessionFactory(), logger: createLogger({ name: "bgp-tcp-md5", level: "debug", destination: sink }), file: { debounceMs: 50, pollMs: 200 } },
    );
    cleanups.push(() => speaker.stop());
    await lab.bird.waitEstablished("peer1").catch((err: Error) => explain(lab, speaker.controller.peers()[0]?.session, err));
    await waitFor(async () => (await birdRoutes(lab.bird)) === "10.49.0.0/16", 30_000, "the intent's route at BIRD");
    const first = speaker.controller.peers()[0].session!;
    expect(first.status().state).toBe("Established");

    // Rotate: BIRD first (the session drops: the old key no longer matches), then the intent.
    const rotated = "r0tated-key";
    await lab.bird.configure(birdConfig({ ...lab, password: rotated, passive: true }));
    await writeFile(intentFile, intent(rotated));
    await waitFor(() => speaker.controller.peers()[0]?.session !== first, 30_000, "the session to restart with the new password");
    await lab.bird.waitEstablished("peer1").catch((err: Error) => explain(lab, speaker.controller.peers()[0]?.session, err));
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
