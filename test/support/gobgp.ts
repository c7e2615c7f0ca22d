/**
 * Runs a real gobgpd for interop tests, with its gRPC API on loopback, and
 * queries it through the gobgp CLI's JSON output.
 */
import { execFile, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { unprivilegedPort } from "./loopback.js";
import { waitFor } from "./wait.js";
import { Daemon } from "./daemon.js";

const run = promisify(execFile);

export interface GobgpNeighbor {
  address: string;
  asn: number;
  port?: number;
  localAddress: string;
  passive?: boolean;
  families?: Array<"ipv4-unicast" | "ipv6-unicast">;
  holdTime?: number;
  keepalive?: number;
  gracefulRestart?: boolean;
  /** TCP-MD5 password (RFC 2385): gobgpd's auth-password. */
  authPassword?: string;
  /** GTSM (RFC 5082): gobgpd's ttl-security with this ttl-min (the lowest TTL accepted; 255 = directly connected). */
  ttlMin?: number;
}

export interface GobgpOptions {
  asn: number;
  routerId: string;
  listenAddress: string;
  listenPort: number;
  neighbors: GobgpNeighbor[];
}

export interface GobgpPath {
  prefix: string;
  nextHop?: string;
  asPath: number[];
  localPref?: number;
  communities: number[];
  largeCommunities: string[];
}

function toml(options: GobgpOptions): string {
  const lines = [
    "[global.config]",
    `  as = ${options.asn}`,
    `  router-id = "${options.routerId}"`,
    `  port = ${options.listenPort}`,
    `  local-address-list = ["${options.listenAddress}"]`,
  ];
  for (const n of options.neighbors) {
    lines.push(
      "[[neighbors]]",
      "  [neighbors.config]",
      `    neighbor-address = "${n.address}"`,
      `    peer-as = ${n.asn}`,
      ...(n.authPassword ? [`    auth-password = ${JSON.stringify(n.authPassword)}`] : []),
      "  [neighbors.transport.config]",
      `    local-address = "${n.localAddress}"`,
      `    remote-port = ${n.port ?? 179}`,
      `    passive-mode = ${n.passive ? "true" : "false"}`,
      ...(n.ttlMin ? ["  [neighbors.ttl-security.config]", "    enabled = true", `    ttl-min = ${n.ttlMin}`] : []),
      "  [neighbors.timers.config]",
      "    connect-retry = 1",
      "    idle-hold-time-after-reset = 1",
      `    hold-time = ${n.holdTime ?? 90}`,
      `    keepalive-interval = ${n.keepalive ?? Math.floor((n.holdTime ?? 90) / 3)}`,
    );
    if (n.gracefulRestart) lines.push("  [neighbors.graceful-restart.config]", "    enabled = true", "    restart-time = 120");
    for (const family of n.families ?? ["ipv4-unicast"]) {
      lines.push("  [[neighbors.afi-safis]]", "    [neighbors.afi-safis.config]", `      afi-safi-name = "${family}"`);
      if (n.gracefulRestart) lines.push("    [neighbors.afi-safis.mp-graceful-restart.config]", "      enabled = true");
    }
  }
  return lines.join("\n") + "\n";
}

export class Gobgp extends Daemon {
  private constructor(
    dir: string,
    readonly apiHost: string,
    readonly apiPort: number,
    child: ChildProcess,
  ) {
    super(dir, child);
  }

  static async start(options: GobgpOptions): Promise<Gobgp> {
    const { dir, path: conf } = Daemon.scratch("gobgp", "gobgpd.toml", toml(options));
    const apiPort = unprivilegedPort();
    return Daemon.launch({
      command: "gobgpd",
      args: ["-f", conf, "--api-hosts", `${options.listenAddress}:${apiPort}`, "--pprof-disable", "-p", "-l", "warn"],
      capture: ["stdout", "stderr"],
      create: (child) => new Gobgp(dir, options.listenAddress, apiPort, child),
      ready: async (gobgp) => {
        await gobgp.cli("global");
        return true;
      },
      timeoutMs: 15_000,
      what: "gobgpd API",
    });
  }

  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run("gobgp", ["-u", this.apiHost, "-p", String(this.apiPort), ...args], { maxBuffer: 512 * 1024 * 1024 });
    return stdout;
  }

  async neighborState(address: string): Promise<string> {
    const json = JSON.parse(await this.cli("neighbor", address, "-j"));
    return String(json?.state?.session_state ?? "unknown");
  }

  async waitEstablished(address: string, timeoutMs = 30_000): Promise<void> {
    // gobgp's JSON uses the numeric enum (6 = ESTABLISHED) or its name, by version.
    await waitFor(async () => ["6", "established", "ESTABLISHED"].includes(await this.neighborState(address)), timeoutMs, `gobgp neighbor ${address} Established`);
  }

  /** Received routes in the global RIB for a family. */
  async rib(family: "ipv4" | "ipv6" = "ipv4"): Promise<GobgpPath[]> {
    const json = JSON.parse((await this.cli("global", "rib", "-a", family, "-j")) || "{}") as Record<string, Array<{ attrs?: Array<Record<string, unknown>> }>>;
    return Object.entries(json).map(([prefix, paths]) => {
      const attrs = paths[0]?.attrs ?? [];
      const path: GobgpPath = { prefix, asPath: [], communities: [], largeCommunities: [] };
      for (const a of attrs) {
        switch (a.type) {
          case 3:
            path.nextHop = String(a.nexthop);
            break;
          case 14:
            path.nextHop = String(a.nexthop);
            break;
          case 2:
            path.asPath = ((a.as_paths as Array<{ asns: number[] }>) ?? []).flatMap((s) => s.asns);
            break;
          case 5:
            path.localPref = Number(a.value);
            break;
          case 8:
            path.communities = (a.communities as number[]) ?? [];
            break;
          case 32:
            path.largeCommunities = ((a.value as Array<{ ASN: number; LocalData1: number; LocalData2: number }>) ?? []).map(
              (c) => `${c.ASN}:${c.LocalData1}:${c.LocalData2}`,
            );
            break;
        }
      }
      return path;
    });
  }

  async addRoute(prefix: string, nextHop: string, family: "ipv4" | "ipv6" = "ipv4"): Promise<void> {
    await this.cli("global", "rib", "add", "-a", family, prefix, "nexthop", nextHop);
  }

  async deleteRoute(prefix: string, family: "ipv4" | "ipv6" = "ipv4"): Promise<void> {
    await this.cli("global", "rib", "del", "-a", family, prefix);
  }
}
