/** Two FSMs talking through the real codec: our OPEN encodes, decodes, validates and negotiates. */
import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage } from "../codec/index.js";
import type { BgpMessage, OpenMessage } from "../codec/types.js";
import { FakeClock } from "./clock.js";
import { Fsm } from "./fsm.js";
import type { FsmAction, FsmConfig, FsmEvent } from "./types.js";

function wire(message: BgpMessage): BgpMessage {
  const decoded = decodeMessage(encodeMessage(message));
  if (!decoded.ok) throw new Error(JSON.stringify(decoded.error));
  return decoded.message;
}

/** Delivers each side's sent messages to the other until both are quiet. */
function converse(a: Fsm, b: Fsm, first: FsmAction[], second: FsmAction[]): void {
  const queue: Array<[Fsm, FsmAction[]]> = [[b, first], [a, second]];
  while (queue.length > 0) {
    const [to, actions] = queue.shift()!;
    const from = to === a ? b : a;
    for (const action of actions) {
      let event: FsmEvent | undefined;
      if (action.type === "SendOpen") event = { type: "BGPOpen", message: wire(action.message) as OpenMessage };
      else if (action.type === "SendKeepalive") event = { type: "KeepAliveMsg" };
      if (event) queue.push([from, to.handle(event)]);
    }
  }
}

describe("FSM ↔ codec", () => {
  it("two speakers (4-octet eBGP, both families, GR) reach Established with matching views", () => {
    const clock = new FakeClock();
    const families = [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }];
    const left: FsmConfig = { localAsn: 4200000001, peerAsn: 65001, routerId: "10.0.0.1", holdTime: 9, families, gracefulRestart: { restartTime: 120 } };
    const right: FsmConfig = { localAsn: 65001, peerAsn: 4200000001, routerId: "10.0.0.2", families: [families[0]], random: () => 0 };
    const a = new Fsm(left, clock);
    const b = new Fsm(right, clock);
    a.handle({ type: "ManualStart" });
    b.handle({ type: "ManualStart_with_PassiveTcpEstablishment" });
    converse(a, b, a.handle({ type: "Tcp_CR_Acked" }), b.handle({ type: "TcpConnectionConfirmed" }));
    expect(a.state).toBe("Established");
    expect(b.state).toBe("Established");
    expect(a.negotiated).toMatchObject({ peerAsn: 65001, holdTime: 9, keepaliveTime: 3, families: [{ afi: 1, safi: 1 }], fourOctetAs: true, gracefulRestart: false });
    expect(b.negotiated).toMatchObject({ peerAsn: 4200000001, holdTime: 9, ibgp: false, peerGracefulRestart: { restartTime: 120, restarting: false } });
    a.dispose();
    b.dispose();
  });
});

describe("eventFromDecoded", () => {
  it("maps messages and errors onto RFC 4271 events", async () => {
    const { eventFromDecoded } = await import("./events.js");
    const decode = (m: BgpMessage) => decodeMessage(encodeMessage(m));
    expect(eventFromDecoded(decode({ type: 4 })).type).toBe("KeepAliveMsg");
    expect(eventFromDecoded(decode({ type: 5, afi: 1, safi: 1 })).type).toBe("RouteRefresh");
    expect(eventFromDecoded(decode({ type: 3, code: 6, subcode: 2, data: new Uint8Array(0) })).type).toBe("NotifMsg");
    expect(eventFromDecoded(decode({ type: 3, code: 2, subcode: 1, data: Uint8Array.of(0, 4) })).type).toBe("NotifMsgVerErr");
    expect(eventFromDecoded(decode({ type: 2, withdrawn: ["10.0.0.0/8"], attributes: {}, nlri: [] })).type).toBe("UpdateMsg");
    const garbage = new Uint8Array(19).fill(0);
    expect(eventFromDecoded(decodeMessage(garbage))).toMatchObject({ type: "BGPHeaderErr", error: { code: 1 } });
    expect(eventFromDecoded({ ok: false, error: { code: 3, subcode: 1 } })).toMatchObject({ type: "UpdateMsgErr" });
    expect(eventFromDecoded({ ok: false, error: { code: 2, subcode: 2 } })).toMatchObject({ type: "BGPOpenMsgErr" });
  });
});
