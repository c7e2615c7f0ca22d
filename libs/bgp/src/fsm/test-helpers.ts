/** Shared fixtures for the FSM tests (not exported from the package). */
import type { Capability, NotificationMessage, OpenMessage } from "../codec/types.js";
import { FakeClock } from "./clock.js";
import { Fsm } from "./fsm.js";
import type { FsmAction, FsmConfig, FsmEvent, State } from "./types.js";

export const LOCAL_ID = "192.168.1.10";
export const PEER_ID = "192.168.1.1";
export const ASN = 64512;

export const BASE_CONFIG: FsmConfig = { localAsn: ASN, routerId: LOCAL_ID, peerAsn: ASN, random: () => 0 };

export function peerOpen(overrides: Partial<OpenMessage> = {}, extraCaps: Capability[] = []): OpenMessage {
  const asn = overrides.myAsn ?? ASN;
  return {
    type: 1,
    version: 4,
    myAsn: asn,
    holdTime: 90,
    routerId: PEER_ID,
    capabilities: [
      { code: 1, kind: "multiprotocol", afi: 1, safi: 1 },
      { code: 2, kind: "route-refresh" },
      { code: 65, kind: "four-octet-as", asn },
      ...extraCaps,
    ],
    ...overrides,
  };
}

export function notification(code: number, subcode: number): NotificationMessage {
  return { type: 3, code, subcode, data: new Uint8Array(0) };
}

export interface Harness {
  clock: FakeClock;
  fsm: Fsm;
  /** Actions produced by timer expiries (the sink). */
  async: FsmAction[];
  /** Feeds an event and returns its actions. */
  send(event: FsmEvent): FsmAction[];
  /** Feeds several events, returning the last one's actions. */
  sendAll(...events: FsmEvent[]): FsmAction[];
}

export function harness(overrides: Partial<FsmConfig> = {}): Harness {
  const clock = new FakeClock();
  const async: FsmAction[] = [];
  const fsm = new Fsm({ ...BASE_CONFIG, ...overrides }, clock, (actions) => async.push(...actions));
  const send = (event: FsmEvent) => fsm.handle(event);
  return {
    clock,
    fsm,
    async,
    send,
    sendAll: (...events) => {
      let last: FsmAction[] = [];
      for (const e of events) last = send(e);
      return last;
    },
  };
}

const PATH: Record<Exclude<State, "Idle" | "Active">, FsmEvent[]> = {
  Connect: [{ type: "ManualStart" }],
  OpenSent: [{ type: "ManualStart" }, { type: "Tcp_CR_Acked" }],
  OpenConfirm: [{ type: "ManualStart" }, { type: "Tcp_CR_Acked" }, { type: "BGPOpen", message: peerOpen() }],
  Established: [{ type: "ManualStart" }, { type: "Tcp_CR_Acked" }, { type: "BGPOpen", message: peerOpen() }, { type: "KeepAliveMsg" }],
};

/** A harness already in `state`, reached through the normal active-open path. */
export function harnessIn(state: keyof typeof PATH, overrides: Partial<FsmConfig> = {}, open?: OpenMessage): Harness {
  const h = harness(overrides);
  for (const e of PATH[state]) h.send(e.type === "BGPOpen" && open ? { type: "BGPOpen", message: open } : e);
  if (h.fsm.state !== state) throw new Error(`expected ${state}, got ${h.fsm.state}`);
  return h;
}

export const types = (actions: FsmAction[]) => actions.map((a) => a.type);

export function find<T extends FsmAction["type"]>(actions: FsmAction[], type: T): Extract<FsmAction, { type: T }> | undefined {
  return actions.find((a) => a.type === type) as Extract<FsmAction, { type: T }> | undefined;
}
