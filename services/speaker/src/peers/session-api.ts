/** The BGP session contract the speaker codes against (libs/bgp/src/session/types.ts). */
export type {
  BgpSession,
  MessageCounts,
  OutRoute,
  RibEntry,
  SessionEvent,
  SessionOptions,
  SessionStateName,
  SessionStatus,
  StopMode,
} from "@svcbgp/bgp";
