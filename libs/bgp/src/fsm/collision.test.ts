/** §6.8 collision detection with the RFC 6286 tie-break, through ConnectionPair. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { FakeClock } from "./clock.js";
import { ConnectionPair, resolveCollision } from "./collision.js";
import { ASN, BASE_CONFIG, PEER_ID, peerOpen } from "./test-helpers.js";
import type { Capability } from "../codec/types.js";
import type { FsmAction, FsmConfig } from "./types.js";

describe("resolveCollision", () => {
  it("keeps the connection initiated by the higher BGP identifier", () => {
    expect(resolveCollision({ routerId: "10.0.0.2", asn: 1 }, { routerId: "10.0.0.1", asn: 1 })).toBe("keep-local-initiated");
    expect(resolveCollision({ routerId: "10.0.0.1", asn: 1 }, { routerId: "10.0.0.2", asn: 1 })).toBe("keep-remote-initiated");
  });

  it("compares identifiers as unsigned 32-bit integers, not strings", () => {
    expect(resolveCollision({ routerId: "200.0.0.1", asn: 1 }, { routerId: "9.0.0.1", asn: 1 })).toBe("keep-local-initiated");
    expect(resolveCollision({ routerId: "128.0.0.0", asn: 1 }, { routerId: "127.255.255.255", asn: 1 })).toBe("keep-local-initiated");
  });

  it("equal identifiers (eBGP): the larger AS number wins", () => {
    expect(resolveCollision({ routerId: "10.0.0.1", asn: 65002 }, { routerId: "10.0.0.1", asn: 65001 })).toBe("keep-local-initiated");
    expect(resolveCollision({ routerId: "10.0.0.1", asn: 65001 }, { routerId: "10.0.0.1", asn: 4200000000 })).toBe("keep-remote-initiated");
  });

  it("is antisymmetric: both speakers keep the same connection", () => {
    const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join("."));
    const identity = fc.record({ routerId: ip, asn: fc.integer({ min: 1, max: 0xffffffff }) });
    fc.assert(
      fc.property(identity, identity, (a, b) => {
        fc.pre(a.routerId !== b.routerId || a.asn !== b.asn);
        const fromA = resolveCollision(a, b);
        const fromB = resolveCollision(b, a);
        expect(fromA === "keep-local-initiated").toBe(fromB === "keep-remote-initiated");
      }),
    );
  });
});

interface Log {
  id: number;
  actions: FsmAction[];
}

function pair(overrides: Partial<FsmConfig> = {}) {
  const clock = new FakeClock();
  const log: Log[] = [];
  const p = new ConnectionPair({ ...BASE_CONFIG, ...overrides }, clock, (id, actions) => log.push({ id, actions }));
  const actionsOf = (id: number) => log.filter((l) => l.id === id).flatMap((l) => l.actions);
  const notificationsOf = (id: number) => actionsOf(id).filter((a) => a.type === "SendNotification");
  return { clock, log, p, actionsOf, notificationsOf };
}

/** Outbound primary in OpenConfirm, inbound secondary in OpenSent. */
function collidingPair(localId: string, grCaps: Capability[] = []) {
  const t = pair({ routerId: localId });
  t.p.start();
  const out = t.p.primary;
  expect(t.actionsOf(out.id).map((a) => a.type)).toContain("Connect");
  t.p.handle(out.id, { type: "Tcp_CR_Acked" });
  t.p.handle(out.id, { type: "BGPOpen", message: peerOpen({}, grCaps) });
  expect(out.state).toBe("OpenConfirm");
  const inId = t.p.incoming()!;
  expect(inId).not.toBe(out.id);
  t.p.handle(inId, { type: "TcpConnectionConfirmed" });
  expect(t.p.secondary!.state).toBe("OpenSent");
  return { ...t, out, inId };
}

describe("ConnectionPair", () => {
  it("local identifier higher: the inbound connection is dumped with Cease / Collision", () => {
    const t = collidingPair("192.168.1.200"); // peer is 192.168.1.1
    const inbound = t.p.secondary!;
    t.p.handle(t.inId, { type: "BGPOpen", message: peerOpen() });
    expect(t.notificationsOf(t.inId)).toEqual([{ type: "SendNotification", code: 6, subcode: 7, data: new Uint8Array(0) }]);
    expect(inbound.state).toBe("Idle");
    expect(t.p.secondary).toBeNull();
    expect(t.p.primary).toBe(t.out);
    expect(t.notificationsOf(t.out.id)).toEqual([]);
    t.p.handle(t.out.id, { type: "KeepAliveMsg" });
    expect(t.p.established).toBe(t.out);
    expect(t.p.handle(t.inId, { type: "KeepAliveMsg" })).toBe(false);
  });

  it("local identifier lower: the outbound connection is dumped and the inbound one becomes primary", () => {
    const t = collidingPair("192.168.1.0");
    const inbound = t.p.secondary!;
    t.p.handle(t.inId, { type: "BGPOpen", message: peerOpen() });
    expect(t.notificationsOf(t.out.id)).toEqual([{ type: "SendNotification", code: 6, subcode: 7, data: new Uint8Array(0) }]);
    expect(t.actionsOf(t.out.id).at(-1)).toMatchObject({ type: "StateChanged", to: "Idle" });
    expect(t.p.primary).toBe(inbound);
    expect(t.p.secondary).toBeNull();
    expect(inbound.state).toBe("OpenConfirm");
    t.p.handle(inbound.id, { type: "KeepAliveMsg" });
    expect(t.p.established).toBe(inbound);
    // The dumped FSM's idle hold was cancelled: no redial while the inbound session lives.
    t.clock.advance(600_000 - 1);
    expect(t.log.filter((l) => l.id === t.out.id).flatMap((l) => l.actions).filter((a) => a.type === "Connect")).toHaveLength(1);
  });

  it("the promoted primary restarts by dialing after its session fails", () => {
    const t = collidingPair("192.168.1.0");
    const inbound = t.p.secondary!;
    t.p.handle(t.inId, { type: "BGPOpen", message: peerOpen() });
    t.p.handle(inbound.id, { type: "KeepAliveMsg" });
    t.p.handle(inbound.id, { type: "TcpConnectionFails" });
    expect(inbound.state).toBe("Idle");
    t.clock.advance(t.clock.nextDue()!);
    expect(inbound.state).toBe("Connect");
    expect(t.actionsOf(inbound.id).at(-1)).toEqual({ type: "Connect" });
  });

  it("the OPEN arriving first on the inbound connection: the outbound one resolves later", () => {
    const t = pair({ routerId: "192.168.1.0" });
    t.p.start();
    const out = t.p.primary;
    t.p.handle(out.id, { type: "Tcp_CR_Acked" });
    const inId = t.p.incoming()!;
    t.p.handle(inId, { type: "TcpConnectionConfirmed" });
    t.p.handle(inId, { type: "BGPOpen", message: peerOpen() }); // no collision yet: out has no OPEN
    expect(t.p.secondary!.state).toBe("OpenConfirm");
    t.p.handle(out.id, { type: "BGPOpen", message: peerOpen() });
    // Peer 192.168.1.1 > us: keep the remote-initiated (inbound) connection.
    expect(t.notificationsOf(out.id)).toMatchObject([{ code: 6, subcode: 7 }]);
    expect(t.p.primary.id).toBe(inId);
  });

  it("a collision with an Established session closes the new connection", () => {
    const t = pair();
    t.p.start();
    const out = t.p.primary;
    t.p.handle(out.id, { type: "Tcp_CR_Acked" });
    t.p.handle(out.id, { type: "BGPOpen", message: peerOpen() });
    t.p.handle(out.id, { type: "KeepAliveMsg" });
    const inId = t.p.incoming()!;
    t.p.handle(inId, { type: "TcpConnectionConfirmed" });
    t.p.handle(inId, { type: "BGPOpen", message: peerOpen() });
    expect(t.notificationsOf(inId)).toMatchObject([{ code: 6, subcode: 7 }]);
    expect(t.p.established).toBe(out);
    expect(t.p.secondary).toBeNull();
  });

  it("a graceful-restart peer reconnecting while Established replaces the old session (RFC 4724 §4.2)", () => {
    const gr: Capability[] = [{ code: 64, kind: "graceful-restart", value: { restarting: false, notification: false, restartTime: 120, families: [] } }];
    const t = pair({ gracefulRestart: { restartTime: 120 } });
    t.p.start();
    const old = t.p.primary;
    t.p.handle(old.id, { type: "Tcp_CR_Acked" });
    t.p.handle(old.id, { type: "BGPOpen", message: peerOpen({}, gr) });
    t.p.handle(old.id, { type: "KeepAliveMsg" });
    const inId = t.p.incoming()!;
    t.p.handle(inId, { type: "TcpConnectionConfirmed" });
    t.p.handle(inId, { type: "BGPOpen", message: peerOpen({}, gr) });
    expect(t.actionsOf(old.id).map((a) => a.type)).toContain("SessionDown");
    expect(t.p.primary.id).toBe(inId);
    t.p.handle(inId, { type: "KeepAliveMsg" });
    expect(t.p.established!.id).toBe(inId);
  });

  it("our own dial completing after the peer's connection is Established loses, graceful restart or not", () => {
    const gr: Capability[] = [{ code: 64, kind: "graceful-restart", value: { restarting: false, notification: false, restartTime: 120, families: [] } }];
    const t = pair({ gracefulRestart: { restartTime: 120 } });
    t.p.start();
    const out = t.p.primary;
    expect(t.actionsOf(out.id).map((a) => a.type)).toContain("Connect"); // our dial is in flight...
    const inId = t.p.incoming()!; // ...when the peer's connection arrives and comes up first
    t.p.handle(inId, { type: "TcpConnectionConfirmed" });
    t.p.handle(inId, { type: "BGPOpen", message: peerOpen({}, gr) });
    t.p.handle(inId, { type: "KeepAliveMsg" });
    expect(t.p.established!.id).toBe(inId);
    t.p.handle(out.id, { type: "Tcp_CR_Acked" });
    t.p.handle(out.id, { type: "BGPOpen", message: peerOpen({}, gr) });
    expect(t.notificationsOf(out.id)).toMatchObject([{ code: 6, subcode: 7 }]);
    expect(t.actionsOf(inId).map((a) => a.type)).not.toContain("SessionDown");
    // The Established connection is the primary before the loser goes Idle, so the session never looks down.
    expect(t.p.primary.id).toBe(inId);
    expect(t.p.secondary).toBeNull();
    expect(t.p.established!.id).toBe(inId);
    // It restarts by dialling if it fails later, like any primary.
    t.p.handle(inId, { type: "TcpConnectionFails" });
    t.clock.advance(t.clock.nextDue()!);
    expect(t.actionsOf(inId).at(-1)).toEqual({ type: "Connect" });
  });

  it("incoming(): refused while Idle, given to the primary while it waits in Active, refused when both slots are busy", () => {
    const t = pair({ passive: true });
    expect(t.p.incoming()).toBeNull();
    t.p.start();
    expect(t.p.primary.state).toBe("Active");
    const id = t.p.incoming()!;
    expect(id).toBe(t.p.primary.id);
    t.p.handle(id, { type: "TcpConnectionConfirmed" });
    expect(t.p.primary.state).toBe("OpenSent");
    const second = t.p.incoming();
    expect(second).not.toBeNull();
    t.p.handle(second!, { type: "TcpConnectionConfirmed" });
    expect(t.p.incoming()).toBeNull();
  });

  it("a secondary that fails before its OPEN is discarded and leaves the primary alone", () => {
    const t = pair();
    t.p.start();
    const inId = t.p.incoming()!; // primary is dialing
    t.p.handle(inId, { type: "TcpConnectionConfirmed" });
    t.p.handle(inId, { type: "TcpConnectionFails" });
    expect(t.p.secondary).toBeNull();
    expect(t.p.primary.state).toBe("Connect");
    expect(t.p.incoming()).not.toBeNull(); // the slot is free again
  });

  it("stop(): Cease / Administrative Shutdown on every live connection", () => {
    const t = collidingPair("192.168.1.200");
    t.p.stop("maintenance");
    expect(t.notificationsOf(t.out.id)).toMatchObject([{ code: 6, subcode: 2 }]);
    expect(t.notificationsOf(t.inId)).toMatchObject([{ code: 6, subcode: 2 }]);
    expect(t.clock.pending()).toBe(0);
  });

  it("both ends resolve the same collision to the same connection", () => {
    // We are 192.168.1.10 (ASN 64512), the peer 192.168.1.1: from our side the local-initiated connection wins.
    expect(resolveCollision({ routerId: BASE_CONFIG.routerId, asn: ASN }, { routerId: PEER_ID, asn: ASN })).toBe("keep-local-initiated");
  });
});
