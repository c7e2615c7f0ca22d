/**
 * The images, driven from TypeScript with testcontainers: a BIRD ToR, a
 * watcher and three "nodes" on user-defined networks, each node with a
 * speaker container in its network namespace (as a hostNetwork DaemonSet pod
 * on a node), and a client behind the ToR. Covers what the namespace lab
 * cannot: a speaker container killed with SIGKILL, a frozen one, and a
 * rolling restart of every speaker container with graceful restart while a
 * client keeps curling the cluster IP.
 *
 * Short timers come from the BGPPeer manifest: keepaliveTime 3s, holdTime 9s
 * (the svcbgp extension), maxRestartTime (the graceful-restart time the
 * speakers advertise).
 *
 * Needs a Docker engine and the images scripts/docker-env.sh builds; skips
 * with the reason otherwise (fails under SVCBGP_REQUIRE_DOCKER=1). The reaper
 * image cannot be pulled here, so Ryuk is off and the suite removes what it
 * made (labelled with the run id; a later run removes what a killed run left).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { GenericContainer, Wait, getContainerRuntimeClient, type StartedTestContainer } from "testcontainers";
import { describe, expect, it } from "vitest";
import { dockerAvailable, svcbgpImages } from "../support/requirements.js";
import { eventually, sleep } from "../support/wait.js";
import { curlLoopScript, curlTally, deadRun, nextHops, parseRoutes, run, runQuiet, suiteLifecycle } from "./support.js";

process.env.TESTCONTAINERS_RYUK_DISABLED = "true";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLUSTER_IP = "10.49.62.131";
const KEEPALIVE = 3;
const HOLD = 9;
/**
 * The graceful-restart time the speakers advertise: how long the ToR keeps a
 * stopped speaker's routes. The rolling restart must replace a speaker
 * container (docker stop, rm, create, start, Node start-up, watcher, BGP)
 * within it or lose a next hop: 2.3–2.5 s on a quiet machine, so 30 s leaves
 * room for a loaded one; the SIGKILL test waits this long for the flush.
 */
const RESTART = 30;
const RUN_PREFIX = "svcbgptc";
const LABEL = "io.svcbgp.test-run";

const images = svcbgpImages();
const enabled = dockerAvailable("testcontainers suite (test/containers/testcontainers.test.ts)", { images: Object.values(images) });

/** A container with fixed IPv4 addresses on one or more user-defined networks, sysctls and an init. */
class NodeContainer extends GenericContainer {
  private readonly endpoints: Array<{ network: string; ip: string }> = [];

  withIp(network: string, ip: string): this {
    this.endpoints.push({ network, ip });
    return this;
  }

  withSysctls(sysctls: Record<string, string>): this {
    this.hostConfig.Sysctls = { ...this.hostConfig.Sysctls, ...sysctls };
    return this;
  }

  withInit(): this {
    this.hostConfig.Init = true;
    return this;
  }

  protected override async beforeContainerCreated(): Promise<void> {
    const [first] = this.endpoints;
    if (!first) return;
    this.withNetworkMode(first.network);
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [first.network]: { IPAMConfig: { IPv4Address: first.ip } } } };
  }

  // Docker 20.10's API creates a container on one network; the others are connected before it starts.
  protected override async containerCreated(containerId: string): Promise<void> {
    const runtime = await getContainerRuntimeClient();
    for (const { network, ip } of this.endpoints.slice(1)) {
      await runtime.network.getById(network).connect({ Container: containerId, EndpointConfig: { IPAMConfig: { IPv4Address: ip } } });
    }
  }
}

describe.runIf(enabled)("testcontainers: ToR, watcher and speaker containers", () => {
  const runId = `${RUN_PREFIX}${process.pid}x${Date.now().toString(36)}`;
  const labels = { [LABEL]: runId };
  const networks: string[] = [];
  const containers = new Set<StartedTestContainer>();

  // Addresses, fixed once the networks exist: nodes a.b.c.0/24, clients a.b'.c.0/24.
  let nodesNet = "";
  let clientsNet = "";
  const nodesIp = (host: number) => `${nodesNet.split(".").slice(0, 3).join(".")}.${host}`;
  const clientsIp = (host: number) => `${clientsNet.split(".").slice(0, 3).join(".")}.${host}`;
  const nodeIps = () => [10, 11, 12].map(nodesIp);

  let tor: StartedTestContainer;
  let client: StartedTestContainer;
  const nodes: StartedTestContainer[] = [];
  const speakers: StartedTestContainer[] = [];

  const exec = async (container: StartedTestContainer, command: string[]) => {
    const result = await container.exec(command);
    if (result.exitCode !== 0) throw new Error(`${command.join(" ")}: exit ${result.exitCode}: ${result.output.trim()}`);
    return result.stdout;
  };
  const torHops = async (prefix = "10.49.0.0/16") => nextHops(parseRoutes(await exec(tor, ["ip", "-j", "route", "show"])), prefix);
  const curlOnce = async () => (await exec(client, ["curl", "-sS", "-m", "3", "--fail", `http://${CLUSTER_IP}/`])).trim();

  /** Polls the ToR until `prefix` has exactly `want` as next hops; returns the seconds it took. */
  async function hopsBecome(want: string[], timeoutMs: number, since = Date.now()): Promise<number> {
    await eventually(async () => {
      expect(await torHops()).toEqual(want);
    }, timeoutMs, 250);
    return (Date.now() - since) / 1000;
  }

  function manifests(): Array<{ content: string; target: string }> {
    const node = (i: number) => `apiVersion: v1
kind: Node
metadata:
  name: node-${i}
  labels: {kubernetes.io/hostname: node-${i}}
spec:
  podCIDR: 10.48.${i}.0/24
  podCIDRs: [10.48.${i}.0/24]
status:
  addresses:
    - {type: InternalIP, address: ${nodesIp(9 + i)}}
`;
    const peer = `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: tor
spec:
  peerIP: ${nodesIp(1)}
  asNumber: 64512
  keepaliveTime: ${KEEPALIVE}s
  holdTime: ${HOLD}s
  maxRestartTime: ${RESTART}s
`;
    return [
      { content: [1, 2, 3].map(node).join("---\n"), target: "/manifests/nodes.yaml" },
      { content: peer, target: "/manifests/bgppeer.yaml" },
      { content: readFileSync(`${ROOT}examples/seed/bgpconfiguration.yaml`, "utf8"), target: "/manifests/bgpconfiguration.yaml" },
      { content: readFileSync(`${ROOT}examples/seed/nginx.yaml`, "utf8"), target: "/manifests/nginx.yaml" },
    ];
  }

  async function startSpeaker(i: number): Promise<StartedTestContainer> {
    const speaker = await new GenericContainer(images.svcbgp)
      .withNetworkMode(`container:${nodes[i].getId()}`)
      .withCommand(["svcbgp-speaker", "--node-name", `node-${i + 1}`, "--watcher", `${nodesIp(5)}:50051`])
      .withLabels(labels)
      .withDroppedCapabilities("ALL")
      .withTmpFs({ "/tmp": "rw" })
      .withWaitStrategy(Wait.forLogMessage(/speaker started/))
      .withStartupTimeout(60_000)
      .start();
    containers.add(speaker);
    speakers[i] = speaker;
    return speaker;
  }

  async function removeContainer(container: StartedTestContainer): Promise<void> {
    containers.delete(container);
    await runQuiet("docker", ["rm", "-f", "-v", container.getId()]);
  }

  /** Containers and networks of runs whose process is gone. */
  async function removeStale(): Promise<void> {
    const format = `{{.ID}} {{.Label "${LABEL}"}}`;
    const rows = (out: string) => out.split("\n").map((l) => l.trim().split(" ")).filter(([id, run]) => id && run && deadRun(run, RUN_PREFIX));
    const staleContainers = rows(await runQuiet("docker", ["ps", "-a", "--filter", `label=${LABEL}`, "--format", format]));
    if (staleContainers.length) await runQuiet("docker", ["rm", "-f", "-v", ...staleContainers.map(([id]) => id)]);
    const staleNetworks = rows(await runQuiet("docker", ["network", "ls", "--filter", `label=${LABEL}`, "--format", format]));
    if (staleNetworks.length) await runQuiet("docker", ["network", "rm", ...staleNetworks.map(([id]) => id)]);
  }

  /** Two /24 bridges for this run, at a random place in 10.250-251.x that no other Docker network uses. */
  async function createNetworks(): Promise<void> {
    const runtime = await getContainerRuntimeClient();
    for (let attempt = 0; ; attempt++) {
      const c = Math.floor(Math.random() * 256);
      const candidates = [`10.250.${c}.0/24`, `10.251.${c}.0/24`];
      const created: string[] = [];
      try {
        for (const [n, subnet] of candidates.entries()) {
          const name = `${runId}-${n === 0 ? "nodes" : "clients"}`;
          const gateway = subnet.replace(/0\/24$/, "254");
          await runtime.network.create({ Name: name, Driver: "bridge", CheckDuplicate: true, Labels: labels, IPAM: { Driver: "default", Config: [{ Subnet: subnet, Gateway: gateway }] } });
          created.push(name);
          networks.push(name);
        }
        [nodesNet, clientsNet] = candidates;
        return;
      } catch (err) {
        for (const name of created) {
          await runQuiet("docker", ["network", "rm", name]);
          networks.splice(networks.indexOf(name), 1);
        }
        if (attempt >= 8 || !/overlap/i.test(String(err))) throw err;
      }
    }
  }

  async function diagnostics(): Promise<string> {
    const parts: string[] = [];
    if (tor) {
      parts.push(`--- tor: birdc show protocols all\n${await runQuiet("docker", ["exec", tor.getId(), "birdc", "-s", "/run/bird/bird.ctl", "show", "protocols", "all"])}`);
      parts.push(`--- tor: ip route\n${await runQuiet("docker", ["exec", tor.getId(), "ip", "route"])}`);
    }
    for (const container of containers) {
      const logs = await runQuiet("docker", ["logs", "--tail", "25", container.getId()]);
      parts.push(`--- logs ${container.getName()} (${container.getId().slice(0, 12)})\n${logs}`);
    }
    return parts.join("\n");
  }

  suiteLifecycle({
    setup: async () => {
      await removeStale();
      await createNetworks();
      const [nodes0, clients0] = networks;
      const birdConf = readFileSync(`${ROOT}deploy/compose/bird/bird.conf`, "utf8").replaceAll("192.168.1.", nodesIp(0).replace(/0$/, ""));
      tor = await new NodeContainer(images.bird)
        .withIp(nodes0, nodesIp(1))
        .withIp(clients0, clientsIp(1))
        .withAddedCapabilities("NET_ADMIN")
        .withSysctls({ "net.ipv4.ip_forward": "1", "net.ipv4.fib_multipath_hash_policy": "1" })
        .withCopyContentToContainer([{ content: birdConf, target: "/etc/bird/bird.conf" }])
        .withLabels(labels)
        .withWaitStrategy(Wait.forLogMessage(/Started/))
        .withStartupTimeout(60_000)
        .start();
      containers.add(tor);

      const watcher = await new NodeContainer(images.svcbgp)
        .withIp(nodes0, nodesIp(5))
        .withCommand(["svcbgp-watcher", "--manifests", "/manifests", "--listen", "0.0.0.0:50051"])
        .withCopyContentToContainer(manifests())
        .withDroppedCapabilities("ALL")
        .withLabels(labels)
        .withWaitStrategy(Wait.forLogMessage(/serving intents/))
        .withStartupTimeout(60_000)
        .start();
      containers.add(watcher);

      const workload = { source: `${ROOT}deploy/compose/workload.sh`, target: "/usr/local/bin/workload.sh", mode: 0o755 };
      for (const i of [0, 1, 2]) {
        const node = await new NodeContainer(images.tools)
          .withIp(nodes0, nodesIp(10 + i))
          .withHostname(`node-${i + 1}`)
          .withInit()
          .withCommand(["/usr/local/bin/workload.sh"])
          .withCopyFilesToContainer([workload])
          .withEnvironment({ NODE_NAME: `node-${i + 1}`, TOR_IP: nodesIp(1), CLIENTS_NET: clientsNet })
          .withAddedCapabilities("NET_ADMIN")
          .withLabels(labels)
          .start();
        containers.add(node);
        nodes[i] = node;
      }
      client = await new NodeContainer(images.tools)
        .withIp(clients0, clientsIp(10))
        .withInit()
        .withCommand(["/usr/local/bin/client.sh"])
        .withCopyFilesToContainer([{ source: `${ROOT}deploy/compose/client.sh`, target: "/usr/local/bin/client.sh", mode: 0o755 }])
        .withEnvironment({ TOR_IP: clientsIp(1), NODES_NET: nodesNet })
        .withAddedCapabilities("NET_ADMIN")
        .withLabels(labels)
        .start();
      containers.add(client);

      await Promise.all([0, 1, 2].map((i) => startSpeaker(i)));
      await hopsBecome(nodeIps(), 90_000);
      await eventually(async () => {
        expect(await curlOnce()).toMatch(/^hello from node-[123]$/);
      }, 30_000, 500);
    },
    setupTimeoutMs: 300_000,
    name: `testcontainers run ${runId}`,
    diagnostics,
    teardown: async () => {
      const ids = [...containers].map((c) => c.getId());
      if (ids.length) await runQuiet("docker", ["rm", "-f", "-v", ...ids], { timeoutMs: 120_000 });
      for (const name of networks) await runQuiet("docker", ["network", "rm", name]);
    },
    teardownTimeoutMs: 180_000,
  });

  it("a speaker killed with SIGKILL: the ToR drops its next hop, traffic keeps flowing, a new speaker brings it back", async () => {
    const killed = speakers[0];
    const t0 = Date.now();
    await run("docker", ["kill", "--signal", "KILL", killed.getId()]);
    // No NOTIFICATION: the kernel closes the socket, BIRD keeps the routes as
    // stale for the restart time the speaker advertised, then drops them (or
    // its hold timer fires first when the close never reaches it).
    const seconds = await hopsBecome(nodeIps().slice(1), (RESTART + HOLD + 30) * 1000, t0);
    console.info(`SIGKILL: the ToR dropped the killed speaker's next hop after ${seconds.toFixed(1)} s (restart time ${RESTART} s, hold time ${HOLD} s)`);
    expect(seconds).toBeLessThanOrEqual(RESTART + HOLD + 30);
    const tally = curlTally(await exec(client, ["sh", "-c", `for i in $(seq 10); do if b=$(curl -sS -m 3 --fail http://${CLUSTER_IP}/ 2>&1); then echo "OK $b"; else echo "FAIL $? $b"; fi; done`]));
    expect(tally.failures).toEqual([]);
    await removeContainer(killed);
    await startSpeaker(0);
    await hopsBecome(nodeIps(), 60_000);
  }, 240_000);

  it("a frozen speaker (no keepalives, no close): the ToR withdraws once its hold time expires", async () => {
    const frozen = speakers[1];
    // From before the pause: the freeze happens somewhere inside the docker call, and
    // timing from its return would shorten the interval by however long it took.
    const t0 = Date.now();
    await run("docker", ["pause", frozen.getId()]);
    try {
      const seconds = await hopsBecome([nodeIps()[0], nodeIps()[2]], (HOLD + 30) * 1000, t0);
      console.info(`frozen speaker: the ToR withdrew its next hop after ${seconds.toFixed(1)} s (hold time ${HOLD} s, keepalive ${KEEPALIVE} s)`);
      // The last keepalive came at most one keepalive interval before the pause.
      expect(seconds).toBeGreaterThanOrEqual(HOLD - KEEPALIVE - 1);
      expect(seconds).toBeLessThanOrEqual(HOLD + 30);
    } finally {
      await run("docker", ["unpause", frozen.getId()]).catch(() => undefined);
    }
    // Thawed, it finds its session gone and dials again.
    await hopsBecome(nodeIps(), 90_000);
  }, 180_000);

  it("a rolling restart of every speaker container (SIGTERM, graceful restart): no failed curl, no next hop lost", async () => {
    const loop = client.exec(["sh", "-c", curlLoopScript(`http://${CLUSTER_IP}/`, "roll", 0.05)]);
    // A sample whose docker exec failed says nothing about the route: kept apart, not counted as a lost next hop.
    const samples: Array<{ at: number; hops?: string[]; error?: string }> = [];
    let monitoring = true;
    const monitor = (async () => {
      while (monitoring) {
        const at = Date.now();
        samples.push(await torHops().then(
          (hops) => ({ at, hops }),
          (err: unknown) => ({ at, error: String(err) }),
        ));
        await sleep(100);
      }
    })();
    try {
      await sleep(1_000);
      for (const i of [0, 1, 2]) {
        const old = speakers[i];
        const t0 = Date.now();
        await old.stop({ timeout: 15_000 }); // SIGTERM: sessions close without NOTIFICATION (graceful restart)
        containers.delete(old);
        const fresh = await startSpeaker(i);
        // Back when the new speaker's session is up and the ToR holds no stale route from it.
        await eventually(async () => {
          const protocols = await exec(tor, ["birdc", "-s", "/run/bird/bird.ctl", "show", "protocols", "all"]);
          const block = protocols.split(/\n(?=\S)/).find((b) => b.includes(`Neighbor address: ${nodeIps()[i]}`) && b.includes("BGP state:          Established"));
          expect(block, `an Established session from ${nodeIps()[i]}`).toBeDefined();
          expect(block).not.toMatch(/graceful restart active|Neighbor GR:/);
        }, RESTART * 1000, 250);
        console.info(`rolling restart: node-${i + 1}'s speaker replaced (${fresh.getId().slice(0, 12)}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
      await sleep(1_000);
    } finally {
      monitoring = false;
      await monitor;
      await exec(client, ["touch", "/tmp/roll.stop"]).catch(() => undefined);
    }
    const tally = curlTally((await loop).stdout);
    const read = samples.flatMap((s) => (s.hops ? [{ at: s.at, hops: s.hops }] : []));
    const unread = samples.filter((s) => s.error);
    console.info(`rolling restart: ${tally.ok} curls answered (${JSON.stringify(tally.answers)}), ${tally.failed} failed; ${read.length} route samples (${unread.length} unread)`);
    expect(tally.failures).toEqual([]);
    expect(tally.ok).toBeGreaterThan(20);
    expect(read.length, `route samples read (unread: ${JSON.stringify(unread.slice(0, 3))})`).toBeGreaterThan(0);
    const short = read.filter((s) => s.hops.length !== 3);
    expect(short, "samples where the ToR had fewer than 3 next hops for 10.49.0.0/16").toEqual([]);
  }, 300_000);
});
