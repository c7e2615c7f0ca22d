import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { BgpListener, peerAddressKey, type AcceptingSession } from "./listener.js";

class RecordingSession implements AcceptingSession {
  readonly accepted: Socket[] = [];
  constructor(
    readonly options: { peerAddress: string; localAddress?: string },
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

async function listener(host = "127.0.0.1"): Promise<BgpListener> {
  const l = new BgpListener({ host, port: 0 });
  await l.listen();
  cleanups.push(() => l.close());
  return l;
}

/** Dials the listener from `from`; resolves when the listener closes the connection, or after `ms` with "open". */
function dial(l: BgpListener, from: string, ms = 500): Promise<"closed" | "open"> {
  const { address, port } = l.address();
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, localAddress: from });
    cleanups.push(() => socket.destroy());
    socket.on("error", () => resolve("closed"));
    socket.on("close", () => resolve("closed"));
    socket.on("connect", () => setTimeout(() => resolve("open"), ms));
  });
}

describe("BgpListener", () => {
  it("closes a connection from an address with no session at once", async () => {
    const l = await listener();
    l.register(new RecordingSession({ peerAddress: "127.0.0.2" }));
    expect(await dial(l, "127.0.0.3", 5_000)).toBe("closed");
  });

  it("hands a connection from a registered peer to its session", async () => {
    const l = await listener();
    const session = new RecordingSession({ peerAddress: "127.0.0.2" });
    const other = new RecordingSession({ peerAddress: "127.0.0.4" });
    l.register(session);
    l.register(other);
    expect(await dial(l, "127.0.0.2")).toBe("open");
    expect(session.accepted).toHaveLength(1);
    expect(session.accepted[0].remoteAddress).toBe("127.0.0.2");
    expect(other.accepted).toHaveLength(0);
    for (const s of session.accepted) s.destroy();
  });

  it("closes the connection when the session refuses it, and forgets unregistered sessions", async () => {
    const l = await listener();
    const refusing = new RecordingSession({ peerAddress: "127.0.0.2" }, false);
    l.register(refusing);
    expect(await dial(l, "127.0.0.2", 5_000)).toBe("closed");
    const session = new RecordingSession({ peerAddress: "127.0.0.5" });
    l.register(session);
    l.unregister(session);
    expect(await dial(l, "127.0.0.5", 5_000)).toBe("closed");
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
    await new Promise((resolve) => setTimeout(resolve, 100));
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
    expect(await dial(l, "127.0.0.2", 50)).toBe("open");
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
