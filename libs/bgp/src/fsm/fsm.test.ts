/**
 * RFC 4271 §8.2.2, state by state. Every test runs on the FakeClock; timer
 * expiry is exercised by advancing it, never by waiting.
 */
import { describe, expect, it } from "vitest";
import { OPEN_HOLD_TIME_MS, shutdownCommunication } from "./fsm.js";
import { buildOpen, keepaliveFor, negotiate, negotiateHoldTime } from "./open.js";
import { ASN, BASE_CONFIG, LOCAL_ID, PEER_ID, find, harness, harnessIn, notification, peerOpen, types } from "./test-helpers.js";
import type { FsmEvent } from "./types.js";

const UPDATE: FsmEvent = { type: "UpdateMsg", message: { type: 2, withdrawn: [], attributes: {}, nlri: [] } };

describe("Idle", () => {
  it("ManualStart: starts ConnectRetry, dials, → Connect", () => {
    const h = harness();
    const actions = h.send({ type: "ManualStart" });
    expect(types(actions)).toEqual(["StateChanged", "Connect"]);
    expect(h.fsm.state).toBe("Connect");
    expect(h.fsm.timerRunning("connectRetry")).toBe(true);
    expect(h.fsm.connectRetryCounter).toBe(0);
  });

  it("ManualStart_with_PassiveTcpEstablishment: → Active without dialing", () => {
    const h = harness();
    expect(types(h.send({ type: "ManualStart_with_PassiveTcpEstablishment" }))).toEqual(["StateChanged"]);
    expect(h.fsm.state).toBe("Active");
    expect(h.fsm.timerRunning("connectRetry")).toBe(true);
  });

  it("AutomaticStart behaves like ManualStart", () => {
    const h = harness();
    expect(types(h.send({ type: "AutomaticStart" }))).toEqual(["StateChanged", "Connect"]);
    expect(h.fsm.state).toBe("Connect");
  });

  it("passive configuration: ManualStart → Active and never dials", () => {
    const h = harness({ passive: true });
    h.send({ type: "ManualStart" });
    expect(h.fsm.state).toBe("Active");
    expect(h.fsm.timerRunning("connectRetry")).toBe(false);
    h.clock.advance(3_600_000);
    expect(h.async).toEqual([]);
  });

  it("refuses connections and ignores every other event", () => {
    const h = harness();
    expect(types(h.send({ type: "TcpConnectionConfirmed" }))).toEqual(["DropConnection"]);
    for (const e of [{ type: "KeepAliveMsg" }, { type: "HoldTimer_Expires" }, { type: "ManualStop" }, UPDATE] as FsmEvent[]) {
      expect(h.send(e)).toEqual([]);
      expect(h.fsm.state).toBe("Idle");
    }
  });

  it("does not restart before the first ManualStart", () => {
    const h = harness();
    h.clock.advance(600_000);
    expect(h.fsm.state).toBe("Idle");
    expect(h.clock.pending()).toBe(0);
  });
});

describe("Connect", () => {
  it("ManualStop: abandons the dial, → Idle, no NOTIFICATION, no restart", () => {
    const h = harnessIn("Connect");
    expect(types(h.send({ type: "ManualStop" }))).toEqual(["DropConnection", "StateChanged"]);
    expect(h.fsm.state).toBe("Idle");
    expect(h.clock.pending()).toBe(0);
  });

  it("ConnectRetryTimer_Expires: redials and stays in Connect", () => {
    const h = harnessIn("Connect", { connectRetryTime: 5 });
    h.clock.advance(5_000);
    expect(types(h.async)).toEqual(["DropConnection", "Connect"]);
    expect(h.fsm.state).toBe("Connect");
    expect(h.fsm.timerRunning("connectRetry")).toBe(true);
  });

  it("Tcp_CR_Acked: sends OPEN with our capabilities, large hold timer, → OpenSent", () => {
    const h = harnessIn("Connect", { families: [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }], gracefulRestart: { restartTime: 120 } });
    const actions = h.send({ type: "Tcp_CR_Acked" });
    expect(types(actions)).toEqual(["SendOpen", "StateChanged"]);
    const open = find(actions, "SendOpen")!.message;
    expect(open).toMatchObject({ myAsn: ASN, holdTime: 90, routerId: LOCAL_ID, version: 4 });
    expect(open.capabilities.map((c) => c.kind)).toEqual(["multiprotocol", "multiprotocol", "route-refresh", "extended-message", "graceful-restart", "four-octet-as"]);
    expect(h.fsm.state).toBe("OpenSent");
    expect(h.fsm.locallyInitiated).toBe(true);
    expect(h.fsm.timerRunning("connectRetry")).toBe(false);
    // The hold timer is the 4-minute one.
    h.clock.advance(OPEN_HOLD_TIME_MS - 1);
    expect(h.fsm.state).toBe("OpenSent");
  });

  it("TcpConnectionConfirmed: adopts the inbound connection, → OpenSent", () => {
    const h = harnessIn("Connect");
    expect(types(h.send({ type: "TcpConnectionConfirmed" }))).toEqual(["SendOpen", "StateChanged"]);
    expect(h.fsm.locallyInitiated).toBe(false);
  });

  it("TcpConnectionFails: → Idle, then restarts after the idle hold", () => {
    const h = harnessIn("Connect");
    expect(types(h.send({ type: "TcpConnectionFails" }))).toEqual(["DropConnection", "StateChanged"]);
    expect(h.fsm.state).toBe("Idle");
    expect(h.fsm.connectRetryCounter).toBe(1);
    h.clock.advance(999);
    expect(h.fsm.state).toBe("Idle");
    h.clock.advance(1);
    expect(h.fsm.state).toBe("Connect");
    expect(types(h.async)).toEqual(["StateChanged", "Connect"]);
  });

  it("TcpConnection_Valid is processed without a state change; start events are ignored", () => {
    const h = harnessIn("Connect");
    expect(h.send({ type: "TcpConnection_Valid" })).toEqual([]);
    expect(h.send({ type: "ManualStart" })).toEqual([]);
    expect(h.fsm.state).toBe("Connect");
  });

  it("any other event: → Idle with the counter incremented", () => {
    const h = harnessIn("Connect");
    h.send({ type: "KeepAliveMsg" });
    expect(h.fsm.state).toBe("Idle");
    expect(h.fsm.connectRetryCounter).toBe(1);
  });
});

describe("Active", () => {
  it("ConnectRetryTimer_Expires: dials, → Connect", () => {
    const h = harness({ connectRetryTime: 10 });
    h.send({ type: "ManualStart_with_PassiveTcpEstablishment" });
    h.clock.advance(10_000);
    expect(types(h.async)).toEqual(["StateChanged", "Connect"]);
    expect(h.fsm.state).toBe("Connect");
  });

  it("TcpConnectionConfirmed: → OpenSent", () => {
    const h = harness({ passive: true });
    h.send({ type: "ManualStart" });
    expect(types(h.send({ type: "TcpConnectionConfirmed" }))).toEqual(["SendOpen", "StateChanged"]);
    expect(h.fsm.state).toBe("OpenSent");
  });

  it("TcpConnectionFails: → Idle", () => {
    const h = harness();
    h.send({ type: "ManualStart_with_PassiveTcpEstablishment" });
    h.send({ type: "TcpConnectionFails" });
    expect(h.fsm.state).toBe("Idle");
  });

  it("ManualStop: → Idle, no restart", () => {
    const h = harness();
    h.send({ type: "ManualStart_with_PassiveTcpEstablishment" });
    expect(types(h.send({ type: "ManualStop" }))).toEqual(["StateChanged"]);
    expect(h.clock.pending()).toBe(0);
  });

  it("any other event: → Idle", () => {
    const h = harness();
    h.send({ type: "ManualStart_with_PassiveTcpEstablishment" });
    h.send(UPDATE);
    expect(h.fsm.state).toBe("Idle");
    expect(h.fsm.connectRetryCounter).toBe(1);
  });
});

describe("OpenSent", () => {
  it("valid OPEN: KEEPALIVE, negotiated timers, → OpenConfirm", () => {
    const h = harnessIn("OpenSent");
    const actions = h.send({ type: "BGPOpen", message: peerOpen() });
    expect(types(actions)).toEqual(["SendKeepalive", "StateChanged"]);
    expect(h.fsm.state).toBe("OpenConfirm");
    expect(h.fsm.negotiated).toMatchObject({ holdTime: 90, keepaliveTime: 30, ibgp: true, peerRouterId: PEER_ID, routeRefresh: true });
    expect(h.fsm.timerRunning("hold")).toBe(true);
    expect(h.fsm.timerRunning("keepalive")).toBe(true);
  });

  it.each([1, 2])("hold time %i: OPEN Message Error / Unacceptable Hold Time", (holdTime) => {
    const h = harnessIn("OpenSent");
    const actions = h.send({ type: "BGPOpen", message: peerOpen({ holdTime }) });
    expect(find(actions, "SendNotification")).toMatchObject({ code: 2, subcode: 6 });
    expect(types(actions)).toEqual(["SendNotification", "DropConnection", "StateChanged"]);
    expect(h.fsm.state).toBe("Idle");
  });

  it("peer AS mismatch (4-octet capability): Bad Peer AS", () => {
    const h = harnessIn("OpenSent");
    const actions = h.send({ type: "BGPOpen", message: peerOpen({ myAsn: 64513 }) });
    expect(find(actions, "SendNotification")).toMatchObject({ code: 2, subcode: 2 });
  });

  it("4-octet peer AS: accepted via the capability with AS_TRANS in My AS", () => {
    const h = harnessIn("OpenSent", { localAsn: 65000, peerAsn: 4200000001 });
    const open = peerOpen({}, []);
    open.myAsn = 23456;
    open.capabilities = [{ code: 65, kind: "four-octet-as", asn: 4200000001 }];
    h.send({ type: "BGPOpen", message: open });
    expect(h.fsm.state).toBe("OpenConfirm");
    expect(h.fsm.negotiated).toMatchObject({ peerAsn: 4200000001, fourOctetAs: true, ibgp: false });
  });

  it("4-octet peer AS without the capability: AS_TRANS mismatches, Bad Peer AS", () => {
    const h = harnessIn("OpenSent", { localAsn: 65000, peerAsn: 4200000001 });
    const actions = h.send({ type: "BGPOpen", message: { ...peerOpen(), myAsn: 23456, capabilities: [] } });
    expect(find(actions, "SendNotification")).toMatchObject({ code: 2, subcode: 2 });
  });

  it("2-octet peer without the 4-octet capability: AS from My AS, fourOctetAs false", () => {
    const h = harnessIn("OpenSent");
    h.send({ type: "BGPOpen", message: { ...peerOpen(), capabilities: [] } });
    expect(h.fsm.negotiated).toMatchObject({ peerAsn: ASN, fourOctetAs: false, families: [{ afi: 1, safi: 1 }] });
  });

  it("iBGP peer with our BGP identifier: Bad BGP Identifier", () => {
    const h = harnessIn("OpenSent");
    const actions = h.send({ type: "BGPOpen", message: peerOpen({ routerId: LOCAL_ID }) });
    expect(find(actions, "SendNotification")).toMatchObject({ code: 2, subcode: 3 });
  });

  it("eBGP peer with our BGP identifier is accepted (RFC 6286)", () => {
    const h = harnessIn("OpenSent", { peerAsn: 65001 });
    h.send({ type: "BGPOpen", message: peerOpen({ routerId: LOCAL_ID, myAsn: 65001 }) });
    expect(h.fsm.state).toBe("OpenConfirm");
  });

  it("unsupported version: OPEN Message Error / Unsupported Version Number with our version", () => {
    const h = harnessIn("OpenSent");
    const actions = h.send({ type: "BGPOpen", message: peerOpen({ version: 3 }) });
    expect(find(actions, "SendNotification")).toMatchObject({ code: 2, subcode: 1, data: Uint8Array.of(0, 4) });
  });

  it("BGPHeaderErr / BGPOpenMsgErr: the codec's NOTIFICATION, → Idle", () => {
    for (const type of ["BGPHeaderErr", "BGPOpenMsgErr"] as const) {
      const h = harnessIn("OpenSent");
      const actions = h.send({ type, error: { code: type === "BGPHeaderErr" ? 1 : 2, subcode: 2, data: Uint8Array.of(0, 5) } });
      expect(find(actions, "SendNotification")).toEqual({ type: "SendNotification", code: type === "BGPHeaderErr" ? 1 : 2, subcode: 2, data: Uint8Array.of(0, 5) });
      expect(h.fsm.state).toBe("Idle");
      expect(h.fsm.connectRetryCounter).toBe(1);
    }
  });

  it("HoldTimer_Expires (4 minutes without an OPEN): Hold Timer Expired, → Idle", () => {
    const h = harnessIn("OpenSent");
    h.clock.advance(OPEN_HOLD_TIME_MS);
    expect(find(h.async, "SendNotification")).toMatchObject({ code: 4, subcode: 0 });
    expect(h.fsm.state).toBe("Idle");
  });

  it("TcpConnectionFails: → Active with ConnectRetry re-armed", () => {
    const h = harnessIn("OpenSent");
    expect(types(h.send({ type: "TcpConnectionFails" }))).toEqual(["DropConnection", "StateChanged"]);
    expect(h.fsm.state).toBe("Active");
    expect(h.fsm.timerRunning("connectRetry")).toBe(true);
    expect(h.fsm.timerRunning("hold")).toBe(false);
  });

  it("ManualStop: Cease / Administrative Shutdown with the RFC 8203 message, no restart", () => {
    const h = harnessIn("OpenSent");
    const actions = h.send({ type: "ManualStop", shutdownMessage: "maintenance" });
    expect(find(actions, "SendNotification")).toMatchObject({ code: 6, subcode: 2, data: shutdownCommunication("maintenance") });
    expect(h.fsm.state).toBe("Idle");
    expect(h.clock.pending()).toBe(0);
  });

  it("AutomaticStop: Cease with the given subcode", () => {
    const h = harnessIn("OpenSent");
    expect(find(h.send({ type: "AutomaticStop", subcode: 1 }), "SendNotification")).toMatchObject({ code: 6, subcode: 1 });
  });

  it("OpenCollisionDump: Cease / Connection Collision Resolution", () => {
    const h = harnessIn("OpenSent");
    expect(find(h.send({ type: "OpenCollisionDump" }), "SendNotification")).toMatchObject({ code: 6, subcode: 7 });
    expect(h.fsm.state).toBe("Idle");
  });

  it("NotifMsgVerErr: → Idle without sending anything", () => {
    const h = harnessIn("OpenSent");
    expect(types(h.send({ type: "NotifMsgVerErr", message: notification(2, 1) }))).toEqual(["DropConnection", "StateChanged"]);
    expect(h.fsm.connectRetryCounter).toBe(0);
  });

  it("NotifMsg: → Idle without answering with a NOTIFICATION", () => {
    const h = harnessIn("OpenSent");
    expect(types(h.send({ type: "NotifMsg", message: notification(6, 4) }))).toEqual(["DropConnection", "StateChanged"]);
  });

  it("unexpected message (KEEPALIVE): FSM Error / unexpected in OpenSent", () => {
    const h = harnessIn("OpenSent");
    expect(find(h.send({ type: "KeepAliveMsg" }), "SendNotification")).toMatchObject({ code: 5, subcode: 1 });
    expect(h.fsm.state).toBe("Idle");
  });

  it("a second connection's events are left to the ConnectionPair", () => {
    const h = harnessIn("OpenSent");
    expect(h.send({ type: "TcpConnectionConfirmed" })).toEqual([]);
    expect(h.fsm.state).toBe("OpenSent");
  });
});

describe("OpenConfirm", () => {
  it("KEEPALIVE: → Established with the negotiated session", () => {
    const h = harnessIn("OpenConfirm");
    const actions = h.send({ type: "KeepAliveMsg" });
    expect(types(actions)).toEqual(["StateChanged", "SessionEstablished"]);
    expect(find(actions, "SessionEstablished")!.session).toMatchObject({ holdTime: 90, keepaliveTime: 30, families: [{ afi: 1, safi: 1 }] });
  });

  it("KeepaliveTimer_Expires: sends KEEPALIVE and re-arms", () => {
    const h = harnessIn("OpenConfirm");
    h.clock.advance(30_000);
    expect(types(h.async)).toEqual(["SendKeepalive"]);
    h.clock.advance(30_000);
    expect(types(h.async)).toEqual(["SendKeepalive", "SendKeepalive"]);
  });

  it("HoldTimer_Expires: Hold Timer Expired, → Idle", () => {
    const h = harnessIn("OpenConfirm");
    h.clock.advance(90_000);
    expect(find(h.async, "SendNotification")).toMatchObject({ code: 4, subcode: 0 });
    expect(h.fsm.state).toBe("Idle");
  });

  it("NotifMsg / TcpConnectionFails: → Idle", () => {
    for (const e of [{ type: "NotifMsg", message: notification(6, 2) }, { type: "TcpConnectionFails" }] as FsmEvent[]) {
      const h = harnessIn("OpenConfirm");
      expect(types(h.send(e))).toEqual(["DropConnection", "StateChanged"]);
      expect(h.fsm.connectRetryCounter).toBe(1);
    }
  });

  it("NotifMsgVerErr: → Idle", () => {
    const h = harnessIn("OpenConfirm");
    h.send({ type: "NotifMsgVerErr", message: notification(2, 1) });
    expect(h.fsm.state).toBe("Idle");
  });

  it("ManualStop: Cease / Administrative Shutdown", () => {
    const h = harnessIn("OpenConfirm");
    expect(find(h.send({ type: "ManualStop" }), "SendNotification")).toMatchObject({ code: 6, subcode: 2, data: new Uint8Array(0) });
  });

  it("OpenCollisionDump: Cease / Connection Collision Resolution", () => {
    const h = harnessIn("OpenConfirm");
    expect(find(h.send({ type: "OpenCollisionDump" }), "SendNotification")).toMatchObject({ code: 6, subcode: 7 });
  });

  it("BGPOpenMsgErr: the codec's NOTIFICATION", () => {
    const h = harnessIn("OpenConfirm");
    expect(find(h.send({ type: "BGPOpenMsgErr", error: { code: 2, subcode: 4 } }), "SendNotification")).toMatchObject({ code: 2, subcode: 4 });
  });

  it("UPDATE or a second OPEN: FSM Error / unexpected in OpenConfirm", () => {
    for (const e of [UPDATE, { type: "BGPOpen", message: peerOpen() }] as FsmEvent[]) {
      const h = harnessIn("OpenConfirm");
      expect(find(h.send(e), "SendNotification")).toMatchObject({ code: 5, subcode: 2 });
    }
  });
});

describe("Established", () => {
  it("KEEPALIVE and UPDATE restart the hold timer", () => {
    const h = harnessIn("Established");
    h.clock.advance(80_000);
    h.send({ type: "KeepAliveMsg" });
    h.clock.advance(80_000);
    h.send(UPDATE);
    h.clock.advance(80_000);
    expect(h.fsm.state).toBe("Established");
  });

  it("UpdateMsg: delivered, with the codec's treat-as-withdraw", () => {
    const h = harnessIn("Established");
    const message = { type: 2 as const, withdrawn: [], attributes: {}, nlri: ["10.0.0.0/8"] };
    expect(h.send({ type: "UpdateMsg", message, action: "treat-as-withdraw" })).toEqual([{ type: "DeliverUpdate", message, treatAsWithdraw: true }]);
  });

  it("RouteRefresh: delivered", () => {
    const h = harnessIn("Established");
    expect(h.send({ type: "RouteRefresh", message: { type: 5, afi: 2, safi: 1 } })).toEqual([{ type: "DeliverRouteRefresh", afi: 2, safi: 1 }]);
  });

  it("KeepaliveTimer_Expires: periodic KEEPALIVEs at a third of the hold time", () => {
    const h = harnessIn("Established", { holdTime: 9 });
    h.clock.advance(8_999);
    expect(types(h.async)).toEqual(["SendKeepalive", "SendKeepalive"]);
  });

  it("HoldTimer_Expires: Hold Timer Expired, SessionDown, → Idle", () => {
    const h = harnessIn("Established", { holdTime: 9 });
    h.clock.advance(9_000);
    const down = find(h.async, "SessionDown")!;
    expect(down.reason).toBe("hold timer expired");
    expect(down.notificationSent).toMatchObject({ code: 4, subcode: 0 });
    expect(types(h.async).slice(-4)).toEqual(["SendNotification", "DropConnection", "SessionDown", "StateChanged"]);
  });

  it("UpdateMsgErr: the UPDATE Message Error, SessionDown", () => {
    const h = harnessIn("Established");
    const actions = h.send({ type: "UpdateMsgErr", error: { code: 3, subcode: 1 } });
    expect(types(actions)).toEqual(["SendNotification", "DropConnection", "SessionDown", "StateChanged"]);
    expect(find(actions, "SendNotification")).toMatchObject({ code: 3, subcode: 1 });
  });

  it("NotifMsg: SessionDown carrying the received NOTIFICATION, no reply", () => {
    const h = harnessIn("Established");
    const received = notification(6, 4);
    const actions = h.send({ type: "NotifMsg", message: received });
    expect(types(actions)).toEqual(["DropConnection", "SessionDown", "StateChanged"]);
    expect(find(actions, "SessionDown")!.notificationReceived).toBe(received);
  });

  it("TcpConnectionFails: SessionDown, → Idle, restarts after the idle hold", () => {
    const h = harnessIn("Established");
    expect(types(h.send({ type: "TcpConnectionFails" }))).toEqual(["DropConnection", "SessionDown", "StateChanged"]);
    h.clock.advance(1_000);
    expect(h.fsm.state).toBe("Connect");
  });

  it("ManualStop: Cease / Administrative Shutdown, SessionDown, no restart", () => {
    const h = harnessIn("Established");
    const actions = h.send({ type: "ManualStop", shutdownMessage: "bye" });
    expect(types(actions)).toEqual(["SendNotification", "DropConnection", "SessionDown", "StateChanged"]);
    expect(find(actions, "SendNotification")).toMatchObject({ code: 6, subcode: 2, data: Uint8Array.of(3, 98, 121, 101) });
    expect(h.clock.pending()).toBe(0);
    expect(h.fsm.connectRetryCounter).toBe(0);
  });

  it("OpenCollisionDump: Cease / Connection Collision Resolution", () => {
    const h = harnessIn("Established");
    expect(find(h.send({ type: "OpenCollisionDump" }), "SendNotification")).toMatchObject({ code: 6, subcode: 7 });
  });

  it("an OPEN on the established connection: FSM Error / unexpected in Established", () => {
    const h = harnessIn("Established");
    expect(find(h.send({ type: "BGPOpen", message: peerOpen() }), "SendNotification")).toMatchObject({ code: 5, subcode: 3 });
  });

  it("BGPHeaderErr: the codec's Message Header Error", () => {
    const h = harnessIn("Established");
    expect(find(h.send({ type: "BGPHeaderErr", error: { code: 1, subcode: 1 } }), "SendNotification")).toMatchObject({ code: 1, subcode: 1 });
  });
});

describe("timers and negotiation", () => {
  it("hold time 0 on either side: no keepalives, no hold timer", () => {
    const h = harnessIn("Established", {}, peerOpen({ holdTime: 0 }));
    expect(h.fsm.negotiated).toMatchObject({ holdTime: 0, keepaliveTime: 0 });
    expect(h.fsm.timerRunning("hold")).toBe(false);
    expect(h.fsm.timerRunning("keepalive")).toBe(false);
    h.clock.advance(24 * 3_600_000);
    expect(h.async).toEqual([]);
    expect(h.fsm.state).toBe("Established");
  });

  it("3 s keepalive / 9 s hold against a peer offering 90", () => {
    const h = harnessIn("Established", { holdTime: 9, keepaliveTime: 3 });
    expect(h.fsm.negotiated).toMatchObject({ holdTime: 9, keepaliveTime: 3 });
  });

  it("the peer's smaller hold time wins and caps a configured keepalive", () => {
    const h = harnessIn("Established", { holdTime: 90, keepaliveTime: 30 }, peerOpen({ holdTime: 9 }));
    expect(h.fsm.negotiated).toMatchObject({ holdTime: 9, keepaliveTime: 3 });
  });

  it("helpers", () => {
    expect(negotiateHoldTime(90, 0)).toBe(0);
    expect(negotiateHoldTime(9, 90)).toBe(9);
    expect(keepaliveFor(3)).toBe(1);
    expect(keepaliveFor(90, 10)).toBe(10);
    expect(keepaliveFor(0, 10)).toBe(0);
  });

  it("families: intersection; IPv4 unicast implied when the peer sends no multiprotocol capability", () => {
    const config = { ...BASE_CONFIG, families: [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }] };
    const local = buildOpen(config, false);
    const both = negotiate(config, local, peerOpen({}, [{ code: 1, kind: "multiprotocol", afi: 2, safi: 1 }]));
    expect(both.families).toEqual([{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }]);
    const v6only = negotiate(config, local, { ...peerOpen(), capabilities: [{ code: 1, kind: "multiprotocol", afi: 2, safi: 1 }] });
    expect(v6only.families).toEqual([{ afi: 2, safi: 1 }]);
    const none = negotiate(config, local, { ...peerOpen(), capabilities: [] });
    expect(none.families).toEqual([{ afi: 1, safi: 1 }]);
    expect(none).toMatchObject({ routeRefresh: false, extendedMessage: false, fourOctetAs: false, gracefulRestart: false });
  });

  it("graceful restart, extended message and unknown capabilities", () => {
    const config = { ...BASE_CONFIG, gracefulRestart: { restartTime: 120 } };
    const peerGr = { restarting: true, notification: true, restartTime: 90, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] };
    const open = peerOpen({}, [
      { code: 64, kind: "graceful-restart", value: peerGr },
      { code: 6, kind: "extended-message" },
      { code: 73, kind: "unknown", data: Uint8Array.of(1) },
    ]);
    const session = negotiate(config, buildOpen(config, false), open);
    expect(session).toMatchObject({ gracefulRestart: true, peerGracefulRestart: peerGr, extendedMessage: true, codec: { fourOctetAs: true, extendedMessage: true } });
    expect(session.peerCapabilities).toHaveLength(6);
  });

  it("the R bit is sent until the first Established session, then cleared", () => {
    const config = { gracefulRestart: { restartTime: 120, restarting: true } };
    const grOf = (actions: ReturnType<typeof h.send>) => {
      const cap = find(actions, "SendOpen")!.message.capabilities.find((c) => c.kind === "graceful-restart");
      return cap && cap.kind === "graceful-restart" ? cap.value.restarting : undefined;
    };
    const h = harnessIn("Connect", config);
    expect(grOf(h.send({ type: "Tcp_CR_Acked" }))).toBe(true);
    h.sendAll({ type: "BGPOpen", message: peerOpen() }, { type: "KeepAliveMsg" }, { type: "TcpConnectionFails" });
    h.clock.advance(1_000);
    expect(grOf(h.send({ type: "Tcp_CR_Acked" }))).toBe(false);
  });

  it("4-octet local AS: AS_TRANS in My AS and the real one in the capability", () => {
    const open = buildOpen({ ...BASE_CONFIG, localAsn: 4200000000 }, false);
    expect(open.myAsn).toBe(23456);
    expect(open.capabilities).toContainEqual({ code: 65, kind: "four-octet-as", asn: 4200000000 });
  });

  it("shutdown communication is cut to 255 octets at a character boundary", () => {
    const data = shutdownCommunication("é".repeat(200));
    expect(data[0]).toBe(254);
    expect(new TextDecoder("utf-8", { fatal: true }).decode(data.subarray(1))).toBe("é".repeat(127));
  });
});

describe("idle-hold backoff", () => {
  /** Fails the connection from Connect and returns the idle hold that followed. */
  function failAndMeasure(h: ReturnType<typeof harness>): number {
    h.send({ type: "TcpConnectionFails" });
    expect(h.fsm.state).toBe("Idle");
    const delay = h.clock.nextDue()!;
    h.clock.advance(delay);
    expect(h.fsm.state).toBe("Connect");
    return delay;
  }

  it("doubles from 1 s to a 60 s ceiling", () => {
    const h = harnessIn("Connect");
    const delays = Array.from({ length: 9 }, () => failAndMeasure(h));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it("takes its jitter from the injected random source", () => {
    const h = harnessIn("Connect", { random: () => 0.5 });
    expect(failAndMeasure(h)).toBe(875);
  });

  it("resets after a stable Established period, not after a short one", () => {
    const h = harnessIn("Connect");
    failAndMeasure(h);
    failAndMeasure(h);
    const establish = () => h.sendAll({ type: "Tcp_CR_Acked" }, { type: "BGPOpen", message: peerOpen() }, { type: "KeepAliveMsg" });
    establish();
    h.clock.advance(10_000);
    h.send({ type: "KeepAliveMsg" });
    expect(failAndMeasure(h)).toBe(4_000); // 10 s is not stable
    establish();
    for (let i = 0; i < 3; i++) {
      h.clock.advance(25_000);
      h.send({ type: "KeepAliveMsg" });
    }
    expect(failAndMeasure(h)).toBe(1_000);
  });

  it("AutomaticStart waits for a running idle hold; ManualStart does not", () => {
    const h = harnessIn("Connect");
    h.send({ type: "TcpConnectionFails" });
    expect(h.send({ type: "AutomaticStart" })).toEqual([]);
    expect(h.fsm.state).toBe("Idle");
    h.send({ type: "ManualStart" });
    expect(h.fsm.state).toBe("Connect");
  });

  it("ManualStop in Idle cancels the pending restart", () => {
    const h = harnessIn("Connect");
    h.send({ type: "TcpConnectionFails" });
    h.send({ type: "ManualStop" });
    expect(h.clock.pending()).toBe(0);
  });

  it("automaticStart false: stays Idle after an error", () => {
    const h = harnessIn("Connect", { automaticStart: false });
    h.send({ type: "TcpConnectionFails" });
    expect(h.clock.pending()).toBe(0);
  });
});

describe("configuration", () => {
  it.each([1, 2, -1, 70_000, 2.5])("rejects hold time %s", (holdTime) => {
    expect(() => harness({ holdTime })).toThrow(RangeError);
  });
});
