export * from "./types.js";
export { ANNOUNCE_SLICE_ROUTES, Session, createBgpSession, dialPeer, tcpMd5Refusal, type DialOptions, type SessionDeps, type SessionLogger } from "./session.js";
export { gtsmRefusal, gtsmUnavailable, invalidTtlSecurity, setTtlSecurity, GTSM_MAX_HOPS, GTSM_MIN_HOPS, GTSM_TTL } from "./gtsm.js";
export { BgpListener, peerAddressKey, type AcceptingSession, type BgpListenerOptions } from "./listener.js";
export {
  createConfiguredSocket,
  createSignedSocket,
  createTcpSocketFd,
  invalidTcpMd5Key,
  loadTcpMd5Addon,
  setTcpMd5Key,
  tcpMd5Support,
  tcpMd5Unavailable,
  tcpMd5AddonPath,
  TCP_MD5_MAX_KEY_BYTES,
  type TcpMd5Addon,
  type TcpMd5Support,
} from "./tcp-md5.js";
