/** The BGP session contract the speaker codes against (libs/bgp/src/session/types.ts). */
import type { AcceptingSession, BgpSession } from "@svcbgp/bgp";

export type {
  AcceptingSession,
  BgpSession,
  MessageCounts,
  OutRoute,
  RibEntry,
  SessionEvent,
  SessionListenOptions,
  SessionOptions,
  SessionStateName,
  SessionStatus,
  StopMode,
} from "@svcbgp/bgp";

/** A session the speaker runs: the BGP contract, plus taking inbound connections from the BGP listeners. */
export type PeerSession = BgpSession & AcceptingSession;
