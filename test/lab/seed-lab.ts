/**
 * The seed lab with svcbgp in it: the Lab's network, `svcbgp-watcher
 * --manifests DIR` in the watcher namespace and `svcbgp-speaker` in each node
 * namespace. Shared by `npm run demo` and test/e2e/seed.test.ts.
 */
import { join } from "node:path";
import { waitFor } from "../support/wait.js";
import { Lab, NODES, type LabOptions, type TorRoute } from "./lab.js";
import { writeManifests, type ExpectedRoute, type Manifest } from "./seed-steps.js";

export function nodeIp(name: string, v6 = false): string {
  const n = NODES.find((x) => x.name === name);
  if (!n) throw new Error(`unknown node ${name}`);
  return v6 ? n.ip6 : n.ip;
}

/** The ToR routes `expected` stands for, in TorRoute form (next hops sorted). */
export function expectedTorRoutes(expected: ExpectedRoute[]): TorRoute[] {
  return expected
    .map((r) => ({ prefix: r.prefix, nexthops: r.nodes.map((n) => nodeIp(n, r.prefix.includes(":"))).sort() }))
    .sort((a, b) => a.prefix.localeCompare(b.prefix));
}

/** Only prefix and next hops, sorted by prefix: comparable with expectedTorRoutes(). */
export function comparable(routes: TorRoute[]): TorRoute[] {
  return routes.map((r) => ({ prefix: r.prefix, nexthops: [...r.nexthops].sort() })).sort((a, b) => a.prefix.localeCompare(b.prefix));
}

export class SeedLab {
  private constructor(
    readonly lab: Lab,
    readonly manifestsDir: string,
  ) {}

  /**
   * Builds the lab, writes `manifests` to the watcher's manifests directory
   * and starts the watcher and the three speakers.
   */
  static async start(manifests: Manifest[], options: LabOptions & { log?: (line: string) => void } = {}): Promise<SeedLab> {
    const log = options.log ?? (() => undefined);
    log("building the network namespaces and starting the ToR (BIRD) ...");
    const lab = await Lab.start(options);
    const seed = new SeedLab(lab, join(lab.dir, "manifests"));
    try {
      writeManifests(seed.manifestsDir, manifests);
      log(`starting svcbgp-watcher --manifests ${seed.manifestsDir} in ${lab.ns.watcher} ...`);
      await lab.startWatcher(seed.manifestsDir);
      for (const n of NODES) {
        log(`starting svcbgp-speaker --node-name ${n.name} in ${lab.ns.nodes[n.name]} ...`);
        await lab.startSpeaker(n.name);
      }
    } catch (err) {
      const logs = lab.logs();
      await lab.stop().catch(() => undefined);
      throw new Error(`seed lab start failed: ${(err as Error).message}\n${logs}`, { cause: err });
    }
    return seed;
  }

  apply(manifests: Manifest[]): void {
    writeManifests(this.manifestsDir, manifests);
  }

  /** The ToR's BIRD-installed routes (both families when the lab is dual-stack), comparable form. */
  async torRoutes(): Promise<TorRoute[]> {
    return comparable(await this.lab.torRoutes(this.lab.options.ipv6 ? "all" : 4));
  }

  /** Waits until the ToR's kernel has exactly `expected` (every BIRD route, exact next hops). */
  async waitForRoutes(expected: ExpectedRoute[], timeoutMs = 60_000): Promise<TorRoute[]> {
    const want = JSON.stringify(expectedTorRoutes(expected));
    let last: TorRoute[] = [];
    try {
      await waitFor(
        async () => {
          last = await this.torRoutes();
          return JSON.stringify(last) === want;
        },
        timeoutMs,
        "the ToR's routes",
        200,
      );
    } catch {
      throw new Error(`the ToR's routes did not become ${want}; last seen ${JSON.stringify(last)}`);
    }
    return last;
  }

  /** Waits until the ToR has at least `want` Established BGP sessions (default: one per node). */
  async waitForSessions(want = NODES.length, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      async () => (await this.lab.torProtocols()).filter((p) => p.info.startsWith("Established")).length >= want,
      timeoutMs,
      `${want} Established sessions on the ToR`,
      200,
    );
  }

  /**
   * Waits until the ToR's session from `node` is Established and out of
   * graceful restart: its End-of-RIB has arrived, so the routes it re-sent
   * have replaced the stale ones and nothing from the restart is still in
   * flight. (Counting Established sessions is not enough: right after a
   * restart the count can still include the old session, and the stale
   * routes already match what the new one will send.)
   */
  async waitForRestartDone(node: string, timeoutMs = 60_000): Promise<void> {
    // The address may be followed by %interface; the anchor keeps .1 from matching .10.
    const neighbor = new RegExp(`^\\s+Neighbor address:\\s+${nodeIp(node).replaceAll(".", "\\.")}(%\\S+)?\\s*$`, "m");
    const restarting = /graceful restart active|Neighbor GR:/;
    let last = "";
    try {
      await waitFor(
        async () => {
          const out = await this.lab.birdc("show protocols all");
          // One block per protocol; a dynamic neighbor could have a second, down instance for a moment.
          const blocks = out.split(/\n(?=\S)/).filter((b) => neighbor.test(b));
          last = blocks.length ? blocks.join("\n") : out;
          return blocks.some((b) => /^\s+BGP state:\s+Established\s*$/m.test(b)) && !blocks.some((b) => restarting.test(b));
        },
        timeoutMs,
        `the ToR's session from ${node}`,
        200,
      );
    } catch {
      throw new Error(`the ToR's session from ${node} did not become Established with graceful restart done; last seen:\n${last}`);
    }
  }

  async stop(): Promise<void> {
    await this.lab.stop();
  }
}
