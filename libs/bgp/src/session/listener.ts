/**
 * The passive side of BGP: a TCP listener (IPv4 or IPv6) that hands each
 * inbound connection to the session registered for the remote address, so
 * passive peers work and connection collisions (RFC 4271 §6.8) can happen
 * and be resolved by the session. A connection from an address with no
 * session is closed at once, before a byte is read: only configured peers
 * may talk BGP to us.
 */
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { canonicalAddress } from "../codec/prefix.js";
import type { SessionLogger } from "./session.js";
import type { SessionOptions } from "./types.js";

/** What the listener needs of a session (Session has it). */
export interface AcceptingSession {
  readonly options: Readonly<Pick<SessionOptions, "peerAddress" | "localAddress">>;
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

  constructor(private readonly options: BgpListenerOptions) {
    this.log = options.logger ?? silent;
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
  }

  unregister(session: AcceptingSession): void {
    const key = peerAddressKey(session.options.peerAddress);
    const list = this.sessions.get(key)?.filter((s) => s !== session) ?? [];
    if (list.length) this.sessions.set(key, list);
    else this.sessions.delete(key);
  }

  /**
   * Stops listening and closes connections not yet handed to a session.
   * Connections sessions own are theirs to close: this does not wait for
   * them (net.Server's close callback would, until every session stopped).
   */
  async close(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    for (const socket of this.open) socket.destroy();
    this.server.close();
  }

  private get label(): string {
    const { host, port } = this.options;
    return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
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
      if (session.acceptConnection(socket)) {
        socket.off("error", onError);
        this.open.delete(socket);
        this.log.debug({ listen: this.label, remote, port: socket.remotePort }, "BGP connection handed to its session");
        return;
      }
    }
    this.log.debug({ listen: this.label, remote, port: socket.remotePort }, "BGP connection refused by its session (stopped, or a collision already in progress); closed");
    socket.destroy();
  }
}
