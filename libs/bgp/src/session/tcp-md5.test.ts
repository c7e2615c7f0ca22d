/**
 * The TCP-MD5 addon wrapper against the kernel: keys on a real listening
 * socket decide which loopback connections get through. Needs the addon
 * (`npm run build` with gcc); skips with the reason without it, fails under
 * SVCBGP_REQUIRE_LAB=1 or SVCBGP_REQUIRE_TCP_MD5=1.
 */
import { closeSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, Socket, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createSignedSocket, handleFd, invalidTcpMd5Key, loadTcpMd5Addon, setTcpMd5Key, tcpMd5Support } from "./tcp-md5.js";
import { Session } from "./session.js";

const support = tcpMd5Support();
const required = process.env.SVCBGP_REQUIRE_LAB === "1" || process.env.SVCBGP_REQUIRE_TCP_MD5 === "1";
if (!support.available) {
  if (required) throw new Error(`TCP-MD5 addon: required (SVCBGP_REQUIRE_LAB/SVCBGP_REQUIRE_TCP_MD5) but unavailable: ${support.reason}`);
  console.warn(`SKIP TCP-MD5 addon tests: ${support.reason}`);
}

const KEY = "s3cret-Key";
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(host = "127.0.0.1"): Promise<{ server: Server; fd: number; port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const s = createServer((socket) => {
    accepted.push(socket);
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => s.listen({ host, port: 0 }, resolve));
  cleanups.push(() => {
    for (const socket of accepted) socket.destroy();
    return new Promise((resolve) => s.close(resolve));
  });
  const fd = handleFd(s)!;
  return { server: s, fd, port: (s.address() as { port: number }).port, accepted };
}

/**
 * Connects from `from` (signed with `key` if given): "connected", or "no connection" after a generous wait.
 * A socket that got no connection is destroyed then: left dialling, the kernel would retransmit its SYN
 * (1 s, 3 s, 7 s ... after the first), which a listener whose key is cleared later in the test would accept.
 */
function attempt(port: number, from: string, key?: string, host = "127.0.0.1", waitMs = 1500): Promise<"connected" | "no connection"> {
  const socket = key ? createSignedSocket(host, key) : new Socket();
  cleanups.push(() => socket.destroy());
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve("no connection");
      socket.destroy();
    }, waitMs);
    socket.on("error", () => {
      clearTimeout(timer);
      resolve("no connection");
    });
    socket.connect({ host, port, localAddress: from }, () => {
      clearTimeout(timer);
      resolve("connected");
    });
  });
}

describe("TCP-MD5 without the addon", () => {
  it("says why it is unavailable", () => {
    const missing = loadTcpMd5Addon(join(tmpdir(), "no-such-dir", "tcp_md5.node"));
    expect(missing).toMatchObject({ available: false, reason: expect.stringContaining("is not built") });
  });

  it("a session with a password does not start: a clear lastError, Idle, no dial, no password in the status", () => {
    const dials: unknown[] = [];
    const session = new Session(
      { peerAddress: "127.0.0.2", peerAsn: 64512, localAsn: 64512, routerId: "127.0.0.1", password: "hunter2" },
      { tcpMd5Unavailable: () => "no addon here", dial: (o) => (dials.push(o), new Socket()) },
    );
    session.start();
    const status = session.status();
    expect(status.state).toBe("Idle");
    expect(status.lastError).toMatch(/^TCP-MD5 unavailable: no addon here; the session is not started/);
    expect(JSON.stringify(status)).not.toContain("hunter2");
    expect(dials).toEqual([]);
  });

  it("a password longer than 80 bytes is refused, without quoting it", () => {
    expect(invalidTcpMd5Key("x".repeat(80))).toBeUndefined();
    expect(invalidTcpMd5Key("é".repeat(41))).toMatch(/82 bytes/);
    const long = "p".repeat(81);
    const session = new Session({ peerAddress: "127.0.0.2", peerAsn: 64512, localAsn: 64512, routerId: "127.0.0.1", password: long }, { tcpMd5Unavailable: () => undefined });
    session.start();
    expect(session.status().lastError).toMatch(/81 bytes long; at most 80/);
    expect(session.status().lastError).not.toContain(long);
  });
});

describe.runIf(support.available)("TCP-MD5 addon", () => {
  it("errors carry errno codes, never the key: EBADF, ENOTSOCK, ENOENT", () => {
    const capture = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        return err as NodeJS.ErrnoException;
      }
      throw new Error("no error");
    };
    const badFd = capture(() => setTcpMd5Key(1_000_000, "127.0.0.2", KEY));
    expect(badFd).toMatchObject({ code: "EBADF", errno: -9 });
    expect(badFd.message).not.toContain(KEY);
    const file = openSync(join(tmpdir(), `tcp-md5-${process.pid}`), "w");
    cleanups.push(() => closeSync(file));
    expect(capture(() => setTcpMd5Key(file, "127.0.0.2", KEY))).toMatchObject({ code: "ENOTSOCK" });
    expect(capture(() => setTcpMd5Key(0, "not-an-address", KEY))).toMatchObject({ code: "ERR_INVALID_ARG_VALUE" });
    const tooLong = capture(() => setTcpMd5Key(0, "127.0.0.2", "k".repeat(81)));
    expect(tooLong).toMatchObject({ code: "ERR_OUT_OF_RANGE" });
    expect(tooLong.message).not.toContain("k".repeat(81));
  });

  it("a key on a listener admits only connections signed with it; cleared, it admits unsigned ones again", async () => {
    const { fd, port, accepted } = await server();
    setTcpMd5Key(fd, "127.0.0.2", KEY);
    expect(await attempt(port, "127.0.0.2", KEY)).toBe("connected");
    expect(await attempt(port, "127.0.0.2", "wrong")).toBe("no connection");
    expect(await attempt(port, "127.0.0.2")).toBe("no connection");
    // Other addresses are not affected.
    expect(await attempt(port, "127.0.0.3")).toBe("connected");
    setTcpMd5Key(fd, "127.0.0.2", "");
    expect(await attempt(port, "127.0.0.2")).toBe("connected");
    expect(() => setTcpMd5Key(fd, "127.0.0.2", "")).toThrow(expect.objectContaining({ code: "ENOENT" }));
    // The dialler's 'connect' and the server's 'connection' come from two sockets: wait for the server's side.
    await expect.poll(() => accepted.length).toBe(3);
    expect(accepted.map((s) => s.remoteAddress)).toEqual(["127.0.0.2", "127.0.0.3", "127.0.0.2"]);
  });

  it("a prefix key (TCP_MD5SIG_EXT) covers every address of the prefix", async () => {
    const { fd, port } = await server();
    setTcpMd5Key(fd, "127.0.0.0", KEY, { prefixLength: 24 });
    expect(await attempt(port, "127.0.0.5", KEY)).toBe("connected");
    expect(await attempt(port, "127.0.0.6")).toBe("no connection");
  });

  it("an IPv4 key on a dual-stack IPv6 listener keys the IPv4-mapped peer", async () => {
    const s = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => s.listen({ host: "::", port: 0, ipv6Only: false }, resolve));
    cleanups.push(() => new Promise((resolve) => s.close(resolve)));
    const fd = handleFd(s)!;
    const port = (s.address() as { port: number }).port;
    setTcpMd5Key(fd, "127.0.0.7", KEY);
    expect(await attempt(port, "127.0.0.7", KEY)).toBe("connected");
    expect(await attempt(port, "127.0.0.7")).toBe("no connection");
  });

  it("a signed socket binds its local address and connects (net takes the addon's fd)", async () => {
    const { fd, port, accepted } = await server();
    setTcpMd5Key(fd, "127.0.0.4", KEY);
    const socket = createSignedSocket("127.0.0.1", KEY);
    cleanups.push(() => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.connect({ host: "127.0.0.1", port, localAddress: "127.0.0.4" }, resolve);
    });
    expect(socket.localAddress).toBe("127.0.0.4");
    // Connected on our side does not mean accepted on the server's (another socket, its own event).
    await expect.poll(() => accepted.length).toBe(1);
    socket.write("ping");
    const received = await new Promise<string>((resolve) => {
      const peer = accepted[0];
      peer.once("data", (d: Buffer) => resolve(d.toString()));
    });
    expect(received).toBe("ping");
  });
});
