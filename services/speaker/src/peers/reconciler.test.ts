import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "@svcbgp/telemetry";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { PeerSchema, RouteSchema, type Peer, type Route } from "@svcbgp/api";
import { PeerReconciler, tcpMd5Refused } from "./reconciler.js";
import { fakeSessionFactory } from "../testing/fake-session.js";
import { quietLogger } from "../testing/fixtures.js";

const node = { routerId: "192.0.2.10", localAsn: 64512 };
const peer = (init: MessageInitShape<typeof PeerSchema> & { address: string }): Peer => create(PeerSchema, { asn: 64512, ...init });
const route = (prefix: string, init: MessageInitShape<typeof RouteSchema> = {}): Route => create(RouteSchema, { prefix, ...init });

/** TCP-MD5 available (the default here: fake sessions need no addon) unless `tcpMd5Unavailable` says why not. */
function setup(tcpMd5Unavailable?: string) {
  const fakes = fakeSessionFactory();
  const reconciler = new PeerReconciler({ factory: fakes.factory, logger: quietLogger(), tcpMd5Unavailable: () => tcpMd5Unavailable });
  return { fakes, reconciler };
}

describe("PeerReconciler", () => {
  it("maps intent peers to session options", async () => {
    const { fakes, reconciler } = setup();
    await reconciler.reconcile({
      node,
      peers: [
        peer({ address: "192.0.2.1", sourceAddress: "192.0.2.10", holdTime: 9, keepalive: 3, gracefulRestart: { enabled: true }, ttlSecurity: 1, passive: true, port: 1179 }),
        peer({ address: "2001:db8::1", asn: 65000, localAsn: 65001 }),
      ],
      upsertedRoutes: [],
      withdrawnPrefixes: [],
    });
    expect(fakes.sessions.map((s) => s.options)).toEqual([
      {
        peerAddress: "192.0.2.1",
        peerPort: 1179,
        peerAsn: 64512,
        localAsn: 64512,
        routerId: "192.0.2.10",
        localAddress: "192.0.2.10",
        holdTime: 9,
        keepaliveTime: 3,
        gracefulRestart: { enabled: true, restartTime: 120 },
        ttlSecurity: 1,
        passive: true,
      },
      { peerAddress: "2001:db8::1", peerPort: 179, peerAsn: 65000, localAsn: 65001, routerId: "192.0.2.10" },
    ]);
    expect(fakes.sessions.every((s) => s.started)).toBe(true);
  });

  it("gives each session the routes of its family, next hop left to the session unless set", async () => {
    const { fakes, reconciler } = setup();
    await reconciler.reconcile({
      node,
      peers: [peer({ address: "192.0.2.1" }), peer({ address: "2001:db8::1" })],
      upsertedRoutes: [route("10.49.0.0/16", { communities: ["64512:100"], localPref: 200 }), route("fd00:49::/64"), route("192.168.3.0/24", { nextHop: "192.0.2.99" })],
      withdrawnPrefixes: [],
    });
    const [v4, v6] = fakes.sessions;
    expect(v4.calls.filter((c) => c.op === "updateRoutes")).toEqual([
      {
        op: "updateRoutes",
        upserts: [{ prefix: "10.49.0.0/16", communities: ["64512:100"], localPref: 200 }, { prefix: "192.168.3.0/24", nextHop: "192.0.2.99" }],
        withdrawals: [],
      },
    ]);
    expect(v6.routeCalls()).toEqual([{ upserts: ["fd00:49::/64"], withdrawals: [] }]);
  });

  it("restarts only the session whose parameters changed; route changes never restart", async () => {
    const { fakes, reconciler } = setup();
    const peers = [peer({ address: "192.0.2.1" }), peer({ address: "192.0.2.2" }), peer({ address: "192.0.2.3", password: "" })];
    await reconciler.reconcile({ node, peers, upsertedRoutes: [route("10.49.0.0/16")], withdrawnPrefixes: [] });
    expect(fakes.sessions).toHaveLength(3);
    const [a, b, c] = fakes.sessions;

    // A route change: one updateRoutes per session, no stop, no new session.
    await reconciler.reconcile({ node, peers, upsertedRoutes: [route("10.50.0.0/16")], withdrawnPrefixes: ["10.49.0.0/16"] });
    expect(fakes.sessions).toHaveLength(3);
    for (const s of [a, b, c]) expect(s.routeCalls()).toEqual([{ upserts: ["10.49.0.0/16"], withdrawals: [] }, { upserts: ["10.50.0.0/16"], withdrawals: ["10.49.0.0/16"] }]);

    // The hold time of 192.0.2.2 changes: that session alone restarts, with the current routes.
    await reconciler.reconcile({ node, peers: [peers[0], peer({ address: "192.0.2.2", holdTime: 30 }), peers[2]], upsertedRoutes: [], withdrawnPrefixes: [] });
    expect(fakes.sessions).toHaveLength(4);
    expect(b.calls.at(-1)).toMatchObject({ op: "stop", mode: "admin-shutdown" });
    expect(a.stopped || c.stopped).toBe(false);
    const b2 = fakes.sessions[3];
    expect(b2.options).toMatchObject({ peerAddress: "192.0.2.2", holdTime: 30 });
    expect(b2.routeCalls()).toEqual([{ upserts: ["10.50.0.0/16"], withdrawals: [] }]);
    expect(b2.calls.map((x) => x.op)).toEqual(["updateRoutes", "start"]);

    // A display-only change (name) restarts nothing.
    await reconciler.reconcile({ node, peers: [peer({ address: "192.0.2.1", name: "tor" }), peer({ address: "192.0.2.2", holdTime: 30 }), peers[2]], upsertedRoutes: [], withdrawnPrefixes: [] });
    expect(fakes.sessions).toHaveLength(4);

    // A node-level change (local AS) restarts every session that uses it.
    await reconciler.reconcile({ node: { ...node, localAsn: 64513 }, peers: [peer({ address: "192.0.2.1", localAsn: 64512 }), peers[1]], upsertedRoutes: [], withdrawnPrefixes: [] });
    expect(a.stopped).toBe(false);
    expect(c.calls.at(-1)).toMatchObject({ op: "stop", mode: "admin-shutdown", message: "peer removed" });
    expect(fakes.sessions.slice(4).map((s) => [s.options.peerAddress, s.options.localAsn])).toEqual([["192.0.2.2", 64513]]);
  });

  it("without TCP-MD5, refuses a peer with a password and keeps the others working", async () => {
    const { fakes, reconciler } = setup("no addon");
    await reconciler.reconcile({
      node,
      peers: [peer({ address: "192.0.2.1", password: "s3cret" }), peer({ address: "192.0.2.2" })],
      upsertedRoutes: [route("10.49.0.0/16")],
      withdrawnPrefixes: [],
    });
    expect(fakes.sessions.map((s) => s.options.peerAddress)).toEqual(["192.0.2.2"]);
    const refused = reconciler.peers().find((m) => m.key === "192.0.2.1:179")!;
    expect(refused.session).toBeUndefined();
    expect(refused.refused).toBe(tcpMd5Refused("no addon"));
    expect(refused.refused).toBe("TCP-MD5 unavailable: no addon; a peer with a password is not connected");
    // Dropping the password lets the peer connect.
    await reconciler.reconcile({ node, peers: [peer({ address: "192.0.2.1" }), peer({ address: "192.0.2.2" })], upsertedRoutes: [], withdrawnPrefixes: [] });
    expect(fakes.sessions.map((s) => s.options.peerAddress)).toEqual(["192.0.2.2", "192.0.2.1"]);
    expect(fakes.sessions[1].routeCalls()).toEqual([{ upserts: ["10.49.0.0/16"], withdrawals: [] }]);
  });

  it("with TCP-MD5, gives a password peer a session with its password; a new password restarts only that session", async () => {
    const { fakes, reconciler } = setup();
    const peers = [peer({ address: "192.0.2.1", password: "s3cret" }), peer({ address: "192.0.2.2" })];
    await reconciler.reconcile({ node, peers, upsertedRoutes: [route("10.49.0.0/16")], withdrawnPrefixes: [] });
    expect(fakes.sessions.map((s) => [s.options.peerAddress, s.options.password])).toEqual([
      ["192.0.2.1", "s3cret"],
      ["192.0.2.2", undefined],
    ]);
    expect(reconciler.peers().every((m) => m.refused === undefined)).toBe(true);
    const [signed, plain] = fakes.sessions;
    // Same password: nothing restarts.
    await reconciler.reconcile({ node, peers: [peer({ address: "192.0.2.1", password: "s3cret" }), peers[1]], upsertedRoutes: [], withdrawnPrefixes: [] });
    expect(fakes.sessions).toHaveLength(2);
    // Rotated password: that session restarts with it, with the current routes.
    await reconciler.reconcile({ node, peers: [peer({ address: "192.0.2.1", password: "n3w" }), peers[1]], upsertedRoutes: [], withdrawnPrefixes: [] });
    expect(signed.calls.at(-1)).toMatchObject({ op: "stop", mode: "admin-shutdown", message: "session parameters changed" });
    expect(plain.stopped).toBe(false);
    expect(fakes.sessions[2].options).toMatchObject({ peerAddress: "192.0.2.1", password: "n3w" });
    expect(fakes.sessions[2].routeCalls()).toEqual([{ upserts: ["10.49.0.0/16"], withdrawals: [] }]);
    // Password removed: restarts unsigned.
    await reconciler.reconcile({ node, peers: [peer({ address: "192.0.2.1" }), peers[1]], upsertedRoutes: [], withdrawnPrefixes: [] });
    expect(fakes.sessions[3].options.password).toBeUndefined();
  });

  it("logs a password change by option name only", async () => {
    const lines: string[] = [];
    const sink = new PassThrough();
    sink.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
    const fakes = fakeSessionFactory();
    const reconciler = new PeerReconciler({ factory: fakes.factory, logger: createLogger({ name: "test", level: "debug", destination: sink }), tcpMd5Unavailable: () => undefined });
    await reconciler.reconcile({ node, peers: [peer({ address: "192.0.2.1", password: "hunter2" })], upsertedRoutes: [], withdrawnPrefixes: [] });
    await reconciler.reconcile({ node, peers: [peer({ address: "192.0.2.1", password: "correct-horse" })], upsertedRoutes: [], withdrawnPrefixes: [] });
    await new Promise((resolve) => setImmediate(resolve));
    const text = lines.join("");
    expect(text).toContain('"changed":["password"]');
    expect(text).toContain('"tcpMd5":true');
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("correct-horse");
  });

  it("skips route upserts that change nothing the session sends (reasons only)", async () => {
    const { fakes, reconciler } = setup();
    await reconciler.reconcile({ node, peers: [peer({ address: "192.0.2.1" })], upsertedRoutes: [route("10.49.0.0/16")], withdrawnPrefixes: [] });
    reconciler.applyRoutes([route("10.49.0.0/16", { reasons: [{ source: "default/nginx" }] })], []);
    expect(fakes.sessions[0].routeCalls()).toHaveLength(1);
  });

  it("withdraws everything while suppressed and re-announces after", async () => {
    const { fakes, reconciler } = setup();
    await reconciler.reconcile({ node, peers: [peer({ address: "192.0.2.1" })], upsertedRoutes: [route("10.49.0.0/16"), route("10.50.0.0/16")], withdrawnPrefixes: [] });
    reconciler.setSuppressed(true);
    reconciler.applyRoutes([route("10.51.0.0/16")], ["10.50.0.0/16"]);
    reconciler.setSuppressed(false);
    expect(fakes.sessions[0].routeCalls()).toEqual([
      { upserts: ["10.49.0.0/16", "10.50.0.0/16"], withdrawals: [] },
      { upserts: [], withdrawals: ["10.49.0.0/16", "10.50.0.0/16"] },
      { upserts: ["10.49.0.0/16", "10.51.0.0/16"], withdrawals: [] },
    ]);
  });

  it("stops sessions in graceful-restart mode where GR is enabled on shutdown", async () => {
    const { fakes, reconciler } = setup();
    await reconciler.reconcile({
      node,
      peers: [peer({ address: "192.0.2.1", gracefulRestart: { enabled: true } }), peer({ address: "192.0.2.2" })],
      upsertedRoutes: [],
      withdrawnPrefixes: [],
    });
    await reconciler.stopAll();
    expect(fakes.sessions.map((s) => s.calls.at(-1))).toEqual([
      { op: "stop", mode: "graceful-restart", message: "speaker shutting down" },
      { op: "stop", mode: "admin-shutdown", message: "speaker shutting down" },
    ]);
  });

  it("after a process start, sets the graceful-restart R bit for the first intent's sessions only", async () => {
    const fakes = fakeSessionFactory();
    const opened: string[] = [];
    const closed: string[] = [];
    const reconciler = new PeerReconciler({
      factory: fakes.factory,
      logger: quietLogger(),
      restarted: true,
      onSessionOpened: (s) => opened.push(s.options.peerAddress),
      onSessionClosed: (s) => closed.push(s.options.peerAddress),
    });
    const gr = { gracefulRestart: { enabled: true } };
    await reconciler.reconcile({ node, peers: [peer({ address: "192.0.2.1", ...gr })], upsertedRoutes: [], withdrawnPrefixes: [] });
    expect(fakes.sessions[0].options.restarting).toBe(true);
    // The R bit is not a session parameter: the next intent restarts nothing, a new peer's session does not set it.
    await reconciler.reconcile({ node, peers: [peer({ address: "192.0.2.1", ...gr }), peer({ address: "192.0.2.2", ...gr })], upsertedRoutes: [], withdrawnPrefixes: [] });
    expect(fakes.sessions).toHaveLength(2);
    expect(fakes.sessions[0].stopped).toBe(false);
    expect(fakes.sessions[1].options.restarting).toBeUndefined();
    // Nor does a session restarted for a parameter change.
    await reconciler.reconcile({ node, peers: [peer({ address: "192.0.2.1", holdTime: 30, ...gr }), peer({ address: "192.0.2.2", ...gr })], upsertedRoutes: [], withdrawnPrefixes: [] });
    expect(fakes.sessions[2].options).toMatchObject({ peerAddress: "192.0.2.1", holdTime: 30 });
    expect(fakes.sessions[2].options.restarting).toBeUndefined();
    expect(opened).toEqual(["192.0.2.1", "192.0.2.2", "192.0.2.1"]);
    expect(closed).toEqual(["192.0.2.1"]);
  });

  it("does not set the R bit without the restarted option", async () => {
    const { fakes, reconciler } = setup();
    await reconciler.reconcile({ node, peers: [peer({ address: "192.0.2.1", gracefulRestart: { enabled: true } })], upsertedRoutes: [], withdrawnPrefixes: [] });
    expect(fakes.sessions[0].options.restarting).toBeUndefined();
  });

  it("subscribes sessions to route events only while they are wanted; state events always", async () => {
    const fakes = fakeSessionFactory();
    const events: string[] = [];
    const reconciler = new PeerReconciler({ factory: fakes.factory, logger: quietLogger(), onSessionEvent: (_m, e) => events.push(e.type) });
    await reconciler.reconcile({ node, peers: [peer({ address: "192.0.2.1" })], upsertedRoutes: [], withdrawnPrefixes: [] });
    const session = fakes.live("192.0.2.1")!;
    const entry = { prefix: "10.0.0.0/8", nextHop: "192.0.2.1", asPath: [], origin: "igp" as const, localPref: 100, communities: [], largeCommunities: [], stale: false };
    expect(session.routeListenerCount).toBe(0);
    session.receive(entry);
    session.setState("Established");
    expect(events).toEqual(["state"]);

    reconciler.setRouteEvents(true);
    reconciler.setRouteEvents(true);
    expect(session.routeListenerCount).toBe(1);
    session.receive(entry, true);
    session.setState("Idle");
    expect(events).toEqual(["state", "route", "state"]);

    // Sessions started while route events are wanted subscribe at once.
    await reconciler.reconcile({ node, peers: [peer({ address: "192.0.2.1" }), peer({ address: "192.0.2.2" })], upsertedRoutes: [], withdrawnPrefixes: [] });
    expect(fakes.live("192.0.2.2")!.routeListenerCount).toBe(1);

    reconciler.setRouteEvents(false);
    expect(fakes.sessions.map((s) => s.routeListenerCount)).toEqual([0, 0]);
    await reconciler.reconcile({ node, peers: [], upsertedRoutes: [], withdrawnPrefixes: [] });
    reconciler.setRouteEvents(true);
    expect(fakes.sessions.map((s) => s.routeListenerCount)).toEqual([0, 0]);
  });
});
