/**
 * TCP-MD5 signatures (RFC 2385) for BGP sessions. Node.js's net module cannot
 * set TCP_MD5SIG, so a small Node-API addon does (libs/bgp/native/tcp_md5.c,
 * compiled by `npm run build` into libs/bgp/dist/native/tcp_md5.node where gcc
 * and Node.js's headers are installed; see libs/bgp/native/build.mjs).
 *
 * - Active side: createSignedSocket makes the TCP socket with the addon, keys
 *   it for the peer, and hands it to net.Socket, which binds and connects it.
 * - Passive side: the BgpListener keys its listening socket per peer address;
 *   accepted connections inherit the key.
 *
 * Without the addon nothing is ever connected unsigned: tcpMd5Support() says
 * why it is unavailable, and sessions and listeners refuse password peers.
 * Keys never appear in errors or logs.
 *
 * The same addon sets GTSM's TTL options (see gtsm.ts), and its sockets
 * (createConfiguredSocket) carry whatever must hold from the first SYN on.
 */
import { closeSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { isIP, Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { getSystemErrorName } from "node:util";

/** RFC 2385 keys: the kernel takes at most this many bytes (TCP_MD5SIG_MAXKEYLEN). */
export const TCP_MD5_MAX_KEY_BYTES = 80;

/** The addon's functions (libs/bgp/native/tcp_md5.c). */
export interface TcpMd5Addon {
  /** socket(AF_INET | AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC); returns the fd. */
  createTcpSocket(family: 4 | 6): number;
  /** setsockopt(TCP_MD5SIG), or TCP_MD5SIG_EXT for prefixLength >= 0; an empty key deletes. */
  setMd5Key(fd: number, family: 4 | 6, address: string, prefixLength: number, key: string): void;
  /**
   * GTSM for a peer of `family`: hops 1..255 sends with TTL 255 and drops what arrives with less than 256 - hops; 0 restores the defaults.
   * Absent from addons built before GTSM support (gtsm.ts then says so).
   */
  setTtlSecurity?(fd: number, family: 4 | 6, hops: number): void;
}

export type TcpMd5Support = { readonly available: true; readonly addon: TcpMd5Addon; readonly path: string } | { readonly available: false; readonly reason: string };

/** Where the build puts the addon: libs/bgp/dist/native (the same relative path from src/session and dist/session). */
export function tcpMd5AddonPath(): string {
  return fileURLToPath(new URL("../../dist/native/tcp_md5.node", import.meta.url));
}

let cached: TcpMd5Support | undefined;

/** Loads the addon (once): $SVCBGP_TCP_MD5_ADDON if set, else the build's output. */
export function tcpMd5Support(): TcpMd5Support {
  if (!cached) {
    let path: string;
    try {
      path = process.env.SVCBGP_TCP_MD5_ADDON || tcpMd5AddonPath();
    } catch (err) {
      // Bundled into a form without import.meta.url: only $SVCBGP_TCP_MD5_ADDON can say where it is.
      return (cached = { available: false, reason: `cannot locate the native addon (${(err as Error).message}); set SVCBGP_TCP_MD5_ADDON to its path` });
    }
    cached = loadTcpMd5Addon(path);
  }
  return cached;
}

/** Why TCP-MD5 cannot be used here, or undefined when it can. */
export function tcpMd5Unavailable(): string | undefined {
  const support = tcpMd5Support();
  return support.available ? undefined : support.reason;
}

/** Loads the addon from `path` (tcpMd5Support caches the build's); says why not when it cannot. */
export function loadTcpMd5Addon(path: string): TcpMd5Support {
  if (process.platform !== "linux") return { available: false, reason: `TCP_MD5SIG is Linux-only (this is ${process.platform})` };
  if (!existsSync(path)) {
    return { available: false, reason: `the native addon ${path} is not built (\`npm run build\` compiles it where gcc and Node.js's headers are installed)` };
  }
  try {
    const addon = createRequire(import.meta.url)(path) as Partial<TcpMd5Addon>;
    if (typeof addon.createTcpSocket !== "function" || typeof addon.setMd5Key !== "function") {
      return { available: false, reason: `${path} is not the TCP-MD5 addon (no createTcpSocket/setMd5Key)` };
    }
    return { available: true, addon: addon as TcpMd5Addon, path };
  } catch (err) {
    return { available: false, reason: `cannot load ${path}: ${(err as Error).message}` };
  }
}

/** The addon, or an error saying why there is none. */
function requireAddon(): TcpMd5Addon {
  const support = tcpMd5Support();
  if (!support.available) throw Object.assign(new Error(`TCP-MD5 unavailable: ${support.reason}`), { code: "ERR_TCP_MD5_UNAVAILABLE" });
  return support.addon;
}

/** Why a key cannot be used (too long), or undefined. An empty key is valid only to delete. */
export function invalidTcpMd5Key(key: string): string | undefined {
  const bytes = Buffer.byteLength(key, "utf8");
  return bytes > TCP_MD5_MAX_KEY_BYTES ? `the TCP-MD5 password is ${bytes} bytes long; at most ${TCP_MD5_MAX_KEY_BYTES} are allowed` : undefined;
}

/** The address's family for the addon; throws ERR_INVALID_ARG_VALUE, naming `what` ("TCP-MD5", "GTSM"), when it is not an IP address. */
export function addressFamily(address: string, what = "TCP-MD5"): 4 | 6 {
  const family = isIP(address);
  if (family !== 4 && family !== 6) throw Object.assign(new TypeError(`${what}: not an IP address: ${JSON.stringify(address)}`), { code: "ERR_INVALID_ARG_VALUE" });
  return family;
}

/** The addon's error as a Node.js errno exception: code ("EPERM", ...), errno (negative, as libuv's), syscall; never the key. */
export function errnoException(err: unknown, what: string): NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.errno !== "number") return e;
  const errno = -Math.abs(e.errno);
  let code = typeof e.code === "string" && e.code !== "EUNKNOWN" ? e.code : undefined;
  if (!code) {
    try {
      code = getSystemErrorName(errno);
    } catch {
      code = "EUNKNOWN";
    }
  }
  const out: NodeJS.ErrnoException = new Error(`${what}: ${e.message}`);
  out.code = code;
  out.errno = errno;
  if (e.syscall) out.syscall = e.syscall;
  return out;
}

/**
 * Installs (or, with an empty key, deletes) the TCP-MD5 key for a peer
 * address — or, with prefixLength, for every address of a prefix — on a TCP
 * socket: a listening socket (accepted connections inherit it) or one not yet
 * connected. Throws an errno exception (code EBADF, ENOTSOCK, ENOENT for
 * deleting a key that is not there, ...) or ERR_TCP_MD5_UNAVAILABLE.
 */
export function setTcpMd5Key(fd: number, address: string, key: string, options: { prefixLength?: number } = {}): void {
  const invalid = invalidTcpMd5Key(key);
  if (invalid) throw Object.assign(new RangeError(`TCP-MD5 key for ${address}: ${invalid}`), { code: "ERR_OUT_OF_RANGE" });
  const addon = requireAddon();
  const family = addressFamily(address);
  try {
    addon.setMd5Key(fd, family, address, options.prefixLength ?? -1, key);
  } catch (err) {
    throw errnoException(err, `TCP-MD5 key for ${options.prefixLength !== undefined ? `${address}/${options.prefixLength}` : address} ${key ? "not set" : "not deleted"}`);
  }
}

/** An unconnected, non-blocking TCP socket's fd, from the addon. */
export function createTcpSocketFd(family: 4 | 6): number {
  const addon = requireAddon();
  try {
    return addon.createTcpSocket(family);
  } catch (err) {
    throw errnoException(err, "cannot create a TCP socket with the native addon");
  }
}

/**
 * A net.Socket, not yet connected, on an addon-made socket that `configure`
 * prepared (keys, TTLs: what must hold from the first SYN on). Call
 * `.connect(...)` on it. Throws (closing the fd) when configure does.
 */
export function createConfiguredSocket(family: 4 | 6, configure: (fd: number) => void): Socket {
  const fd = createTcpSocketFd(family);
  try {
    configure(fd);
    // manualStart: no read until connected (net starts reading on 'connect').
    return new Socket({ fd, manualStart: true } as ConstructorParameters<typeof Socket>[0]);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * A net.Socket, not yet connected, whose connections to `peerAddress` are
 * signed with `key`: call `.connect({ host: peerAddress, port, localAddress })`
 * on it (net binds localAddress and connects the socket it was given).
 * Throws (closing the fd) when the socket cannot be made or keyed.
 */
export function createSignedSocket(peerAddress: string, key: string): Socket {
  return createConfiguredSocket(addressFamily(peerAddress), (fd) => setTcpMd5Key(fd, peerAddress, key));
}

/** The file descriptor under a net.Socket or net.Server (libuv's, on Unix), or undefined when it has none (yet). */
export function handleFd(handleOwner: Socket | object): number | undefined {
  const fd = (handleOwner as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}
