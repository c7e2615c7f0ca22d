export * from "./types.js";
export { FakeClock, systemClock, type Clock, type TimerHandle } from "./clock.js";
export { IdleHoldBackoff, jitter, DEFAULT_IDLE_HOLD_INITIAL_MS, DEFAULT_IDLE_HOLD_MAX_MS, DEFAULT_STABLE_MS, JITTER_FRACTION } from "./backoff.js";
export {
  DEFAULT_HOLD_TIME,
  MIN_HOLD_TIME,
  buildOpen,
  keepaliveFor,
  negotiate,
  negotiateHoldTime,
  peerAsnOf,
  routerIdToNumber,
  validateOpen,
} from "./open.js";
export { Fsm, OPEN_HOLD_TIME_MS, DEFAULT_CONNECT_RETRY_TIME, shutdownCommunication, type CollisionCheck, type ConnectionStatus, type FsmTimer } from "./fsm.js";
export { ConnectionPair, resolveCollision, type CollisionWinner, type PairSink } from "./collision.js";
export { eventFromDecoded, type DecodedMessage } from "./events.js";
