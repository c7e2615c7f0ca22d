import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { BgpListener, peerAddressKey, type AcceptingSession, type BgpListenerOptions } from "./listener.js";
import { createSignedSocket, tcpMd5Support } from "./tcp-md5.js";

class RecordingSession implements AcceptingSession {
  readonly accepted: Socket[] = [];
  constructor(
    readonly options: { peerAddress: string; localAddress?: string; password?: string },
    private readonly accept = true,
  ) {}
  acceptConnection(socket: Socket): boolean {
    if (!this.accept) return false;
    this.accepted.push(socket);
    return true;
  }
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listener(host = "127.0.0.1", options: Partial<BgpListenerOptions> = {}): Promise<BgpListener> {
  const l = new BgpListener({ host, port: 0, ...options });
  await l.listen();
  cleanups.push(() => l.close());
  return l;
}

/**
 * Dials the listener from `from`, signed with `key` if given: "open" if still
 * connected `openMs` after connecting, "closed" when the listener closes it,
 * "no connection" when it does not connect within `connectMs`.
 */
function dial(l: BgpListener, from: string, o: { key?: string; openMs?: number; connectMs?: number } = {}): Promise<"open" | "closed" | "no connection"> {
  const { address, port } = l.address();
  const { key, openMs = 200, connectMs = 1500 } = o;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve("no connection");
      // Left dialling, the socket would retransmit its SYN (1 s, 3 s, 7 s ... after the first) into later steps of the test.
      socket.destroy();
    }, connectMs);
    const settle = (outcome: "open" | "closed") => {
      clearTimeout(timer);
      resolve(outcome);
    };
    const socket = key ? createSignedSocket(address, key) : connect({ host: address, port, localAddress: from });
    if (key) socket.connect({ host: address, port, localAddress: from });
    cleanups.push(() => socket.destroy());
    socket.on("error", () => settle("closed"));
    socket.on("close", () => settle("closed"));
    socket.on("connect", () => {
      clearTimeout(timer);
      setTimeout(() => settle("open"), openMs);
    });
  });
}

describe("BgpListener", () => {
  it("closes a connection from an address with no session at once", async () => {
    const l = await listener();
    l.register(new RecordingSession({ peerAddress: "127.0.0.2" }));
    expect(await dial(l, "127.0.0.3", { openMs: 5_000, connectMs: 5_000 })).toBe("closed");
  });

  it("hands a connection from a registered peer to its session", async () => {
    const l = await listener();
    const session = new RecordingSession({ peerAddress: "127.0.0.2" });
    const other = new RecordingSession({ peerAddress: "127.0.0.4" });
    l.register(session);
    l.register(other);
    expect(await dial(l, "127.0.0.2", { openMs: 500 })).toBe("open");
    // The dialler's 'connect' and the listener's 'connection' are two sockets' events: wait for the listener's.
    await expect.poll(() => session.accepted.length + other.accepted.length).toBe(1);
    expect(session.accepted).toHaveLength(1);
    expect(session.accepted[0].remoteAddress).toBe("127.0.0.2");
    expect(other.accepted).toHaveLength(0);
    for (const s of session.accepted) s.destroy();
  });

  it("closes the connection when the session refuses it, and forgets unregistered sessions", async () => {
    const l = await listener();
    const refusing = new RecordingSession({ peerAddress: "127.0.0.2" }, false);
    l.register(refusing);
    expect(await dial(l, "127.0.0.2", { openMs: 5_000, connectMs: 5_000 })).toBe("closed");
    const session = new RecordingSession({ peerAddress: "127.0.0.5" });
    l.register(session);
    l.unregister(session);
    expect(await dial(l, "127.0.0.5", { openMs: 5_000, connectMs: 5_000 })).toBe("closed");
    expect(session.accepted).toHaveLength(0);
  });

  it("tells sessions with one peer address apart by the local address the peer dialled", async () => {
    const l = await listener("0.0.0.0");
    const viaA = new RecordingSession({ peerAddress: "127.0.0.2", localAddress: "127.0.0.10" });
    const viaB = new RecordingSession({ peerAddress: "127.0.0.2", localAddress: "127.0.0.11" });
    l.register(viaA);
    l.register(viaB);
    const { port } = l.address();
    const socket = connect({ host: "127.0.0.11", port, localAddress: "127.0.0.2" });
    cleanups.push(() => socket.destroy());
    await new Promise((resolve) => socket.once("connect", resolve));
    // Until the listener has handed the connection to one of them (no fixed sleep: the listener's event may come later).
    await expect.poll(() => viaA.accepted.length + viaB.accepted.length).toBe(1);
    expect(viaA.accepted).toHaveLength(0);
    expect(viaB.accepted).toHaveLength(1);
    viaB.accepted[0].destroy();
  });

  it("rejects listen() with the socket error, e.g. a port in use", async () => {
    const l = await listener();
    const second = new BgpListener({ host: "127.0.0.1", port: l.address().port });
    await expect(second.listen()).rejects.toMatchObject({ code: "EADDRINUSE" });
  });

  it("keys peer addresses canonically, IPv4-mapped IPv6 as IPv4", () => {
    expect(peerAddressKey("::ffff:127.0.0.2")).toBe("127.0.0.2");
    expect(peerAddressKey("2001:DB8:0:0::1")).toBe("2001:db8::1");
    expect(peerAddressKey("192.0.2.1")).toBe("192.0.2.1");
  });
});

describe("BgpListener.close", () => {
  it("does not wait for connections handed to sessions, and frees the port", async () => {
    const l = new BgpListener({ host: "127.0.0.1", port: 0 });
    await l.listen();
    const { port } = l.address();
    const session = new RecordingSession({ peerAddress: "127.0.0.2" });
    l.register(session);
    expect(await dial(l, "127.0.0.2", { openMs: 50 })).toBe("open");
    await expect.poll(() => session.accepted.length).toBe(1);
    await l.close();
    expect(l.isListening).toBe(false);
    expect(session.accepted[0].destroyed).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    const again = new BgpListener({ host: "127.0.0.1", port });
    await again.listen();
    await again.close();
    session.accepted[0].destroy();
  });
});

describe("BgpListener with TCP-MD5 passwords", () => {
  it("without TCP-MD5, a password session never gets a connection: it is closed", async () => {
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (_o: object | string, msg?: string) => void errors.push(String(msg)) };
    const l = await listener("127.0.0.1", { logger, tcpMd5: { unavailable: () => "no addon in this test" } });
    const session = new RecordingSession({ peerAddress: "127.0.0.2", password: "hunter2" });
    l.register(session);
    expect(l.keyedPeers()).toEqual([]);
    expect(errors).toEqual(["TCP-MD5 unavailable: no addon in this test; connections from this password peer are refused"]);
    expect(await dial(l, "127.0.0.2", { openMs: 500, connectMs: 5_000 })).toBe("closed");
    expect(session.accepted).toHaveLength(0);
    expect(errors.join(" ")).not.toContain("hunter2");
  });

  it.runIf(tcpMd5Support().available)("keys the listening socket per password peer: signed connections reach the session, unsigned ones never do", async () => {
    const l = new BgpListener({ host: "127.0.0.1", port: 0 });
    const signed = new RecordingSession({ peerAddress: "127.0.0.2", password: "s3cret" });
    const plain = new RecordingSession({ peerAddress: "127.0.0.3" });
    // Registered before listen(): the keys go on once the socket exists.
    l.register(signed);
    l.register(plain);
    await l.listen();
    cleanups.push(() => l.close());
    expect(l.keyedPeers()).toEqual(["127.0.0.2"]);
    expect(await dial(l, "127.0.0.2", { key: "s3cret" })).toBe("open");
    expect(await dial(l, "127.0.0.2")).toBe("no connection");
    expect(await dial(l, "127.0.0.2", { key: "wrong" })).toBe("no connection");
    expect(await dial(l, "127.0.0.3")).toBe("open");
    expect(signed.accepted.map((s) => s.remoteAddress)).toEqual(["127.0.0.2"]);
    expect(plain.accepted).toHaveLength(1);
    for (const s of [...signed.accepted, ...plain.accepted]) s.destroy();
  });

  it.runIf(tcpMd5Support().available)("keys follow the sessions: a new password replaces the key, the last session gone removes it", async () => {
    const l = await listener();
    const first = new RecordingSession({ peerAddress: "127.0.0.2", password: "one" });
    l.register(first);
    const second = new RecordingSession({ peerAddress: "127.0.0.2", password: "two" });
    l.unregister(first);
    l.register(second);
    expect(l.keyedPeers()).toEqual(["127.0.0.2"]);
    expect(await dial(l, "127.0.0.2", { key: "one" })).toBe("no connection");
    expect(await dial(l, "127.0.0.2", { key: "two" })).toBe("open");
    l.unregister(second);
    expect(l.keyedPeers()).toEqual([]);
    // No key any more: an unsigned connection from the address reaches the listener (and is closed: no session).
    expect(await dial(l, "127.0.0.2", { openMs: 500, connectMs: 5_000 })).toBe("closed");
    for (const s of second.accepted) s.destroy();
  });
});
