/** Session and intent data → SpeakerService messages. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { RibTable, SessionState, type PeerStatusSchema, type RibRouteSchema, type Route } from "@svcbgp/api";
import type { ManagedPeer } from "../peers/reconciler.js";
import type { MessageCounts, RibEntry, SessionStateName } from "../peers/session-api.js";

export type PeerStatusInit = MessageInitShape<typeof PeerStatusSchema>;
export type RibRouteInit = MessageInitShape<typeof RibRouteSchema>;

const STATES: Record<SessionStateName, SessionState> = {
  Idle: SessionState.IDLE,
  Connect: SessionState.CONNECT,
  Active: SessionState.ACTIVE,
  OpenSent: SessionState.OPEN_SENT,
  OpenConfirm: SessionState.OPEN_CONFIRM,
  Established: SessionState.ESTABLISHED,
};

export function sessionState(name: SessionStateName): SessionState {
  return STATES[name] ?? SessionState.UNSPECIFIED;
}

function counters(c: MessageCounts) {
  return { opens: BigInt(c.opens), updates: BigInt(c.updates), notifications: BigInt(c.notifications), keepalives: BigInt(c.keepalives), routeRefreshes: BigInt(c.routeRefreshes) };
}

export function peerStatus(m: ManagedPeer): PeerStatusInit {
  const base = {
    address: m.options?.peerAddress ?? m.peer.address,
    port: m.options?.peerPort ?? (m.peer.port || 179),
    asn: m.peer.asn,
    localAsn: m.options?.localAsn ?? m.peer.localAsn,
    name: m.peer.name,
  };
  if (!m.session) {
    return { ...base, state: SessionState.IDLE, stateSince: timestampFromMs(m.since), lastError: m.refused ?? "" };
  }
  const s = m.session.status();
  return {
    ...base,
    asn: s.peerAsn,
    localAsn: s.localAsn,
    localAddress: s.localAddress ?? "",
    state: sessionState(s.state),
    stateSince: timestampFromMs(s.stateSince),
    lastError: s.lastError ?? "",
    negotiatedHoldTime: s.negotiatedHoldTime ?? 0,
    capabilities: [...s.capabilities],
    sent: counters(s.sent),
    received: counters(s.received),
    prefixesSent: s.prefixesSent,
    prefixesReceived: s.prefixesReceived,
    peerRouterId: s.peerRouterId ?? "",
  };
}

export function ribRoute(table: RibTable, peer: string, e: RibEntry): RibRouteInit {
  return {
    table,
    peer,
    prefix: e.prefix,
    nextHop: e.nextHop,
    asPath: [...e.asPath],
    origin: e.origin,
    med: e.med,
    localPref: e.localPref,
    communities: [...e.communities],
    largeCommunities: [...e.largeCommunities],
    stale: e.stale,
  };
}

export function intentRibRoute(route: Route): RibRouteInit {
  return {
    table: RibTable.INTENT,
    prefix: route.prefix,
    nextHop: route.nextHop,
    localPref: route.localPref,
    communities: [...route.communities],
    largeCommunities: [...route.largeCommunities],
    reasons: route.reasons.map((r) => ({ source: r.source, kind: r.kind })),
  };
}
