/**
 * The scaffolding of the integration tests that run our BGP side against one
 * BIRD 2 peer on loopback (GTSM, TCP-MD5, the listener): BIRD's config for
 * that one neighbour, our session's options, a speaker started from an
 * intent file, and a cleanup stack that stops it all after each test. A suite
 * adds only what its peering is about (a password, ttl security, graceful
 * restart), so the tests differ where the features do.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { BgpListener, createBgpSession, type BgpSession, type SessionOptions } from "@svcbgp/bgp";
import { createLogger, type Logger } from "@svcbgp/telemetry";
import { startSpeaker, type RunningSpeaker } from "../../services/speaker/src/speaker.js";
import { bgpSessionFactory } from "../../services/speaker/src/peers/session-factory.js";
import { Bird, birdPeering, type BirdPeering } from "./bird.js";
import { cleanupAfterEach } from "./cleanups.js";
import { waitFor } from "./wait.js";

export const OUR_AS = 64512;
export const PEER_AS = 65001;
/** BIRD's name for its one BGP protocol, as birdc is asked about it. */
export const PEER_PROTOCOL = "peer1";
/** What our sessions advertise unless a test says otherwise. */
export const DEFAULT_PREFIX = "10.49.0.0/16";
/** File-source timings for speakers under test: edits are picked up within a fraction of a second. */
const INTENT_FILE_TIMING = { debounceMs: 50, pollMs: 200 };

export type BirdLab = BirdPeering & { bird: Bird };

export interface BirdPeerOptions {
  /** Statements added to BIRD's protocol, each ending in `;`: `password "..."`, `ttl security on`, ... */
  extra?: string[];
  /** BIRD dials us at ourPort; otherwise it only waits for our dial (passive). */
  dials?: boolean;
  /**
   * BIRD's multihop hop count: loopback addresses share no subnet, so BIRD
   * always needs multihop; without a count it takes any (BIRD's default).
   */
  multihop?: number;
}

/** A whole bird.conf for one neighbour (protocol PEER_PROTOCOL), retrying every second so tests do not wait long. */
export function birdPeerConfig(lab: BirdPeering, o: BirdPeerOptions = {}): string {
  return `
router id ${lab.birdAddress};
protocol device {}
protocol bgp ${PEER_PROTOCOL} {
  local ${lab.birdAddress} port ${lab.birdPort} as ${PEER_AS};
  neighbor ${lab.ourAddress} ${o.dials ? `port ${lab.ourPort}` : ""} as ${OUR_AS};
  multihop${o.multihop === undefined ? "" : ` ${o.multihop}`}; strict bind on; ${o.dials ? "" : "passive on;"}
  connect delay time 1; connect retry time 1; error wait time 1,2;
  ${(o.extra ?? []).join("\n  ")}
  ipv4 { import all; export none; };
}
`;
}

/** Our session to the lab's BIRD, from our own loopback address, retrying every second; `extra` on top. */
export function sessionOptions(lab: BirdPeering, extra: Partial<SessionOptions> = {}): SessionOptions {
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

/** The prefixes BIRD holds from our session, sorted and comma-joined: one string to wait for. */
export async function birdRoutes(bird: Bird): Promise<string> {
  return (await bird.routes({ protocol: PEER_PROTOCOL }))
    .map((r) => r.prefix)
    .sort()
    .join();
}

/** Diagnostics for a failed wait: BIRD's view and ours (our status never holds a password). */
export async function explain(lab: BirdLab, session: BgpSession | undefined, err: Error): Promise<never> {
  const protocol = await lab.bird.birdc(`show protocols all ${PEER_PROTOCOL}`).catch((e: Error) => e.message);
  throw new Error(`${err.message}\nBIRD: ${protocol}\nours: ${JSON.stringify(session?.status())}`);
}

/**
 * Starts a passive `session` advertising `prefixes` and waits for BIRD's dial
 * to bring it up: Established on our end, then on BIRD's, then the routes at BIRD.
 */
export async function expectDialledUp(lab: BirdLab, session: BgpSession, prefixes: string[]): Promise<void> {
  session.setRoutes(prefixes.map((prefix) => ({ prefix })));
  session.start();
  await waitFor(() => session.status().state === "Established", 30_000, "our passive session Established").catch((err: Error) => explain(lab, session, err));
  await lab.bird.waitEstablished(PEER_PROTOCOL);
  const want = [...prefixes].sort().join();
  await waitFor(async () => (await birdRoutes(lab.bird)) === want, 30_000, `our routes at BIRD: ${want}`);
}

export interface IntentSpeakerOptions {
  /** Names the temporary directory and the logger. */
  name: string;
  /** What the intent's one peer has beyond its address, port, ASN and source address: `{ password: "..." }`, ... */
  peer: Record<string, unknown>;
  /** The intent's listenPort is the lab's ourPort, for BIRD to dial. */
  listen?: boolean;
  /** Default: silent, or at $TEST_LOG_LEVEL. */
  logger?: Logger;
}

export interface IntentSpeaker {
  speaker: RunningSpeaker;
  /** Rewrites the intent file with the peer's fields replaced by `peer`: the speaker picks the edit up. */
  rewrite(peer: Record<string, unknown>): Promise<void>;
}

/** Starts what each test file of a BIRD peer suite needs, and stops it after each test. */
export class BirdPeerTests {
  readonly cleanups = cleanupAfterEach();

  /** A BIRD for a neighbour at a fresh loopback address (see birdPeerConfig). */
  async startBird(o: BirdPeerOptions = {}): Promise<BirdLab> {
    const addresses = birdPeering();
    const bird = await Bird.start(birdPeerConfig(addresses, o));
    this.cleanups.push(() => bird.stop());
    return { ...addresses, bird };
  }

  /** A started session advertising `prefix`. */
  startSession(options: SessionOptions, prefix = DEFAULT_PREFIX): BgpSession {
    const session = createBgpSession(options);
    this.cleanups.push(() => session.stop("admin-shutdown"));
    session.setRoutes([{ prefix }]);
    session.start();
    return session;
  }

  /** A BgpListener on our side's address and port, where a dialling BIRD connects. */
  async listen(lab: BirdPeering): Promise<BgpListener> {
    const listener = new BgpListener({ host: lab.ourAddress, port: lab.ourPort });
    await listener.listen();
    this.cleanups.push(() => listener.close());
    return listener;
  }

  /** A passive session (not started) that `listener` hands BIRD's connections to. */
  registerPassive(listener: BgpListener, options: SessionOptions): BgpSession {
    const session = createBgpSession({ ...options, passive: true });
    this.cleanups.push(() => session.stop("admin-shutdown"));
    listener.register(session);
    return session;
  }

  /**
   * The speaker itself, with real BGP sessions, from an intent file in a
   * temporary directory: node-1 at our address, the lab's BIRD as its one
   * peer (plus `o.peer`), advertising DEFAULT_PREFIX.
   */
  async startIntentSpeaker(lab: BirdPeering, o: IntentSpeakerOptions): Promise<IntentSpeaker> {
    const dir = await mkdtemp(join(tmpdir(), `${o.name}-`));
    this.cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const intentFile = join(dir, "intent.yaml");
    const intent = (peer: Record<string, unknown>) =>
      stringify({
        nodeName: "node-1",
        routerId: lab.ourAddress,
        localAsn: OUR_AS,
        ...(o.listen ? { listenPort: lab.ourPort } : {}),
        peers: [{ address: lab.birdAddress, port: lab.birdPort, asn: PEER_AS, sourceAddress: lab.ourAddress, ...peer }],
        routes: [{ prefix: DEFAULT_PREFIX }],
      });
    await writeFile(intentFile, intent(o.peer));
    const logger = o.logger ?? createLogger({ name: o.name, level: process.env.TEST_LOG_LEVEL ?? "silent" });
    const speaker = await startSpeaker(
      { nodeName: "node-1", intentFile, apiListen: "127.0.0.1:0", httpListen: "127.0.0.1:0" },
      { sessionFactory: bgpSessionFactory(), logger, file: INTENT_FILE_TIMING },
    );
    this.cleanups.push(() => speaker.stop());
    return { speaker, rewrite: (peer) => writeFile(intentFile, intent(peer)) };
  }
}
