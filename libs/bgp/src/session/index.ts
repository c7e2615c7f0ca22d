export * from "./types.js";
export { Session, createBgpSession, type SessionDeps, type SessionLogger } from "./session.js";
