/**
 * BIRD and gobgpd set-ups shared by the benchmarks (loopback only), on top of
 * test/support's runners.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Bird } from "../../support/bird.js";
import { Gobgp } from "../../support/gobgp.js";
import { loopbackAddress, unprivilegedPort } from "../../support/loopback.js";

const run = promisify(execFile);

/** The pid of a runner's daemon (the runners keep their ChildProcess private). */
export function pidOf(daemon: Bird | Gobgp): number {
  const pid = (daemon as unknown as { child: { pid?: number } }).child.pid;
  if (!pid) throw new Error("daemon has no pid");
  return pid;
}

export interface Endpoint {
  address: string;
  port: number;
}

export function endpoint(): Endpoint {
  return { address: loopbackAddress(), port: unprivilegedPort() };
}

export { hostPrefix, netPrefix } from "./prefixes.js";

export function staticRoutes(count: number, prefix: (i: number) => string): string {
  const lines: string[] = new Array(count);
  for (let i = 0; i < count; i++) lines[i] = `  route ${prefix(i)} blackhole;`;
  return lines.join("\n");
}

export interface BirdBgpOptions {
  self: Endpoint;
  peer: Endpoint;
  asn: number;
  peerAsn: number;
  /** Listen only (the other side dials). */
  passive: boolean;
  /** Routes to announce from a static protocol "s1" (count and prefix generator). */
  statics?: { count: number; prefix: (i: number) => string };
  /** Next hop to put on announced routes (gobgpd drops 127/8 next hops). */
  nextHop?: string;
  hold?: number;
  keepalive?: number;
}

/** A whole bird.conf: one BGP protocol "peer1", optionally a static "s1" it exports. Nothing touches the kernel. */
export function birdConfig(o: BirdBgpOptions): string {
  const statics = o.statics ? `protocol static s1 {\n  ipv4;\n${staticRoutes(o.statics.count, o.statics.prefix)}\n}\n` : "";
  return `router id ${o.self.address};
protocol device {}
${statics}
protocol bgp peer1 {
  local ${o.self.address} port ${o.self.port} as ${o.asn};
  neighbor ${o.peer.address} port ${o.peer.port} as ${o.peerAsn};
  multihop; strict bind on; ${o.passive ? "passive on;" : ""}
  connect delay time ${o.passive ? 1 : 0}; connect retry time 1; error wait time 1,2;
  hold time ${o.hold ?? 90}; ${o.keepalive ? `keepalive time ${o.keepalive};` : ""}
  ipv4 {
    import all;
    export ${o.statics ? 'where proto = "s1"' : "none"};
    ${o.nextHop ? `next hop address ${o.nextHop};` : ""}
  };
}
`;
}

/** Routes BIRD's protocol has imported (a counter: cheap to poll, unlike `show route count` on a large table). */
export async function birdImported(bird: Bird, protocol = "peer1"): Promise<number> {
  const out = await bird.birdc(`show protocols all ${protocol}`);
  const m = /Routes:\s+(\d+) imported/.exec(out);
  return m ? Number(m[1]) : 0;
}

/** Paths in gobgpd's global IPv4 RIB. */
export async function gobgpPathCount(gobgp: Gobgp): Promise<number> {
  const out = await gobgp.cli("global", "rib", "summary", "-a", "ipv4");
  const m = /Path:\s*(\d+)/.exec(out);
  return m ? Number(m[1]) : 0;
}

export async function birdcRaw(socket: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("birdc", ["-s", socket, ...args]);
  return stdout;
}

export { Bird, Gobgp };
