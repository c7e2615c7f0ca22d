/**
 * The seed lab: the seed document's network built from Linux network
 * namespaces on one machine (root, iproute2, BIRD 2).
 *
 *                     bridge ns (br0)
 *        ┌──────────┬─────┴────┬──────────┬──────────┐
 *   ToR 192.168.1.1  node-1 .10  node-2 .11  node-3 .12  watcher .5
 *   (BIRD, AS 64512)  (speaker + HTTP stub on the service IPs)
 *        │ 192.168.100.1
 *   client 192.168.100.2
 *
 * The ToR runs BIRD with dynamic iBGP neighbors (`neighbor range`, passive:
 * speakers dial), `direct` sessions with `gateway direct`, ECMP into its
 * kernel table (`merge paths on`) and graceful restart. A blackhole default
 * route on the ToR makes traffic to an unadvertised address time out, as in
 * the seed. Each node has the service IPs on `lo` and a tiny HTTP server bound
 * to them that answers with the node's name (standing in for kube-proxy and
 * nginx).
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseBirdRoutes, type BirdRoute } from "../support/bird.js";
import { waitFor } from "../support/wait.js";
import { CommandError, LabRun, cleanupStale, exec, execIn, ip, isRunning, stopProcess, sysctl, type LabProcess } from "./netns.js";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const ASN = 64512;
export const TOR = { ip: "192.168.1.1", ip6: "fd00:1::1" } as const;
export const WATCHER = { ip: "192.168.1.5", ip6: "fd00:1::5", grpcPort: 50051 } as const;
export const CLIENT = { ip: "192.168.100.2", ip6: "fd00:100::2", gw: "192.168.100.1", gw6: "fd00:100::1" } as const;

export interface LabNode {
  name: string;
  /** Role used in the namespace name (n1..n3). */
  role: string;
  ip: string;
  ip6: string;
}

export const NODES: readonly LabNode[] = [
  { name: "node-1", role: "n1", ip: "192.168.1.10", ip6: "fd00:1::10" },
  { name: "node-2", role: "n2", ip: "192.168.1.11", ip6: "fd00:1::11" },
  { name: "node-3", role: "n3", ip: "192.168.1.12", ip6: "fd00:1::12" },
];

/** The seed's addresses, plus IPv6 counterparts for the dual-stack variant. */
export const SEED = {
  clusterCidr: "10.49.0.0/16",
  externalCidr: "192.168.3.0/24",
  clusterIP: "10.49.62.131",
  externalIP: "192.168.3.180",
  clusterCidr6: "fd00:49::/112",
  externalCidr6: "fd00:3::/120",
  clusterIP6: "fd00:49::3e83",
  externalIP6: "fd00:3::b4",
} as const;

export const SERVICE_IPS_V4 = [SEED.clusterIP, SEED.externalIP];
export const SERVICE_IPS_V6 = [SEED.clusterIP6, SEED.externalIP6];

export const SPEAKER_API = "127.0.0.1:50052";
export const SPEAKER_HTTP = "127.0.0.1:9091";

export const BINS = {
  watcher: join(REPO_ROOT, "services/watcher/dist/main.js"),
  speaker: join(REPO_ROOT, "services/speaker/dist/main.js"),
  ctl: join(REPO_ROOT, "services/ctl/dist/main.js"),
};

export function servicesBuilt(): boolean {
  return Object.values(BINS).every((p) => existsSync(p));
}

export interface TorRoute {
  /** Canonical CIDR (host routes get /32 or /128). */
  prefix: string;
  /** Gateways, sorted; one entry for a single-path route. */
  nexthops: string[];
  protocol?: string;
  type?: string;
}

export interface CurlResult {
  ok: boolean;
  body: string;
  /** curl's exit code (28 = timed out, 7 = could not connect). */
  exitCode: number;
  error: string;
}

export interface LabOptions {
  /** Also build the IPv6 side (fd00:1::/64 on the bridge, IPv6 service IPs, a v6 BGP session range). */
  ipv6?: boolean;
  /** Install SIGINT/SIGTERM handlers that clean up and exit (default true). */
  handleSignals?: boolean;
}

/** Source of the HTTP stub: `node -e SRC nodeName ip...`, answers every request with the node name. */
const HTTP_STUB = `
const http = require("node:http");
const [name, ...ips] = process.argv.slice(1);
for (const ip of ips) {
  http.createServer((req, res) => { res.setHeader("content-type", "text/plain"); res.end(name + "\\n"); })
    .listen(80, ip, () => console.log("listening", ip));
}
process.on("SIGTERM", () => process.exit(0));
`;

function canonical(dst: string, v6: boolean): string {
  if (dst === "default") return v6 ? "::/0" : "0.0.0.0/0";
  return dst.includes("/") ? dst : `${dst}/${v6 ? 128 : 32}`;
}

function tcpFamilyUrl(addr: string): string {
  return addr.includes(":") ? `http://[${addr}]/` : `http://${addr}/`;
}

export class Lab {
  readonly ns: { bridge: string; tor: string; client: string; watcher: string; nodes: Record<string, string> };
  private birdProcess: LabProcess | undefined;
  private readonly fakeSpeakers = new Map<string, LabProcess>();
  private readonly speakers = new Map<string, LabProcess>();
  private watcherProcess: LabProcess | undefined;

  private constructor(
    readonly run: LabRun,
    readonly options: Required<LabOptions>,
  ) {
    const nodes: Record<string, string> = {};
    for (const n of NODES) nodes[n.name] = run.nsName(n.role);
    this.ns = { bridge: run.nsName("br"), tor: run.nsName("tor"), client: run.nsName("cli"), watcher: run.nsName("wat"), nodes };
  }

  get dir(): string {
    return this.run.dir;
  }

  get torSocket(): string {
    return join(this.run.dir, "tor-bird.ctl");
  }

  /** Builds the network and starts the ToR's BIRD and the nodes' HTTP stubs. Cleans up if anything fails. */
  static async start(options: LabOptions = {}): Promise<Lab> {
    await cleanupStale();
    const opts: Required<LabOptions> = { ipv6: options.ipv6 ?? false, handleSignals: options.handleSignals ?? true };
    const lab = new Lab(new LabRun({ handleSignals: opts.handleSignals }), opts);
    try {
      await lab.build();
    } catch (err) {
      const logs = lab.run.logs();
      await lab.stop().catch(() => undefined);
      throw new Error(`lab start failed: ${(err as Error).message}${logs ? `\n${logs}` : ""}`, { cause: err });
    }
    return lab;
  }

  private async build(): Promise<void> {
    const r = this.run;
    const v6 = this.options.ipv6;
    const br = await r.createNamespace("br");
    await r.bridge(br, "br0");

    // ToR: eth0 on the bridge, eth1 to the client.
    const tor = await r.createNamespace("tor");
    await r.veth(br, "tor", tor, "eth0");
    await r.attach(br, "tor", "br0");
    await r.addAddress(tor, "eth0", `${TOR.ip}/24`);
    const client = await r.createNamespace("cli");
    await r.veth(tor, "eth1", client, "eth0");
    await r.addAddress(tor, "eth1", `${CLIENT.gw}/24`);
    await r.addAddress(client, "eth0", `${CLIENT.ip}/24`);
    await r.addRoute(client, ["default", "via", CLIENT.gw]);
    await sysctl(tor, "net.ipv4.ip_forward", "1");
    // Hash on L4 so curls with different source ports spread over the next hops.
    await sysctl(tor, "net.ipv4.fib_multipath_hash_policy", "1");
    // Unadvertised destinations are silently dropped (curl times out, as in the seed).
    await ip(["route", "add", "blackhole", "default", "metric", "4000"], tor);
    if (v6) {
      await sysctl(tor, "net.ipv6.conf.all.forwarding", "1");
      await sysctl(tor, "net.ipv6.fib_multipath_hash_policy", "1");
      await r.addAddress(tor, "eth0", `${TOR.ip6}/64`);
      await r.addAddress(tor, "eth1", `${CLIENT.gw6}/64`);
      await r.addAddress(client, "eth0", `${CLIENT.ip6}/64`);
      await r.addRoute(client, ["default", "via", CLIENT.gw6]);
      await ip(["-6", "route", "add", "blackhole", "default", "metric", "4000"], tor);
    }

    // Watcher.
    const wat = await r.createNamespace("wat");
    await r.veth(br, "wat", wat, "eth0");
    await r.attach(br, "wat", "br0");
    await r.addAddress(wat, "eth0", `${WATCHER.ip}/24`);
    await r.addRoute(wat, ["default", "via", TOR.ip]);
    if (v6) await r.addAddress(wat, "eth0", `${WATCHER.ip6}/64`);

    // Nodes.
    for (const node of NODES) {
      const ns = await r.createNamespace(node.role);
      await r.veth(br, node.role, ns, "eth0");
      await r.attach(br, node.role, "br0");
      await r.addAddress(ns, "eth0", `${node.ip}/24`);
      await r.addRoute(ns, ["default", "via", TOR.ip]);
      const ips: string[] = [...SERVICE_IPS_V4];
      for (const svc of SERVICE_IPS_V4) await r.addAddress(ns, "lo", `${svc}/32`);
      if (v6) {
        await r.addAddress(ns, "eth0", `${node.ip6}/64`);
        await r.addRoute(ns, ["default", "via", TOR.ip6]);
        for (const svc of SERVICE_IPS_V6) await r.addAddress(ns, "lo", `${svc}/128`);
        ips.push(...SERVICE_IPS_V6);
      }
      r.spawnIn(ns, `http-${node.name}`, process.execPath, ["-e", HTTP_STUB, node.name, ...ips]);
    }

    await this.startTor();
    // The HTTP stubs listen on every service IP before the lab is handed out.
    for (const node of NODES) {
      await waitFor(
        async () => {
          const out = await execIn(this.ns.nodes[node.name], "ss", ["-Hltn", "sport", "=", ":80"]);
          return out.trim().split("\n").filter(Boolean).length >= (v6 ? 4 : 2);
        },
        15_000,
        `HTTP stub on ${node.name}`,
        100,
      );
    }
  }

  /** The ToR's bird.conf. */
  torConfig(): string {
    const v6 = this.options.ipv6;
    const channels = (families: Array<"ipv4" | "ipv6">) => families.map((f) => `  ${f} { import all; export none; gateway direct; };`).join("\n");
    const families: Array<"ipv4" | "ipv6"> = v6 ? ["ipv4", "ipv6"] : ["ipv4"];
    return `# svcbgp seed lab: the top-of-rack router.
log stderr all;
router id ${TOR.ip};

protocol device { scan time 5; }

protocol kernel kernel4 {
  ipv4 { import none; export all; };
  merge paths on;
}
${v6 ? `protocol kernel kernel6 {\n  ipv6 { import none; export all; };\n  merge paths on;\n}\n` : ""}
template bgp speakers {
  local as ${ASN};
  direct;
  graceful restart on;
  graceful restart time 120;
  connect delay time 1;
  connect retry time 1;
  error wait time 1,2;
}

# Every node on the rack subnet may peer (iBGP); dynamic peers are passive.
protocol bgp nodes4 from speakers {
  local ${TOR.ip} as ${ASN};
  neighbor range 192.168.1.0/24 internal;
  dynamic name "node4_";
${channels(families)}
}
${
  v6
    ? `
protocol bgp nodes6 from speakers {
  local ${TOR.ip6} as ${ASN};
  neighbor range fd00:1::/64 internal;
  dynamic name "node6_";
${channels(families)}
}
`
    : ""
}`;
  }

  private async startTor(): Promise<void> {
    const conf = join(this.run.dir, "tor-bird.conf");
    writeFileSync(conf, this.torConfig());
    this.birdProcess = this.run.spawnIn(this.ns.tor, "tor-bird", "bird", ["-f", "-c", conf, "-s", this.torSocket, "-P", join(this.run.dir, "tor-bird.pid")]);
    const p = this.birdProcess;
    await waitFor(
      async () => {
        if (!isRunning(p)) throw new Error(`ToR BIRD exited:\n${this.run.logs()}`);
        try {
          await this.birdc("show status");
          return true;
        } catch {
          return false;
        }
      },
      15_000,
      "ToR BIRD control socket",
      100,
    );
  }

  /** Runs a birdc command against the ToR. */
  async birdc(command: string): Promise<string> {
    return exec("birdc", ["-s", this.torSocket, ...command.split(" ").filter(Boolean)]);
  }

  /** The ToR's BIRD routes (`show route all`), parsed. */
  async torBirdRoutes(table = "master4"): Promise<BirdRoute[]> {
    return parseBirdRoutes(await this.birdc(`show route all table ${table}`));
  }

  /** BGP protocols on the ToR and their states, e.g. {node4_1: "Established"}. */
  async torProtocols(): Promise<Array<{ name: string; state: string; info: string }>> {
    const out = await this.birdc("show protocols");
    const rows: Array<{ name: string; state: string; info: string }> = [];
    for (const line of out.split("\n")) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 4 && f[1] === "BGP") rows.push({ name: f[0], state: f[3], info: f.slice(5).join(" ") });
    }
    return rows;
  }

  /** The ToR kernel's routes learned from BIRD (`proto bird`), for one family or both. */
  async torRoutes(family: 4 | 6 | "all" = 4): Promise<TorRoute[]> {
    const fams: Array<4 | 6> = family === "all" ? [4, 6] : [family];
    const routes: TorRoute[] = [];
    for (const f of fams) {
      const out = await ip([`-${f}`, "-j", "route", "show", "proto", "bird"], this.ns.tor);
      if (!out.trim()) continue;
      const entries = JSON.parse(out) as Array<{ dst: string; type?: string; gateway?: string; protocol?: string; nexthops?: Array<{ gateway?: string }> }>;
      const byPrefix = new Map<string, TorRoute>();
      for (const e of entries) {
        const prefix = canonical(e.dst, f === 6);
        const gws = e.nexthops ? e.nexthops.map((n) => n.gateway).filter((g): g is string => !!g) : e.gateway ? [e.gateway] : [];
        // Older kernels list an IPv6 multipath route as one entry per next hop: merge them.
        const existing = byPrefix.get(prefix);
        if (existing) existing.nexthops.push(...gws);
        else byPrefix.set(prefix, { prefix, nexthops: gws, protocol: e.protocol, type: e.type });
      }
      for (const r of byPrefix.values()) {
        r.nexthops.sort();
        routes.push(r);
      }
    }
    return routes;
  }

  /** The ToR's routing table as `ip route` prints it (what the seed shows), only BIRD's routes. */
  async torIpRoute(family: 4 | 6 = 4): Promise<string> {
    const out = await ip([`-${family}`, "route", "show"], this.ns.tor);
    const blocks: string[][] = [];
    for (const line of out.split("\n")) {
      if (!line.trim()) continue;
      if (/^\s/.test(line) && blocks.length) blocks[blocks.length - 1].push(line);
      else blocks.push([line]);
    }
    return blocks
      .filter((b) => b[0].includes("proto bird"))
      .map((b) => b.join("\n"))
      .join("\n");
  }

  /** curl from the external client with --max-time; never throws. */
  async curlFromClient(addr: string, timeoutMs = 5000): Promise<CurlResult> {
    const secs = (timeoutMs / 1000).toFixed(1);
    try {
      const body = await execIn(this.ns.client, "curl", ["-sS", "-g", "--max-time", secs, tcpFamilyUrl(addr)], { timeoutMs: timeoutMs + 10_000 });
      return { ok: true, body: body.trim(), exitCode: 0, error: "" };
    } catch (err) {
      if (err instanceof CommandError) return { ok: false, body: err.stdout.trim(), exitCode: typeof err.code === "number" ? err.code : -1, error: err.stderr.trim() };
      throw err;
    }
  }

  /**
   * Curls `addr` from the client every `intervalMs` until stopped (each curl
   * with its own --max-time); `stop()` resolves with every result.
   */
  startCurlLoop(addr: string, intervalMs = 100, curlTimeoutMs = 2000): { peek: () => CurlResult[]; stop: () => Promise<CurlResult[]> } {
    const results: CurlResult[] = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        const started = Date.now();
        results.push(await this.curlFromClient(addr, curlTimeoutMs));
        const rest = intervalMs - (Date.now() - started);
        if (rest > 0) await new Promise((r) => setTimeout(r, rest));
      }
    })();
    return {
      peek: () => [...results],
      stop: async () => {
        running = false;
        await loop;
        return results;
      },
    };
  }

  /**
   * Samples the ToR's kernel route for `prefix` every `intervalMs` until
   * stopped; `stop()` resolves with the next-hop sets seen ([] = no route).
   */
  startRouteSampler(prefix: string, intervalMs = 100): { stop: () => Promise<string[][]> } {
    const samples: string[][] = [];
    let running = true;
    const family = prefix.includes(":") ? 6 : 4;
    const loop = (async () => {
      while (running) {
        try {
          const route = (await this.torRoutes(family)).find((r) => r.prefix === prefix);
          samples.push(route ? route.nexthops : []);
        } catch {
          // the lab is going away
          running = false;
        }
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return samples;
      },
    };
  }

  // ---- BIRD standing in for the speakers (validates the lab recipe without our services) ----

  /**
   * Starts BIRD in a node namespace as a fake speaker: it dials the ToR and
   * exports `prefixes` (as static blackhole routes, next hop self).
   */
  async startFakeSpeaker(nodeName: string, prefixes: string[]): Promise<void> {
    const node = NODES.find((n) => n.name === nodeName);
    if (!node) throw new Error(`unknown node ${nodeName}`);
    const ns = this.ns.nodes[nodeName];
    const conf = join(this.run.dir, `fake-${nodeName}.conf`);
    const socket = join(this.run.dir, `fake-${nodeName}.ctl`);
    writeFileSync(conf, this.fakeSpeakerConfig(node, prefixes));
    const existing = this.fakeSpeakers.get(nodeName);
    if (existing && isRunning(existing)) {
      const out = await exec("birdc", ["-s", socket, "configure"]);
      if (!/Reconfigured|Reconfiguration in progress/.test(out)) throw new Error(`fake speaker ${nodeName} configure: ${out}`);
      return;
    }
    const p = this.run.spawnIn(ns, `fake-${nodeName}`, "bird", ["-f", "-c", conf, "-s", socket, "-P", join(this.run.dir, `fake-${nodeName}.pid`)]);
    this.fakeSpeakers.set(nodeName, p);
    await waitFor(
      async () => {
        if (!isRunning(p)) throw new Error(`fake speaker ${nodeName} exited:\n${this.run.logs()}`);
        try {
          await exec("birdc", ["-s", socket, "show", "status"]);
          return true;
        } catch {
          return false;
        }
      },
      15_000,
      `fake speaker ${nodeName}`,
      100,
    );
  }

  async stopFakeSpeaker(nodeName: string, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const p = this.fakeSpeakers.get(nodeName);
    if (p) await stopProcess(p, signal);
    this.fakeSpeakers.delete(nodeName);
  }

  private fakeSpeakerConfig(node: LabNode, prefixes: string[]): string {
    const v4 = prefixes.filter((p) => !p.includes(":"));
    const v6 = prefixes.filter((p) => p.includes(":"));
    const session = (name: string, local: string, peer: string, family: "ipv4" | "ipv6", source: string) => `
protocol bgp ${name} {
  local ${local} as ${ASN};
  neighbor ${peer} as ${ASN};
  direct;
  graceful restart on;
  connect delay time 1;
  connect retry time 1;
  error wait time 1,2;
  ${family} { import none; export where proto = "${source}"; next hop self; };
}
`;
    return `# svcbgp seed lab: BIRD standing in for the speaker on ${node.name}.
log stderr all;
router id ${node.ip};
protocol device { scan time 5; }
protocol static s4 {
  ipv4;
${v4.map((p) => `  route ${p} blackhole;`).join("\n")}
}
${session("tor4", node.ip, TOR.ip, "ipv4", "s4")}
${
  this.options.ipv6
    ? `protocol static s6 {
  ipv6;
${v6.map((p) => `  route ${p} blackhole;`).join("\n")}
}
${session("tor6", node.ip6, TOR.ip6, "ipv6", "s6")}`
    : ""
}`;
  }

  // ---- our services ----

  /** Starts `svcbgp-watcher --manifests DIR` in the watcher namespace and waits for its gRPC port. */
  async startWatcher(manifestsDir: string, extraArgs: string[] = []): Promise<LabProcess> {
    if (this.watcherProcess && isRunning(this.watcherProcess)) throw new Error("watcher already running");
    const p = this.run.spawnIn(this.ns.watcher, "watcher", process.execPath, [
      BINS.watcher,
      "--manifests",
      manifestsDir,
      "--listen",
      `0.0.0.0:${WATCHER.grpcPort}`,
      "--http-listen",
      "127.0.0.1:9090",
      ...extraArgs,
    ]);
    this.watcherProcess = p;
    await this.waitListening(this.ns.watcher, WATCHER.grpcPort, p, "watcher gRPC");
    return p;
  }

  async stopWatcher(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.watcherProcess) await stopProcess(this.watcherProcess, signal);
  }

  /** Starts `svcbgp-speaker` for a node inside its namespace. */
  async startSpeaker(nodeName: string, extraArgs: string[] = []): Promise<LabProcess> {
    const existing = this.speakers.get(nodeName);
    if (existing && isRunning(existing)) throw new Error(`speaker ${nodeName} already running`);
    const ns = this.ns.nodes[nodeName];
    const p = this.run.spawnIn(ns, `speaker-${nodeName}`, process.execPath, [
      BINS.speaker,
      "--node-name",
      nodeName,
      "--watcher",
      `${WATCHER.ip}:${WATCHER.grpcPort}`,
      "--api-listen",
      SPEAKER_API,
      "--http-listen",
      SPEAKER_HTTP,
      ...extraArgs,
    ]);
    this.speakers.set(nodeName, p);
    await this.waitListening(ns, Number(SPEAKER_API.split(":")[1]), p, `speaker ${nodeName} API`);
    return p;
  }

  async stopSpeaker(nodeName: string, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const p = this.speakers.get(nodeName);
    if (p) await stopProcess(p, signal);
  }

  speakerProcess(nodeName: string): LabProcess | undefined {
    return this.speakers.get(nodeName);
  }

  get watcher(): LabProcess | undefined {
    return this.watcherProcess;
  }

  private async waitListening(ns: string, port: number, p: LabProcess, what: string): Promise<void> {
    await waitFor(
      async () => {
        if (!isRunning(p)) throw new Error(`${what}: process exited (${p.child.exitCode ?? p.child.signalCode}); log ${p.logFile}`);
        const out = await execIn(ns, "ss", ["-Hltn", "sport", "=", `:${port}`]);
        return out.trim().length > 0;
      },
      30_000,
      `${what} listening on :${port}`,
      100,
    );
  }

  /** Runs svcbgpctl inside a node's namespace (speaker API on its loopback, watcher on the bridge). */
  async ctl(nodeName: string, args: string[]): Promise<string> {
    return execIn(this.ns.nodes[nodeName], process.execPath, [BINS.ctl, "--speaker", SPEAKER_API, "--watcher", `${WATCHER.ip}:${WATCHER.grpcPort}`, ...args]);
  }

  /** The tail of every process log (BIRD, HTTP stubs, services). */
  logs(maxLines = 40): string {
    return this.run.logs(maxLines);
  }

  /** Stops everything and deletes every namespace. */
  async stop(): Promise<void> {
    await this.run.cleanup();
  }
}
