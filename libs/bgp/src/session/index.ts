export * from "./types.js";
export { Session, createBgpSession, type SessionDeps, type SessionLogger } from "./session.js";
export { BgpListener, peerAddressKey, type AcceptingSession, type BgpListenerOptions } from "./listener.js";
