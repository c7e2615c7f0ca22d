/** Identity of intent items: routes are keyed by prefix, peers by address and port. */
import type { Peer } from "@svcbgp/api";
import { parseIp } from "@svcbgp/config";

export const DEFAULT_BGP_PORT = 179;

export function formatPeerKey(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** "192.0.2.1:179" / "[fd00::1]:179"; port 0 means 179. The address is canonicalised when it is an IP. */
export function peerKey(peer: Pick<Peer, "address" | "port">): string {
  return formatPeerKey(parseIp(peer.address)?.text ?? peer.address, peer.port || DEFAULT_BGP_PORT);
}

/**
 * Parses a removed-peer key from a delta: "address", "address:port" or
 * "[v6]:port". A bare address means the default port.
 */
export function normalizePeerKey(key: string): string {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(key);
  if (bracketed) return peerKey({ address: bracketed[1], port: Number(bracketed[2]) });
  const v4WithPort = /^([^:]+):(\d+)$/.exec(key);
  if (v4WithPort) return peerKey({ address: v4WithPort[1], port: Number(v4WithPort[2]) });
  return peerKey({ address: key, port: 0 });
}
