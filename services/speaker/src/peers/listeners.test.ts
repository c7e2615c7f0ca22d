import { connect, createServer } from "node:net";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { PeerSchema, type Peer } from "@svcbgp/api";
import { afterEach, describe, expect, it } from "vitest";
import { SpeakerController } from "../controller.js";
import { fakeSessionFactory } from "../testing/fake-session.js";
import { intent, quietLogger } from "../testing/fixtures.js";
import { waitFor } from "../../../../test/support/wait.js";
import { listenAddresses, PeerListeners, type Listener } from "./listeners.js";
import type { AcceptingSession } from "./session-api.js";

const peer = (init: MessageInitShape<typeof PeerSchema> & { address: string }): Peer => create(PeerSchema, { asn: 64512, ...init });

class FakeListener implements Listener {
  readonly sessions = new Set<AcceptingSession>();
  closed = false;
  constructor(
    readonly host: string,
    readonly port: number,
    private readonly error?: NodeJS.ErrnoException,
  ) {}
  async listen(): Promise<void> {
    if (this.error) throw this.error;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  register(session: AcceptingSession): void {
    this.sessions.add(session);
  }
  unregister(session: AcceptingSession): void {
    this.sessions.delete(session);
  }
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`listen ${code}`), { code });
}

function recordingLogger() {
  const lines: Array<{ level: string; msg: string }> = [];
  const logger = quietLogger();
  for (const level of ["error", "warn", "info"] as const) {
    const original = logger[level].bind(logger);
    logger[level] = ((obj: unknown, msg?: string) => {
      lines.push({ level, msg: typeof obj === "string" ? obj : (msg ?? "") });
      return original(obj as object, msg);
    }) as typeof logger.info;
  }
  logger.child = (() => logger) as unknown as typeof logger.child;
  return { logger, lines };
}

/** A port free on 127.0.0.1 just now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("listenAddresses", () => {
  it("binds each peer source address, or a family's wildcard for peers without one", () => {
    expect(listenAddresses([])).toEqual([]);
    expect(listenAddresses([peer({ address: "192.0.2.1", sourceAddress: "192.0.2.10" }), peer({ address: "192.0.2.2", sourceAddress: "192.0.2.10" })])).toEqual(["192.0.2.10"]);
    expect(listenAddresses([peer({ address: "192.0.2.1", sourceAddress: "192.0.2.10" }), peer({ address: "2001:db8::1", sourceAddress: "2001:DB8::10" })])).toEqual(["192.0.2.10", "2001:db8::10"]);
    expect(listenAddresses([peer({ address: "192.0.2.1", sourceAddress: "192.0.2.10" }), peer({ address: "192.0.2.2" })])).toEqual(["0.0.0.0"]);
    expect(listenAddresses([peer({ address: "2001:db8::1" }), peer({ address: "192.0.2.2", sourceAddress: "192.0.2.10" })])).toEqual(["192.0.2.10", "::"]);
  });
});

describe("PeerListeners", () => {
  function setup(fail: Record<string, string> = {}) {
    const made: FakeListener[] = [];
    const { logger, lines } = recordingLogger();
    const listeners = new PeerListeners({
      logger,
      retryMs: 0,
      create: (host, port) => {
        const l = new FakeListener(host, port, fail[host] ? errno(fail[host]) : undefined);
        made.push(l);
        return l;
      },
    });
    return { listeners, made, lines };
  }

  it("listens only while listen_port is set, and reconciles addresses and port", async () => {
    const { listeners, made } = setup();
    const peers = [peer({ address: "192.0.2.1", sourceAddress: "192.0.2.10" })];
    await listeners.reconcile(0, peers);
    expect(made).toEqual([]);
    await listeners.reconcile(1179, peers);
    expect(made.map((l) => [l.host, l.port])).toEqual([["192.0.2.10", 1179]]);
    // Same port and addresses: nothing reopens.
    await listeners.reconcile(1179, peers);
    expect(made).toHaveLength(1);
    await listeners.reconcile(1180, peers);
    expect(made[0].closed).toBe(true);
    expect(made.map((l) => [l.host, l.port])).toEqual([["192.0.2.10", 1179], ["192.0.2.10", 1180]]);
    await listeners.reconcile(0, peers);
    expect(made[1].closed).toBe(true);
    expect(listeners.status()).toEqual([]);
  });

  it("registers every session with every listener, including ones opened later", async () => {
    const { listeners, made } = setup();
    const a = { options: { peerAddress: "192.0.2.1" }, acceptConnection: () => true };
    const b = { options: { peerAddress: "192.0.2.2" }, acceptConnection: () => true };
    listeners.register(a);
    await listeners.reconcile(1179, [peer({ address: "192.0.2.1" })]);
    listeners.register(b);
    expect([...made[0].sessions]).toEqual([a, b]);
    listeners.unregister(a);
    expect([...made[0].sessions]).toEqual([b]);
  });

  it("logs a clear error when port 179 needs CAP_NET_BIND_SERVICE, and retries on the next change", async () => {
    const { listeners, made, lines } = setup({ "0.0.0.0": "EACCES" });
    await listeners.reconcile(179, [peer({ address: "192.0.2.1" })]);
    const error = lines.find((l) => l.level === "error");
    expect(error?.msg).toMatch(/cannot listen for BGP on 0\.0\.0\.0:179: permission denied: .*CAP_NET_BIND_SERVICE/);
    expect(listeners.status()).toEqual([{ address: "0.0.0.0", port: 179, listening: false, error: expect.stringContaining("CAP_NET_BIND_SERVICE") }]);
    await listeners.reconcile(179, [peer({ address: "192.0.2.1" })]);
    expect(made).toHaveLength(2);
    // The same failure is logged once, not on every retry.
    expect(lines.filter((l) => l.level === "error")).toHaveLength(1);
  });

  it("warns about passive peers while listen_port is 0", async () => {
    const { listeners, lines } = setup();
    await listeners.reconcile(0, [peer({ address: "192.0.2.1", passive: true })]);
    await listeners.reconcile(0, [peer({ address: "192.0.2.1", passive: true })]);
    expect(lines.filter((l) => l.level === "warn").map((l) => l.msg)).toEqual(["passive peers, but the intent's listen_port is 0: nothing accepts their connections"]);
  });
});

describe("the controller's BGP listener", () => {
  it("hands a passive peer's inbound connection to its session, closes strangers, and closes on shutdown", async () => {
    const fakes = fakeSessionFactory();
    const logger = quietLogger();
    const listeners = new PeerListeners({ logger });
    const controller = new SpeakerController({ sessionFactory: fakes.factory, logger, listeners });
    cleanups.push(() => controller.shutdown());
    const port = await freePort();
    await controller.applySnapshot(intent({ listenPort: port, peers: [peer({ address: "127.0.0.2", passive: true, sourceAddress: "127.0.0.1" })] }), 1n);
    expect(listeners.status()).toEqual([{ address: "127.0.0.1", port, listening: true }]);
    const session = fakes.live("127.0.0.2")!;
    expect(session.options.passive).toBe(true);

    const dial = (from: string) =>
      new Promise<"closed">((resolve) => {
        const socket = connect({ host: "127.0.0.1", port, localAddress: from });
        socket.on("error", () => resolve("closed"));
        socket.on("close", () => resolve("closed"));
      });
    await dial("127.0.0.3");
    expect(session.calls.filter((c) => c.op === "acceptConnection")).toHaveLength(0);
    await dial("127.0.0.2");
    await waitFor(() => session.calls.some((c) => c.op === "acceptConnection"), 5_000, "the hand-over");

    await controller.shutdown();
    expect(listeners.status()).toEqual([]);
  });
});
