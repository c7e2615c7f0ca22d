/**
 * The speaker's BGP listeners: while the intent's listen_port is set, one
 * libs/bgp BgpListener per address to bind, with every session registered,
 * so passive peers can connect and collisions with active ones resolve.
 *
 * - Addresses: each distinct peer source_address when every peer has one,
 *   else the wildcard of each family a peer without one needs ("0.0.0.0",
 *   "::" IPv6-only), so a listener never accepts on more addresses than the
 *   peers can reach us at. No peers, or listen_port 0: no listener.
 * - A bind that fails (EACCES for port 179 without CAP_NET_BIND_SERVICE,
 *   EADDRINUSE, an address not on this host) is logged as an error and
 *   retried on the next intent change and every `retryMs`.
 */
import { BgpListener } from "@svcbgp/bgp";
import { ipFamily, parseIp } from "@svcbgp/config";
import type { Peer } from "@svcbgp/api";
import type { Logger } from "@svcbgp/telemetry";
import type { AcceptingSession } from "./session-api.js";

/** What PeerListeners needs of a listener (BgpListener; tests may substitute). */
export interface Listener {
  listen(): Promise<void>;
  close(): Promise<void>;
  register(session: AcceptingSession): void;
  unregister(session: AcceptingSession): void;
}

export type ListenerFactory = (host: string, port: number, logger: Logger) => Listener;

export const DEFAULT_LISTEN_RETRY_MS = 10_000;

export interface PeerListenersOptions {
  logger: Logger;
  create?: ListenerFactory;
  /** Retry a failed bind this often (default 10 s); 0 only retries on intent changes. */
  retryMs?: number;
}

export interface ListenerStatus {
  address: string;
  port: number;
  listening: boolean;
  error?: string;
}

/** The addresses to listen on for these peers (see the module comment). */
export function listenAddresses(peers: readonly Peer[]): string[] {
  const hosts = new Set<string>();
  for (const peer of peers) {
    const source = peer.sourceAddress ? parseIp(peer.sourceAddress)?.text : undefined;
    if (source) hosts.add(source);
    else hosts.add(ipFamily(peer.address) === 6 ? "::" : "0.0.0.0");
  }
  // A wildcard of a family already covers that family's specific addresses.
  for (const host of [...hosts]) {
    const wildcard = host.includes(":") ? "::" : "0.0.0.0";
    if (host !== wildcard && hosts.has(wildcard)) hosts.delete(host);
  }
  return [...hosts].sort();
}

function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function describeBindError(err: NodeJS.ErrnoException, address: string, port: number): string {
  switch (err.code) {
    case "EACCES":
      return `permission denied: port ${port} is privileged; give the speaker CAP_NET_BIND_SERVICE (or run it as root), or use a listenPort above 1023`;
    case "EADDRINUSE":
      return `${address} is already in use (another BGP daemon on this host?)`;
    case "EADDRNOTAVAIL":
      return `${address.replace(/:\d+$/, "")} is not an address of this host`;
    default:
      return err.message;
  }
}

export class PeerListeners {
  private readonly sessions = new Set<AcceptingSession>();
  private readonly listeners = new Map<string, Listener>();
  private readonly failures = new Map<string, string>();
  private readonly create: ListenerFactory;
  private readonly log: Logger;
  private port = 0;
  private wanted: string[] = [];
  private peers: readonly Peer[] = [];
  private queue: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The passive peers last warned about (listen_port 0). */
  private passiveWarning = "";

  constructor(private readonly options: PeerListenersOptions) {
    this.log = options.logger;
    this.create = options.create ?? ((host, port, logger) => new BgpListener({ host, port, logger }));
  }

  register(session: AcceptingSession): void {
    this.sessions.add(session);
    for (const listener of this.listeners.values()) listener.register(session);
  }

  unregister(session: AcceptingSession): void {
    this.sessions.delete(session);
    for (const listener of this.listeners.values()) listener.unregister(session);
  }

  /** Listens on `port` for these peers (port 0: not at all). */
  reconcile(port: number, peers: readonly Peer[]): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.peers = peers;
    const passive = port === 0 ? peers.filter((p) => p.passive).map((p) => p.address) : [];
    const warning = passive.join(",");
    if (warning && warning !== this.passiveWarning) this.log.warn({ peers: passive }, "passive peers, but the intent's listen_port is 0: nothing accepts their connections");
    this.passiveWarning = warning;
    return this.serialize(() => this.apply(port, port > 0 ? listenAddresses(peers) : []));
  }

  status(): ListenerStatus[] {
    return this.wanted.map((address) => {
      const status: ListenerStatus = { address, port: this.port, listening: this.listeners.has(address) };
      const error = this.failures.get(address);
      if (error) status.error = error;
      return status;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.serialize(() => this.apply(0, []));
  }

  private serialize(fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(port: number, hosts: string[]): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const oldPort = this.port;
    const portChanged = port !== oldPort;
    this.port = port;
    this.wanted = hosts;
    for (const [host, listener] of [...this.listeners]) {
      if (!portChanged && hosts.includes(host)) continue;
      this.listeners.delete(host);
      await listener.close();
      this.log.info({ listen: formatAddress(host, oldPort) }, "BGP listener closed");
    }
    for (const host of [...this.failures.keys()]) if (portChanged || !hosts.includes(host)) this.failures.delete(host);
    for (const host of hosts) {
      if (this.listeners.has(host)) continue;
      const address = formatAddress(host, port);
      const listener = this.create(host, port, this.log.child({ listen: address }));
      for (const session of this.sessions) listener.register(session);
      try {
        await listener.listen();
      } catch (err) {
        const reason = describeBindError(err as NodeJS.ErrnoException, address, port);
        if (this.failures.get(host) !== reason) this.log.error({ listen: address, code: (err as NodeJS.ErrnoException).code }, `cannot listen for BGP on ${address}: ${reason}; passive peers cannot connect`);
        this.failures.set(host, reason);
        continue;
      }
      if (this.failures.delete(host)) this.log.info({ listen: address }, "BGP listener bound after earlier failures");
      this.listeners.set(host, listener);
      this.log.info({ listen: address }, "listening for BGP connections");
    }
    const retryMs = this.options.retryMs ?? DEFAULT_LISTEN_RETRY_MS;
    if (this.failures.size && retryMs > 0 && !this.closed) {
      this.retryTimer = setTimeout(() => void this.reconcile(this.port, this.peers), retryMs);
      this.retryTimer.unref();
    }
  }
}
