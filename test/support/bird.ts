/**
 * Runs a real BIRD 2 for interop tests: its own config, control socket and
 * pid file in a temporary directory; queried through birdc.
 */
import { execFile, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { waitFor } from "./wait.js";
import { Daemon } from "./daemon.js";
import { loopbackAddress, unprivilegedPort } from "./loopback.js";

const run = promisify(execFile);

export interface BirdRoute {
  prefix: string;
  /** "unicast", "unreachable", "blackhole", ... */
  type: string;
  protocol: string;
  /** BIRD's route age stamp; unchanged while the route is not replaced. */
  since: string;
  primary: boolean;
  nextHop?: string;
  asPath: number[];
  localPref?: number;
  med?: number;
  origin?: string;
  communities: string[];
  largeCommunities: string[];
}

/** Where a BIRD and our side of one BGP session listen, each on its own loopback address and port. */
export interface BirdPeering {
  birdAddress: string;
  birdPort: number;
  ourAddress: string;
  ourPort: number;
}

export function birdPeering(): BirdPeering {
  return { birdAddress: loopbackAddress(), birdPort: unprivilegedPort(), ourAddress: loopbackAddress(), ourPort: unprivilegedPort() };
}

export interface BgpProtocolState {
  state: string;
  info: string;
}

export class Bird extends Daemon {
  private constructor(
    dir: string,
    readonly socket: string,
    child: ChildProcess,
  ) {
    super(dir, child);
  }

  /** Starts BIRD with `config` (a whole bird.conf) and waits for its control socket. */
  static async start(config: string): Promise<Bird> {
    const { dir, path: confPath } = Daemon.scratch("bird", "bird.conf", config);
    const socket = join(dir, "bird.ctl");
    return Daemon.launch({
      command: "bird",
      args: ["-f", "-c", confPath, "-s", socket, "-P", join(dir, "bird.pid")],
      capture: ["stderr"],
      create: (child) => new Bird(dir, socket, child),
      ready: async (bird) => {
        try {
          await bird.birdc("show status");
          return true;
        } catch {
          return false;
        }
      },
      timeoutMs: 10_000,
    });
  }

  async birdc(command: string): Promise<string> {
    const { stdout } = await run("birdc", ["-s", this.socket, ...command.split(" ")], { maxBuffer: 512 * 1024 * 1024 });
    return stdout;
  }

  async configure(config: string): Promise<void> {
    writeFileSync(join(this.dir, "bird.conf"), config);
    const out = await this.birdc("configure");
    if (!/Reconfigured|Reconfiguration in progress/.test(out)) throw new Error(`bird configure: ${out}`);
  }

  async protocol(name: string): Promise<BgpProtocolState> {
    const out = await this.birdc(`show protocols ${name}`);
    const line = out.split("\n").find((l) => l.startsWith(name + " "));
    if (!line) return { state: "missing", info: out.trim() };
    const fields = line.trim().split(/\s+/);
    return { state: fields[3], info: fields.slice(5).join(" ") };
  }

  async waitEstablished(name: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(async () => (await this.protocol(name)).info.startsWith("Established"), timeoutMs, `BIRD protocol ${name} Established`);
  }

  /** Routes in a table (default master4), optionally only from one protocol. */
  async routes(options: { table?: string; protocol?: string } = {}): Promise<BirdRoute[]> {
    const args = ["show route all", options.table ? `table ${options.table}` : "table master4", options.protocol ? `protocol ${options.protocol}` : ""];
    return parseBirdRoutes(await this.birdc(args.join(" ").trim()));
  }

  async routeCount(options: { table?: string; protocol?: string } = {}): Promise<number> {
    const args = ["show route count", options.table ? `table ${options.table}` : "table master4", options.protocol ? `protocol ${options.protocol}` : ""];
    const out = await this.birdc(args.join(" ").trim());
    const match = /(\d+) of \d+ routes/.exec(out);
    return match ? Number(match[1]) : 0;
  }
}

/** Parses `birdc show route all` output. */
export function parseBirdRoutes(text: string): BirdRoute[] {
  const routes: BirdRoute[] = [];
  let current: BirdRoute | undefined;
  let lastPrefix = "";
  for (const line of text.split("\n")) {
    const head = /^(\S+)?\s+(\w+) \[(\S+) ([^\]\s]+)(?: from [^\]]+)?\] (\*)?/.exec(line);
    if (head && !line.startsWith("\t") && !line.startsWith("Table")) {
      if (head[1]) lastPrefix = head[1];
      current = { prefix: lastPrefix, type: head[2], protocol: head[3], since: head[4], primary: head[5] === "*", asPath: [], communities: [], largeCommunities: [] };
      routes.push(current);
      continue;
    }
    if (!current) continue;
    const attr = /^\s+BGP\.(\w+): ?(.*)$/.exec(line);
    if (attr) {
      const [, name, value] = attr;
      if (name === "next_hop") current.nextHop = value.split(" ")[0];
      else if (name === "as_path") current.asPath = value.trim() ? value.trim().split(/\s+/).map(Number).filter(Number.isFinite) : [];
      else if (name === "local_pref") current.localPref = Number(value);
      else if (name === "med") current.med = Number(value);
      else if (name === "origin") current.origin = value;
      else if (name === "community") current.communities = [...value.matchAll(/\((\d+),(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`);
      else if (name === "large_community") current.largeCommunities = [...value.matchAll(/\((\d+), (\d+), (\d+)\)/g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`);
      continue;
    }
    const via = /^\s+via (\S+)/.exec(line);
    if (via && !current.nextHop) current.nextHop = via[1];
  }
  return routes;
}
