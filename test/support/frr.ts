/**
 * Runs a real FRR bgpd for interop tests: no zebra, no kernel routes, no vty
 * TCP port; its config, pid file and vty socket in a temporary directory,
 * queried through `vtysh -c "show ... json"`.
 *
 * Without zebra, bgpd takes every next hop as reachable, but still drops
 * martian ones (127.0.0.0/8 among them): routes toward it carry a routable
 * next hop.
 */
import { execFile, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { SessionOptions } from "@svcbgp/bgp";
import { Daemon } from "./daemon.js";
import { waitFor } from "./wait.js";

const run = promisify(execFile);

export const BGPD = "/usr/lib/frr/bgpd";

export interface FrrNeighbor {
  address: string;
  asn: number;
  /** Default true: FRR waits for our dial. */
  passive?: boolean;
  holdTime?: number;
  keepalive?: number;
  /** Also activate IPv6 unicast (MP-BGP over the IPv4 session). */
  ipv6?: boolean;
}

export interface FrrOptions {
  asn: number;
  routerId: string;
  listenAddress: string;
  listenPort: number;
  neighbors: FrrNeighbor[];
  /** `bgp graceful-restart` (RFC 4724 helper and restarter). */
  gracefulRestart?: boolean;
}

export interface FrrPath {
  prefix: string;
  nextHop?: string;
  asPath: number[];
  localPref?: number;
  communities: string[];
  largeCommunities: string[];
  valid: boolean;
  stale: boolean;
}

export type Family = "ipv4" | "ipv6";

/** A whole bgpd config: quick timers, no eBGP policy or import checks, soft-reconfiguration to keep what was received. */
export function frrConfig(o: FrrOptions): string {
  const lines = ["frr defaults datacenter", `hostname frr-${o.routerId}`, `router bgp ${o.asn}`, ` bgp router-id ${o.routerId}`];
  lines.push(" no bgp ebgp-requires-policy", " no bgp network import-check", " no bgp default ipv4-unicast");
  if (o.gracefulRestart) lines.push(" bgp graceful-restart");
  for (const n of o.neighbors) {
    const hold = n.holdTime ?? 9;
    lines.push(
      ` neighbor ${n.address} remote-as ${n.asn}`,
      ` neighbor ${n.address} update-source ${o.listenAddress}`,
      // Loopback addresses share no subnet, and without zebra bgpd knows no connected networks.
      ` neighbor ${n.address} disable-connected-check`,
      ` neighbor ${n.address} timers connect 1`,
      ` neighbor ${n.address} timers ${n.keepalive ?? Math.max(1, Math.floor(hold / 3))} ${hold}`,
      ...(n.passive === false ? [] : [` neighbor ${n.address} passive`]),
    );
  }
  for (const family of ["ipv4", "ipv6"] as const) {
    const neighbors = o.neighbors.filter((n) => family === "ipv4" || n.ipv6);
    if (!neighbors.length) continue;
    lines.push(` address-family ${family} unicast`);
    for (const n of neighbors) lines.push(`  neighbor ${n.address} activate`, `  neighbor ${n.address} soft-reconfiguration inbound`);
    lines.push(" exit-address-family");
  }
  return lines.join("\n") + "\n";
}

interface JsonPath {
  valid?: boolean;
  stale?: boolean;
  path?: string;
  aspath?: { string?: string };
  locPrf?: number;
  nexthops?: Array<{ ip?: string }>;
  community?: { string?: string };
  largeCommunity?: { string?: string };
}

function asNumbers(path: string | undefined): number[] {
  return (path ?? "").split(/\s+/).filter(Boolean).map(Number).filter(Number.isFinite);
}

function toPath(prefix: string, p: JsonPath): FrrPath {
  return {
    prefix,
    nextHop: p.nexthops?.[0]?.ip,
    asPath: asNumbers(p.aspath?.string ?? p.path),
    localPref: p.locPrf,
    communities: (p.community?.string ?? "").split(" ").filter(Boolean),
    largeCommunities: (p.largeCommunity?.string ?? "").split(" ").filter(Boolean),
    valid: p.valid === true,
    stale: p.stale === true,
  };
}

export class Frr extends Daemon {
  private constructor(
    dir: string,
    readonly options: Readonly<FrrOptions>,
    child: ChildProcess,
  ) {
    super(dir, child);
  }

  /** Starts bgpd with `frrConfig(options)`, listening on listenAddress:listenPort only, and waits for its vty. */
  static async start(options: FrrOptions): Promise<Frr> {
    const { dir, path: conf } = Daemon.scratch("frr", "bgpd.conf", frrConfig(options));
    return Daemon.launch({
      command: BGPD,
      // -Z no zebra, -n no kernel, -S no user change (runs as whoever we are), -P 0 no vty TCP port.
      args: ["-Z", "-n", "-S", "-P", "0", "-p", String(options.listenPort), "-l", options.listenAddress, "-f", conf, "-i", join(dir, "bgpd.pid"), "--vty_socket", dir, "--log", "stdout", "--log-level", "warnings"],
      capture: ["stdout", "stderr"],
      create: (child) => new Frr(dir, options, child),
      ready: async (frr) => {
        await frr.show("show bgp summary json");
        return true;
      },
      timeoutMs: 15_000,
      what: "FRR bgpd vty",
    });
  }

  /** Options for our session as the neighbour at `address`: dialling FRR from that address, retrying every second. */
  sessionOptions(address: string, extra: Partial<SessionOptions> = {}): SessionOptions {
    const neighbor = this.options.neighbors.find((n) => n.address === address);
    if (!neighbor) throw new Error(`FRR has no neighbor ${address}`);
    const { listenAddress, listenPort, asn } = this.options;
    return { peerAddress: listenAddress, peerPort: listenPort, peerAsn: asn, localAsn: neighbor.asn, routerId: address, localAddress: address, connectRetryTime: 1, ...extra };
  }

  /** Runs vtysh commands (each a -c) against this bgpd only. */
  async vtysh(...commands: string[]): Promise<string> {
    const { stdout } = await run("vtysh", ["--vty_socket", this.dir, "-d", "bgpd", ...commands.flatMap((c) => ["-c", c])], { maxBuffer: 512 * 1024 * 1024 });
    return stdout;
  }

  /** A `show ... json` command's parsed answer. */
  async show(command: string): Promise<unknown> {
    return JSON.parse((await this.vtysh(command)) || "{}");
  }

  /** FRR's neighbor record (`show bgp neighbors X json`). */
  async neighbor(address: string): Promise<Record<string, unknown>> {
    return ((await this.show(`show bgp neighbors ${address} json`)) as Record<string, Record<string, unknown>>)[address] ?? {};
  }

  /** "Established", "Active", "Idle", ... */
  async neighborState(address: string): Promise<string> {
    return String((await this.neighbor(address)).bgpState ?? "unknown");
  }

  async waitEstablished(address: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(async () => (await this.neighborState(address)) === "Established", timeoutMs, `FRR neighbor ${address} Established`).catch(async (err: Error) => {
      throw new Error(`${err.message}\nFRR: ${JSON.stringify(await this.neighbor(address).catch((e: Error) => e.message))}`);
    });
  }

  /** The prefixes in FRR's table for a family, each with its first path (valid or not). */
  async rib(family: Family = "ipv4"): Promise<FrrPath[]> {
    const json = (await this.show(`show bgp ${family} unicast json`)) as { routes?: Record<string, JsonPath[]> };
    return Object.entries(json.routes ?? {}).map(([prefix, paths]) => toPath(prefix, paths[0] ?? {}));
  }

  /** One prefix in detail (communities, large communities): undefined when FRR has none. */
  async route(prefix: string, family: Family = prefix.includes(":") ? "ipv6" : "ipv4"): Promise<FrrPath | undefined> {
    const json = (await this.show(`show bgp ${family} unicast ${prefix} json`)) as { paths?: JsonPath[] };
    return json.paths?.length ? toPath(prefix, json.paths[0]) : undefined;
  }

  /** What FRR has received from a neighbour before policy (soft-reconfiguration inbound). */
  async receivedRoutes(address: string, family: Family = "ipv4"): Promise<string[]> {
    const json = (await this.show(`show bgp ${family} unicast neighbors ${address} received-routes json`)) as { receivedRoutes?: Record<string, unknown> };
    return Object.keys(json.receivedRoutes ?? {});
  }

  /** Negotiated capabilities as FRR reports them, e.g. gracefulRestart. */
  async capabilities(address: string): Promise<Record<string, unknown>> {
    return ((await this.neighbor(address)).neighborCapabilities as Record<string, unknown>) ?? {};
  }
}
