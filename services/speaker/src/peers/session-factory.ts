/** The production session factory: libs/bgp's createBgpSession, with the peer's child logger. */
import { createBgpSession } from "@svcbgp/bgp";
import type { SessionFactory } from "./reconciler.js";

export function bgpSessionFactory(): SessionFactory {
  return (options, logger) => createBgpSession(options, { logger });
}
