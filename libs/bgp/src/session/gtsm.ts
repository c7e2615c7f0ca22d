/**
 * GTSM, the Generalized TTL Security Mechanism (RFC 5082; BIRD's `ttl
 * security`, Calico's `ttlSecurity`): both ends send with TTL (IPv6: hop
 * limit) 255, and drop segments that arrive with less than 256 - hops, so a
 * forger more than `hops` routers away cannot reach the session at all.
 * Node.js's net module sets neither option; the native addon of tcp-md5.ts
 * does (IP_TTL + IP_MINTTL, IPV6_UNICAST_HOPS + IPV6_MINHOPCOUNT).
 *
 * - Active side: the session dials on an addon socket with GTSM set before
 *   connect, so even the SYN-ACK is checked.
 * - Passive side: the session sets GTSM on the accepted socket when it takes
 *   it; the BgpListener gives its listening socket TTL 255 (so SYN-ACKs get
 *   through a GTSM peer's filter) and the minimum TTL when every session on
 *   it has GTSM.
 *
 * Without the addon a GTSM session refuses to start (gtsmRefusal): it never
 * connects without the protection it was configured with.
 */
import type { Socket } from "node:net";
import { addressFamily, errnoException, handleFd, tcpMd5Support } from "./tcp-md5.js";

/** What GTSM sends with: the largest TTL, which only a directly connected sender can deliver unchanged. */
export const GTSM_TTL = 255;
/** The hop count's range: 1 (directly connected) .. 255 (accepts any TTL, but still sends 255). */
export const GTSM_MIN_HOPS = 1;
export const GTSM_MAX_HOPS = 255;
/** Hop count that restores a socket's defaults (route TTL, no minimum). */
export const GTSM_OFF = 0;

type SetTtlSecurity = (fd: number, family: 4 | 6, hops: number) => void;

/** The addon's setTtlSecurity, or why there is none. */
function addonFunction(): { set: SetTtlSecurity } | { reason: string } {
  const support = tcpMd5Support();
  if (!support.available) return { reason: support.reason };
  const set = support.addon.setTtlSecurity;
  // An addon built before GTSM support (e.g. an old SVCBGP_TCP_MD5_ADDON) keys fine but cannot do this.
  if (typeof set !== "function") return { reason: `${support.path} has no setTtlSecurity (built before GTSM support; rebuild it with \`npm run build\`)` };
  return { set: set.bind(support.addon) };
}

/** Why GTSM cannot be used here, or undefined when it can. */
export function gtsmUnavailable(): string | undefined {
  const found = addonFunction();
  return "reason" in found ? found.reason : undefined;
}

/** Why a ttlSecurity value cannot be used, or undefined (0 and undefined mean off, and are valid). */
export function invalidTtlSecurity(hops: number | undefined): string | undefined {
  if (hops === undefined || hops === GTSM_OFF) return undefined;
  return Number.isInteger(hops) && hops >= GTSM_MIN_HOPS && hops <= GTSM_MAX_HOPS ? undefined : `ttlSecurity must be 0 (off) or a hop count ${GTSM_MIN_HOPS}..${GTSM_MAX_HOPS}, got ${hops}`;
}

/** Why a session with these options cannot use GTSM (they ask for it), or undefined. */
export function gtsmRefusal(options: { ttlSecurity?: number }, unavailable: () => string | undefined = gtsmUnavailable): string | undefined {
  if (!options.ttlSecurity) return undefined;
  const invalid = invalidTtlSecurity(options.ttlSecurity);
  if (invalid) return `${invalid}; the session is not started`;
  const reason = unavailable();
  return reason === undefined ? undefined : `GTSM unavailable: ${reason}; the session is not started (a peer with ttlSecurity is never connected without it)`;
}

/**
 * Sets GTSM for a peer at `peerAddress` on a TCP socket (unconnected,
 * listening or accepted): TTL 255 and a minimum TTL of 256 - hops, or with
 * hops 0 the defaults again. On an IPv6 socket an IPv4 peer (IPv4-mapped)
 * gets the IPv4 options too. Throws an errno exception (EBADF, ENOTSOCK,
 * EAFNOSUPPORT for an IPv6 peer on an IPv4 socket), ERR_OUT_OF_RANGE or
 * ERR_GTSM_UNAVAILABLE.
 */
export function setTtlSecurity(fd: number, peerAddress: string, hops: number): void {
  const invalid = invalidTtlSecurity(hops);
  if (invalid) throw Object.assign(new RangeError(`GTSM for ${peerAddress}: ${invalid}`), { code: "ERR_OUT_OF_RANGE" });
  const family = addressFamily(peerAddress, "GTSM");
  const found = addonFunction();
  if ("reason" in found) throw Object.assign(new Error(`GTSM unavailable: ${found.reason}`), { code: "ERR_GTSM_UNAVAILABLE" });
  try {
    found.set(fd, family, hops);
  } catch (err) {
    throw errnoException(err, `GTSM (${hops ? `${hops} hop${hops === 1 ? "" : "s"}` : "off"}) for ${peerAddress} not set`);
  }
}

/** setTtlSecurity on a net.Socket (an accepted connection); throws when it has no file descriptor. */
export function setSocketTtlSecurity(socket: Socket, peerAddress: string, hops: number): void {
  const fd = handleFd(socket);
  if (fd === undefined) throw Object.assign(new Error(`GTSM for ${peerAddress} not set: the socket has no file descriptor`), { code: "EBADF" });
  setTtlSecurity(fd, peerAddress, hops);
}
