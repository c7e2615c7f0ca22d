/**
 * GTSM (RFC 5082) against the kernel, judged by what gets through on
 * loopback, where TTLs are not decremented: a plain socket sends with the
 * default TTL (net.ipv4.ip_default_ttl, 64), a GTSM one with 255, and a
 * minimum TTL drops everything below it (a SYN: no connection; a SYN-ACK:
 * the dial goes unanswered; data: never delivered). Needs the native addon
 * (`npm run build` with gcc); skips with the reason without it, fails under
 * SVCBGP_REQUIRE_LAB=1 or SVCBGP_REQUIRE_TCP_MD5=1.
 */
import { closeSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer, Socket, type Server } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { gtsmRefusal, gtsmUnavailable, invalidTtlSecurity, setSocketTtlSecurity, setTtlSecurity } from "./gtsm.js";
import { handleFd } from "./tcp-md5.js";
import { BgpListener, type AcceptingSession } from "./listener.js";
import { dialPeer, Session, type DialOptions } from "./session.js";

const unavailable = gtsmUnavailable();
const required = process.env.SVCBGP_REQUIRE_LAB === "1" || process.env.SVCBGP_REQUIRE_TCP_MD5 === "1";
if (unavailable !== undefined) {
  if (required) throw new Error(`GTSM: required (SVCBGP_REQUIRE_LAB/SVCBGP_REQUIRE_TCP_MD5) but unavailable: ${unavailable}`);
  console.warn(`SKIP GTSM addon tests: ${unavailable}`);
}

/** The TTL plain sockets send with. */
const DEFAULT_TTL = Number(readFileSync("/proc/sys/net/ipv4/ip_default_ttl", "utf8").trim()) || 64;
/** How long a connection that should not happen is given: several SYN retransmissions' worth on loopback. */
const NEVER_MS = 1500;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(host = "127.0.0.1", ipv6Only?: boolean): Promise<{ server: Server; fd: number; port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const s = createServer((socket) => {
    accepted.push(socket);
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => s.listen({ host, port: 0, ipv6Only }, resolve));
  cleanups.push(() => {
    for (const socket of accepted) socket.destroy();
    return new Promise((resolve) => s.close(resolve));
  });
  return { server: s, fd: handleFd(s)!, port: (s.address() as { port: number }).port, accepted };
}

/** Dials (with GTSM when `hops` is given, through the session's dialler): the socket once connected, or "no connection" after NEVER_MS. */
function attempt(host: string, port: number, hops?: number): Promise<Socket | "no connection"> {
  const options: DialOptions = { host, port };
  if (hops) options.ttlSecurity = hops;
  const socket = dialPeer(options);
  cleanups.push(() => socket.destroy());
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("no connection"), NEVER_MS);
    socket.on("error", () => {
      clearTimeout(timer);
      resolve("no connection");
    });
    socket.on("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

const outcome = (result: Socket | "no connection") => (result === "no connection" ? result : "connected");

/** Resolves with the first chunk `socket` receives, or "nothing" after NEVER_MS. */
function firstData(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("nothing"), NEVER_MS);
    socket.once("data", (chunk: Buffer) => {
      clearTimeout(timer);
      resolve(chunk.toString());
    });
  });
}

function capture(fn: () => void): NodeJS.ErrnoException {
  try {
    fn();
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
  throw new Error("no error");
}

describe("GTSM without the addon, or with a bad hop count", () => {
  it("a session with ttlSecurity does not start: a clear lastError, Idle, no dial", () => {
    const dials: unknown[] = [];
    const session = new Session(
      { peerAddress: "127.0.0.2", peerAsn: 64512, localAsn: 64512, routerId: "127.0.0.1", ttlSecurity: 1 },
      { gtsmUnavailable: () => "no addon here", dial: (o) => (dials.push(o), new Socket()) },
    );
    session.start();
    expect(session.status()).toMatchObject({
      state: "Idle",
      lastError: "GTSM unavailable: no addon here; the session is not started (a peer with ttlSecurity is never connected without it)",
    });
    expect(dials).toEqual([]);
    // Nor does it take connections from the peer.
    expect(session.acceptConnection(new Socket())).toBe(false);
  });

  it("hop counts: 0 is off, 1..255 are valid, others are refused", () => {
    expect(gtsmRefusal({}, () => "no addon")).toBeUndefined();
    expect(gtsmRefusal({ ttlSecurity: 0 }, () => "no addon")).toBeUndefined();
    expect(gtsmRefusal({ ttlSecurity: 255 }, () => undefined)).toBeUndefined();
    for (const bad of [256, -1, 1.5]) expect(invalidTtlSecurity(bad)).toMatch(/ttlSecurity must be 0 \(off\) or a hop count 1\.\.255/);
    expect(gtsmRefusal({ ttlSecurity: 256 }, () => undefined)).toBe("ttlSecurity must be 0 (off) or a hop count 1..255, got 256; the session is not started");
  });
});

describe.runIf(unavailable === undefined)("GTSM on real sockets", () => {
  it("errors carry errno codes: EBADF, ENOTSOCK, EAFNOSUPPORT; bad arguments are refused before the kernel", async () => {
    expect(capture(() => setTtlSecurity(1_000_000, "127.0.0.2", 1))).toMatchObject({ code: "EBADF", errno: -9 });
    const file = openSync(join(tmpdir(), `gtsm-${process.pid}`), "w");
    cleanups.push(() => closeSync(file));
    expect(capture(() => setTtlSecurity(file, "127.0.0.2", 1))).toMatchObject({ code: "ENOTSOCK" });
    const { fd } = await server();
    expect(capture(() => setTtlSecurity(fd, "::1", 1))).toMatchObject({ code: "EAFNOSUPPORT", message: expect.stringContaining("an IPv6 peer on an IPv4 socket") });
    expect(capture(() => setTtlSecurity(fd, "127.0.0.2", 256))).toMatchObject({ code: "ERR_OUT_OF_RANGE" });
    expect(capture(() => setTtlSecurity(fd, "not-an-address", 1))).toMatchObject({ code: "ERR_INVALID_ARG_VALUE" });
    expect(capture(() => setSocketTtlSecurity(new Socket(), "127.0.0.2", 1))).toMatchObject({ code: "EBADF" });
  });

  it("the minimum TTL is 256 - hops: a plain (default TTL) SYN gets through at 256 - default, not one hop fewer", async () => {
    const lenient = await server();
    setTtlSecurity(lenient.fd, "127.0.0.1", 256 - DEFAULT_TTL);
    expect(outcome(await attempt("127.0.0.1", lenient.port))).toBe("connected");
    const strict = await server();
    setTtlSecurity(strict.fd, "127.0.0.1", 255 - DEFAULT_TTL);
    expect(outcome(await attempt("127.0.0.1", strict.port))).toBe("no connection");
    expect(strict.accepted).toHaveLength(0);
  });

  it("GTSM on both ends connects and carries data both ways (both send with TTL 255)", async () => {
    const { fd, port, accepted } = await server();
    setTtlSecurity(fd, "127.0.0.1", 1);
    const client = await attempt("127.0.0.1", port, 1);
    expect(outcome(client)).toBe("connected");
    if (client === "no connection") return;
    await expect.poll(() => accepted.length).toBe(1);
    const toServer = firstData(accepted[0]);
    client.write("ping");
    expect(await toServer).toBe("ping");
    const toClient = firstData(client);
    accepted[0].write("pong");
    expect(await toClient).toBe("pong");
  });

  it("a GTSM dial to a plain listener goes unanswered (its SYN-ACK has the default TTL); a plain dial to a GTSM listener too", async () => {
    const plain = await server();
    expect(outcome(await attempt("127.0.0.1", plain.port, 1))).toBe("no connection");
    const gtsm = await server();
    setTtlSecurity(gtsm.fd, "127.0.0.1", 1);
    expect(outcome(await attempt("127.0.0.1", gtsm.port))).toBe("no connection");
    expect(gtsm.accepted).toHaveLength(0);
  });

  it("a GTSM session dialling a plain peer gets no answer, and its error says to check the peer's GTSM", async () => {
    const { port, accepted } = await server();
    const session = new Session({ peerAddress: "127.0.0.1", peerPort: port, peerAsn: 64512, localAsn: 64512, routerId: "127.0.0.2", connectRetryTime: 1, ttlSecurity: 2 });
    cleanups.push(() => session.stop("admin-shutdown"));
    session.start();
    await expect
      .poll(() => session.status().lastError, { timeout: 15_000 })
      .toMatch(/no answer .*\(GTSM: check that the peer has TTL security on and is at most 2 hops away\)$/);
    expect(session.status().state).not.toBe("Established");
    // Its SYN-ACK went out with the default TTL, which our end dropped: the handshake never completed.
    expect(accepted).toHaveLength(0);
  });

  it("connected but no OPEN for 10 s: the status says so, with the GTSM hint (the hold timer would take 4 minutes)", async () => {
    // A peer whose handshake passes (TTL 255 both ways) but which never sends an OPEN: as when its OPEN is dropped.
    const { fd, port, accepted } = await server();
    setTtlSecurity(fd, "127.0.0.1", 1);
    const session = new Session({ peerAddress: "127.0.0.1", peerPort: port, peerAsn: 64512, localAsn: 64512, routerId: "127.0.0.2", connectRetryTime: 1, ttlSecurity: 1 });
    cleanups.push(() => session.stop("admin-shutdown"));
    session.start();
    await expect.poll(() => session.status().state, { timeout: 10_000 }).toBe("OpenSent");
    expect(accepted).toHaveLength(1);
    expect(session.status().lastError).toBeUndefined();
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 12_000 });
    try {
      expect(session.status().lastError).toMatch(/^connected, but no OPEN from the peer in 1[12] s \(GTSM: check that the peer has TTL security on and is at most 1 hop away\)$/);
    } finally {
      vi.useRealTimers();
    }
  });

  it("hop count 0 restores the defaults", async () => {
    const { fd, port } = await server();
    setTtlSecurity(fd, "127.0.0.1", 1);
    setTtlSecurity(fd, "127.0.0.1", 0);
    expect(outcome(await attempt("127.0.0.1", port))).toBe("connected");
  });

  it("set on an accepted connection, it drops the plain peer's later segments", async () => {
    const { port, accepted } = await server();
    const client = await attempt("127.0.0.1", port);
    if (client === "no connection") throw new Error("no connection");
    await expect.poll(() => accepted.length).toBe(1);
    setSocketTtlSecurity(accepted[0], "127.0.0.1", 1);
    const toServer = firstData(accepted[0]);
    client.write("dropped");
    expect(await toServer).toBe("nothing");
  });

  it("IPv6: IPV6_MINHOPCOUNT and IPV6_UNICAST_HOPS on ::1", async () => {
    const { fd, port } = await server("::1");
    setTtlSecurity(fd, "::1", 1);
    expect(outcome(await attempt("::1", port))).toBe("no connection");
    expect(outcome(await attempt("::1", port, 1))).toBe("connected");
  });

  it("IPv4 peers of a dual-stack IPv6 socket (IPv4-mapped) need the IPv4 options, which an IPv4 peer address sets", async () => {
    const ipv6Only = await server("::", false);
    setTtlSecurity(ipv6Only.fd, "::", 1);
    // The IPv6 options alone do not filter IPv4-mapped peers.
    expect(outcome(await attempt("127.0.0.1", ipv6Only.port))).toBe("connected");
    const both = await server("::", false);
    setTtlSecurity(both.fd, "127.0.0.1", 1);
    expect(outcome(await attempt("127.0.0.1", both.port))).toBe("no connection");
    expect(outcome(await attempt("127.0.0.1", both.port, 1))).toBe("connected");
  });
});

class TtlSession implements AcceptingSession {
  readonly accepted: Socket[] = [];
  constructor(readonly options: { peerAddress: string; ttlSecurity?: number }) {}
  acceptConnection(socket: Socket): boolean {
    this.accepted.push(socket);
    return true;
  }
}

describe.runIf(unavailable === undefined)("GTSM on the BgpListener and passive sessions", () => {
  async function listener(): Promise<BgpListener> {
    const l = new BgpListener({ host: "127.0.0.1", port: 0 });
    await l.listen();
    cleanups.push(() => l.close());
    return l;
  }

  it("the listening socket's hop count follows its sessions: none, the largest when all have GTSM, else 255 (TTL 255, any TTL accepted)", async () => {
    const l = await listener();
    expect(l.listenerTtlSecurity).toBe(0);
    const strict = new TtlSession({ peerAddress: "127.0.0.2", ttlSecurity: 1 });
    const lenient = new TtlSession({ peerAddress: "127.0.0.3", ttlSecurity: 3 });
    const plain = new TtlSession({ peerAddress: "127.0.0.4" });
    const ipv6 = new TtlSession({ peerAddress: "2001:db8::1" });
    l.register(strict);
    expect(l.listenerTtlSecurity).toBe(1);
    l.register(lenient);
    expect(l.listenerTtlSecurity).toBe(3);
    // A session of the other family is not served by this listener: it changes nothing.
    l.register(ipv6);
    expect(l.listenerTtlSecurity).toBe(3);
    l.register(plain);
    expect(l.listenerTtlSecurity).toBe(255);
    for (const s of [strict, lenient, plain]) l.unregister(s);
    expect(l.listenerTtlSecurity).toBe(0);
  });

  it("with only GTSM sessions, plain SYNs are dropped; a GTSM peer's connection reaches its session", async () => {
    const l = await listener();
    const session = new TtlSession({ peerAddress: "127.0.0.1", ttlSecurity: 1 });
    l.register(session);
    const { port } = l.address();
    expect(outcome(await attempt("127.0.0.1", port))).toBe("no connection");
    expect(outcome(await attempt("127.0.0.1", port, 1))).toBe("connected");
    await expect.poll(() => session.accepted.length).toBe(1);
  });

  it("with a plain session too, its SYN-ACKs still pass a GTSM peer's filter (TTL 255)", async () => {
    const l = await listener();
    const session = new TtlSession({ peerAddress: "127.0.0.1", ttlSecurity: 1 });
    l.register(session);
    l.register(new TtlSession({ peerAddress: "127.0.0.9" }));
    expect(outcome(await attempt("127.0.0.1", l.address().port, 1))).toBe("connected");
  });

  /** A passive Session behind a BgpListener, and a plain client connected to it; whether the client is closed after garbage it sends. */
  async function garbageClosesConnection(ttlSecurity: number | undefined): Promise<boolean> {
    const l = await listener();
    const session = new Session({ peerAddress: "127.0.0.1", peerAsn: 64512, localAsn: 64512, routerId: "127.0.0.1", passive: true, ...(ttlSecurity ? { ttlSecurity } : {}) });
    cleanups.push(() => session.stop("admin-shutdown"));
    // The listener must let a plain SYN in, so the session (not the listener) is what filters: a plain session shares it.
    l.register(new TtlSession({ peerAddress: "127.0.0.9" }));
    l.register(session);
    session.start();
    const client = connect({ host: "127.0.0.1", port: l.address().port });
    cleanups.push(() => client.destroy());
    client.on("error", () => {});
    // The session sends its OPEN when it takes the connection: with GTSM, at TTL 255, which the plain client accepts.
    await new Promise<void>((resolve) => client.once("data", () => resolve()));
    const closed = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), NEVER_MS);
      client.once("close", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    // Not a BGP header: a session that reads it sends a NOTIFICATION and closes.
    client.write(Buffer.alloc(19, 0));
    return closed;
  }

  it("a passive GTSM session sets GTSM on the connection it takes: the plain peer's later segments never reach it (without GTSM they do)", async () => {
    expect(await garbageClosesConnection(undefined)).toBe(true);
    expect(await garbageClosesConnection(1)).toBe(false);
  });
});
