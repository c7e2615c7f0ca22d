/**
 * The passive side of BGP: a TCP listener (IPv4 or IPv6) that hands each
 * inbound connection to the session registered for the remote address, so
 * passive peers work and connection collisions (RFC 4271 §6.8) can happen
 * and be resolved by the session. A connection from an address with no
 * session is closed at once, before a byte is read: only configured peers
 * may talk BGP to us.
 *
 * TCP-MD5 (RFC 2385): for every registered session with a password, the
 * listening socket holds that key for the peer's address, so the kernel
 * accepts only connections signed with it (and accepted sockets inherit the
 * key). Keys come and go with the sessions. A password session is handed a
 * connection only while the listener holds exactly its key; without the
 * TCP-MD5 addon, connections from password peers are refused, never accepted
 * unsigned.
 *
 * GTSM (RFC 5082): while any registered session has ttlSecurity, the
 * listening socket sends with TTL 255 — its SYN-ACK must pass a GTSM peer's
 * minimum TTL — and, when every session on it has ttlSecurity, drops
 * segments below the most permissive of their minimum TTLs (SYNs included).
 * The session taking a connection sets its own GTSM on it (see
 * Session.acceptConnection).
 */
import { createServer, isIP, type AddressInfo, type Server, type Socket } from "node:net";
import { canonicalAddress } from "../codec/prefix.js";
import type { SessionLogger } from "./session.js";
import { GTSM_MAX_HOPS, GTSM_OFF, gtsmUnavailable, setTtlSecurity } from "./gtsm.js";
import { handleFd, setTcpMd5Key, tcpMd5Unavailable } from "./tcp-md5.js";
import type { SessionOptions } from "./types.js";

/** What the listener needs of a session (Session has it). */
export interface AcceptingSession {
  readonly options: Readonly<Pick<SessionOptions, "peerAddress" | "localAddress" | "password" | "ttlSecurity">>;
  /** Takes an inbound connection from the peer; false when refused (the listener then closes it). */
  acceptConnection(socket: Socket): boolean;
}

export interface BgpListenerOptions {
  /** Address to bind: an IPv4 or IPv6 address, "0.0.0.0" or "::". */
  host: string;
  /** TCP port; 0 picks a free one (see address()). */
  port: number;
  /** For "::": accept IPv6 only, so "0.0.0.0" can be bound on the same port too (default true). */
  ipv6Only?: boolean;
  logger?: SessionLogger;
  /** TCP-MD5 for password sessions; default: the addon (tests may substitute). */
  tcpMd5?: {
    /** Why TCP-MD5 is unavailable, or undefined. */
    unavailable?: () => string | undefined;
    /** Installs (empty key: deletes) a peer address's key on the listening socket. */
    setKey?: (fd: number, address: string, key: string) => void;
  };
  /** GTSM on the listening socket for ttlSecurity sessions; default: the addon (tests may substitute). */
  gtsm?: {
    /** Why GTSM is unavailable, or undefined. */
    unavailable?: () => string | undefined;
    /** Sets the listening socket's GTSM (hops 0: off) for peers like `address` (its family). */
    set?: (fd: number, address: string, hops: number) => void;
  };
}

const silent: SessionLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** The key a peer address is registered and looked up under: canonical, IPv4-mapped IPv6 as IPv4. */
export function peerAddressKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  const plain = mapped ? mapped[1] : address;
  try {
    return canonicalAddress(plain);
  } catch {
    return plain.toLowerCase();
  }
}

export class BgpListener {
  private readonly sessions = new Map<string, AcceptingSession[]>();
  private readonly server: Server;
  private readonly log: SessionLogger;
  private readonly open = new Set<Socket>();
  private listening = false;
  /** TCP-MD5 keys held by the listening socket, by peer address key. */
  private readonly keys = new Map<string, string>();
  /** The last problem logged per peer address (logged once until it changes). */
  private readonly keyProblems = new Map<string, string>();
  private readonly tcpMd5Unavailable: () => string | undefined;
  private readonly setKey: (fd: number, address: string, key: string) => void;
  /** The GTSM hop count the listening socket has (0: none set by us). */
  private ttlHops = GTSM_OFF;
  /** The last GTSM problem logged for the listening socket (logged once until it changes). */
  private ttlProblem: string | undefined;
  private readonly gtsmUnavailable: () => string | undefined;
  private readonly setGtsm: (fd: number, address: string, hops: number) => void;

  constructor(private readonly options: BgpListenerOptions) {
    this.log = options.logger ?? silent;
    this.tcpMd5Unavailable = options.tcpMd5?.unavailable ?? tcpMd5Unavailable;
    this.setKey = options.tcpMd5?.setKey ?? ((fd, address, key) => setTcpMd5Key(fd, address, key));
    this.gtsmUnavailable = options.gtsm?.unavailable ?? gtsmUnavailable;
    this.setGtsm = options.gtsm?.set ?? setTtlSecurity;
    this.server = createServer({ noDelay: true }, (socket) => this.onConnection(socket));
  }

  /** Binds; rejects with the socket error (EACCES for a privileged port without CAP_NET_BIND_SERVICE, EADDRINUSE, ...). */
  listen(): Promise<void> {
    const { host, port } = this.options;
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => reject(err);
      this.server.once("error", fail);
      this.server.listen({ host, port, ipv6Only: host.includes(":") ? (this.options.ipv6Only ?? true) : false, exclusive: true }, () => {
        this.server.off("error", fail);
        this.server.on("error", (err) => this.log.error({ listen: this.label, err: err.message }, "BGP listener error"));
        this.listening = true;
        this.syncKeys();
        this.syncTtlSecurity();
        resolve();
      });
    });
  }

  /** The bound address (after listen()). */
  address(): AddressInfo {
    const address = this.server.address();
    if (!address || typeof address === "string") throw new Error("the BGP listener is not listening");
    return address;
  }

  get isListening(): boolean {
    return this.listening;
  }

  /** Inbound connections from the session's peer address go to it from now on. */
  register(session: AcceptingSession): void {
    const key = peerAddressKey(session.options.peerAddress);
    const list = this.sessions.get(key) ?? [];
    if (!list.includes(session)) list.push(session);
    this.sessions.set(key, list);
    this.syncKeys();
    this.syncTtlSecurity();
  }

  unregister(session: AcceptingSession): void {
    const key = peerAddressKey(session.options.peerAddress);
    const list = this.sessions.get(key)?.filter((s) => s !== session) ?? [];
    if (list.length) this.sessions.set(key, list);
    else this.sessions.delete(key);
    this.syncKeys();
    this.syncTtlSecurity();
  }

  /** The GTSM hop count set on the listening socket (0: none); see syncTtlSecurity. */
  get listenerTtlSecurity(): number {
    return this.ttlHops;
  }

  /** Peer addresses whose TCP-MD5 key the listening socket holds. */
  keyedPeers(): string[] {
    return [...this.keys.keys()].sort();
  }

  /**
   * Stops listening and closes connections not yet handed to a session.
   * Connections sessions own are theirs to close: this does not wait for
   * them (net.Server's close callback would, until every session stopped).
   */
  async close(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    this.keys.clear();
    this.ttlHops = GTSM_OFF;
    for (const socket of this.open) socket.destroy();
    this.server.close();
  }

  private get label(): string {
    const { host, port } = this.options;
    return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  }

  /** Whether a peer at this address can reach this listener (same family, or IPv4 on a dual-stack "::"). */
  private servesFamily(address: string): boolean {
    const { host } = this.options;
    const peerFamily = isIP(address);
    if (host.includes(":")) return peerFamily === 6 || (host === "::" && this.options.ipv6Only === false);
    return peerFamily === 4;
  }

  /** Logs a problem with a peer's key once, until it changes or goes (undefined). */
  private problem(id: string, problem: string | undefined, log: () => void): void {
    if (problem === undefined) {
      this.keyProblems.delete(id);
      return;
    }
    if (this.keyProblems.get(id) === problem) return;
    this.keyProblems.set(id, problem);
    log();
  }

  /** Makes the listening socket's TCP-MD5 keys those of the registered sessions. */
  private syncKeys(): void {
    if (!this.listening) return;
    const wanted = new Map<string, string>();
    for (const [address, sessions] of this.sessions) {
      const keyed = sessions.filter((s) => s.options.password);
      if (keyed.length === 0 || !this.servesFamily(address)) continue;
      const key = keyed[0].options.password!;
      wanted.set(address, key);
      const disagree = sessions.some((s) => s.options.password !== key);
      this.problem(`${address} sessions`, disagree ? "disagree" : undefined, () =>
        this.log.warn(
          { listen: this.label, peer: address },
          "sessions with this peer address have different TCP-MD5 passwords (or some have none); the kernel keys an address once: only the first password session can accept connections",
        ),
      );
    }
    const fd = handleFd(this.server);
    const unavailable = wanted.size ? this.tcpMd5Unavailable() : undefined;
    for (const [address, key] of [...this.keys]) {
      if (wanted.get(address) === key) continue;
      this.keys.delete(address);
      if (wanted.has(address) || fd === undefined) continue;
      try {
        this.setKey(fd, address, "");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.log.warn({ listen: this.label, peer: address, err: (err as Error).message }, "cannot delete a TCP-MD5 key from the BGP listener");
      }
    }
    for (const id of [...this.keyProblems.keys()]) if (!wanted.has(id.split(" ")[0])) this.keyProblems.delete(id);
    for (const [address, key] of wanted) {
      if (this.keys.get(address) === key) continue;
      if (unavailable !== undefined) {
        this.problem(`${address} key`, "unavailable", () =>
          this.log.error({ listen: this.label, peer: address }, `TCP-MD5 unavailable: ${unavailable}; connections from this password peer are refused`),
        );
        continue;
      }
      try {
        if (fd === undefined) throw new Error("the listening socket has no file descriptor");
        this.setKey(fd, address, key);
        this.keys.set(address, key);
        this.problem(`${address} key`, undefined, () => {});
        this.log.debug({ listen: this.label, peer: address }, "TCP-MD5 key set on the BGP listener");
      } catch (err) {
        const message = (err as Error).message;
        this.problem(`${address} key`, `error: ${message}`, () =>
          this.log.error({ listen: this.label, peer: address, err: message }, "cannot set the TCP-MD5 key on the BGP listener; connections from this password peer are refused"),
        );
      }
    }
  }

  /**
   * The listening socket's GTSM, from the sessions it serves: none without
   * ttlSecurity sessions; with some, TTL 255 (its SYN-ACKs must pass their
   * peers' filters) and a minimum TTL only when every session has
   * ttlSecurity — the most permissive of theirs (the largest hop count),
   * as the listener cannot tell peers apart before the SYN is accepted.
   * Otherwise hop count 255: TTL 255, any TTL accepted. Accepted
   * connections inherit it; each session then sets its own.
   */
  private syncTtlSecurity(): void {
    if (!this.listening) return;
    const served = [...this.sessions].filter(([address]) => this.servesFamily(address)).flatMap(([, sessions]) => sessions);
    const hopCounts = served.map((s) => s.options.ttlSecurity ?? GTSM_OFF);
    const gtsm = hopCounts.filter((hops) => hops > GTSM_OFF);
    const wanted = gtsm.length === 0 ? GTSM_OFF : gtsm.length === hopCounts.length ? Math.min(GTSM_MAX_HOPS, Math.max(...gtsm)) : GTSM_MAX_HOPS;
    if (wanted === this.ttlHops) return;
    const unavailable = this.gtsmUnavailable();
    if (unavailable !== undefined) {
      // The ttlSecurity sessions refuse to start (and connections), saying why: nothing to protect here.
      if (this.ttlProblem !== "unavailable") this.log.debug({ listen: this.label, reason: unavailable }, "GTSM unavailable; the BGP listener's TTL is left as it is");
      this.ttlProblem = "unavailable";
      return;
    }
    const fd = handleFd(this.server);
    // The family whose options serve the listener's peers: a dual-stack "::" (AF_INET6) with an IPv4 address gets both.
    const { host } = this.options;
    const familyAddress = !host.includes(":") || (host === "::" && this.options.ipv6Only === false) ? "0.0.0.0" : "::";
    try {
      if (fd === undefined) throw new Error("the listening socket has no file descriptor");
      this.setGtsm(fd, familyAddress, wanted);
      this.ttlHops = wanted;
      this.ttlProblem = undefined;
      this.log.debug({ listen: this.label, hops: wanted }, "GTSM set on the BGP listener");
    } catch (err) {
      const message = (err as Error).message;
      if (this.ttlProblem !== message) {
        this.log.error({ listen: this.label, err: message }, "cannot set GTSM on the BGP listener; GTSM peers dialling it may get no answer (its SYN-ACKs are not sent with TTL 255)");
      }
      this.ttlProblem = message;
    }
  }

  private onConnection(socket: Socket): void {
    const remote = socket.remoteAddress ? peerAddressKey(socket.remoteAddress) : "";
    const local = socket.localAddress ? peerAddressKey(socket.localAddress) : "";
    const candidates = this.sessions.get(remote) ?? [];
    // Several sessions with one peer address (different ports) are told apart by the local address the peer dialled.
    const bound = candidates.filter((s) => s.options.localAddress && peerAddressKey(s.options.localAddress) === local);
    const ordered = bound.length ? [...bound, ...candidates.filter((s) => !bound.includes(s))] : candidates;
    if (ordered.length === 0) {
      this.log.debug({ listen: this.label, remote: socket.remoteAddress, port: socket.remotePort }, "BGP connection from an address with no session; closed");
      socket.destroy();
      return;
    }
    // An error before a session owns the socket must not crash the process.
    const onError = (err: Error) => this.log.debug({ remote, err: err.message }, "BGP connection error before hand-over");
    socket.on("error", onError);
    this.open.add(socket);
    socket.once("close", () => this.open.delete(socket));
    for (const session of ordered) {
      // A password session takes only connections the kernel checked against its key.
      if (session.options.password && this.keys.get(remote) !== session.options.password) continue;
      if (session.acceptConnection(socket)) {
        socket.off("error", onError);
        this.open.delete(socket);
        this.log.debug({ listen: this.label, remote, port: socket.remotePort }, "BGP connection handed to its session");
        return;
      }
    }
    this.log.debug({ listen: this.label, remote, port: socket.remotePort }, "BGP connection refused by its session (stopped, a collision already in progress, or its TCP-MD5 key is not on this listener); closed");
    socket.destroy();
  }
}
