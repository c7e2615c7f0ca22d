/** Maps an intent Peer to the BGP session's options, and compares them. */
import type { Peer } from "@svcbgp/api";
import { parseIp } from "@svcbgp/config";
import { DEFAULT_BGP_PORT } from "../intent/keys.js";
import type { SessionOptions } from "./session-api.js";

export interface NodeSettings {
  routerId: string;
  localAsn: number;
}

export const DEFAULT_RESTART_TIME = 120;

/** The session options for a peer; unset optional fields are left out so options compare by value. */
export function sessionOptionsFor(peer: Peer, node: NodeSettings): SessionOptions {
  const options: SessionOptions = {
    peerAddress: parseIp(peer.address)?.text ?? peer.address,
    peerPort: peer.port || DEFAULT_BGP_PORT,
    peerAsn: peer.asn,
    localAsn: peer.localAsn || node.localAsn,
    routerId: node.routerId,
  };
  if (peer.sourceAddress) options.localAddress = parseIp(peer.sourceAddress)?.text ?? peer.sourceAddress;
  if (peer.holdTime) options.holdTime = peer.holdTime;
  if (peer.keepalive) options.keepaliveTime = peer.keepalive;
  if (peer.gracefulRestart?.enabled) options.gracefulRestart = { enabled: true, restartTime: peer.gracefulRestart.restartTime || DEFAULT_RESTART_TIME };
  if (peer.ttlSecurity) options.ttlSecurity = peer.ttlSecurity;
  if (peer.passive) options.passive = true;
  // Part of the options, so a changed password restarts the session (never logged: changedOptionNames gives names only).
  if (peer.password) options.password = peer.password;
  return options;
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

export function sameSessionOptions(a: SessionOptions, b: SessionOptions): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** Names of the options that differ, for the log line that explains a restart. */
export function changedOptionNames(a: SessionOptions, b: SessionOptions): string[] {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  const keys: string[] = [...new Set([...Object.keys(x), ...Object.keys(y)])];
  return keys.filter((k) => canonicalJson(x[k]) !== canonicalJson(y[k])).sort();
}
