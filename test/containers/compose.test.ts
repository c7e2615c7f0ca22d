/**
 * The compose.yaml local stack, for real: `docker-compose up` the seed's
 * network (BIRD ToR, watcher on a manifests directory, three speakers at
 * 192.168.1.10-12, workloads in the speakers' network namespaces, a client)
 * and check what the seed document shows on the ToR and from the client.
 *
 * Needs a Docker engine, compose and the images scripts/docker-env.sh builds;
 * skips with the reason otherwise (fails under SVCBGP_REQUIRE_DOCKER=1).
 * Each run has its own compose project and its own copy of examples/seed, so
 * the manifest edits never touch the repository; `down -v` always runs.
 */
import { chmodSync, copyFileSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { composeCommand, dockerAvailable, dockerTag, svcbgpImages } from "../support/requirements.js";
import { eventually } from "../support/wait.js";
import { curlTally, deadRun, nextHops, parseRoutes, run, runQuiet, suiteLifecycle } from "./support.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NODES = ["192.168.1.10", "192.168.1.11", "192.168.1.12"];
const ENDPOINT_NODES = ["192.168.1.11", "192.168.1.12"]; // nginx's endpoints are on node-2 and node-3
const CLUSTER_IP = "10.49.62.131";
const PROJECT_PREFIX = "svcbgpct";

const enabled = dockerAvailable("compose stack (test/containers/compose.test.ts)", { compose: true, images: Object.values(svcbgpImages()) });

// Each test's limit (its last argument) covers its own polls' deadlines; vitest's default 60 s would cut them short.
describe.runIf(enabled)("compose.yaml: the seed's local stack", () => {
  const compose = composeCommand() ?? ["docker-compose"];
  // Compose project names: lower case letters and digits. The pid lets a later run clean up after a killed one.
  const project = `${PROJECT_PREFIX}${process.pid}x${Date.now().toString(36)}`;
  const manifests = mkdtempSync(join(tmpdir(), "svcbgp-compose-"));
  const env = { ...process.env, SVCBGP_MANIFESTS: manifests, SVCBGP_TAG: dockerTag() };
  const dc = (args: string[], timeoutMs = 120_000, name = project) =>
    run(compose[0], [...compose.slice(1), "-p", name, "-f", join(ROOT, "compose.yaml"), ...args], { cwd: ROOT, env, timeoutMs });
  let tor = "";
  let client = "";

  const torRoutes = async () => parseRoutes(await run("docker", ["exec", tor, "ip", "-j", "route", "show"]));
  const curl = async (ip: string) => (await run("docker", ["exec", client, "curl", "-sS", "-m", "3", "--fail", `http://${ip}/`], { timeoutMs: 15_000 })).trim();
  const curlMany = async (ip: string, count: number) => {
    const script = `for i in $(seq ${count}); do if b=$(curl -sS -m 3 --fail http://${ip}/ 2>&1); then echo "OK $b"; else echo "FAIL $? $b"; fi; done`;
    return curlTally(await run("docker", ["exec", client, "sh", "-c", script], { timeoutMs: 30_000 + count * 4_000 }));
  };
  const step = (file: string, over: string) => copyFileSync(join(ROOT, "examples/seed-steps", file), join(manifests, over));

  async function diagnostics(): Promise<string> {
    const parts = [
      `--- docker-compose ps\n${await runQuiet(compose[0], [...compose.slice(1), "-p", project, "-f", join(ROOT, "compose.yaml"), "ps"], { cwd: ROOT, env })}`,
    ];
    if (tor) {
      parts.push(`--- tor: birdc show protocols\n${await runQuiet("docker", ["exec", tor, "birdc", "-s", "/run/bird/bird.ctl", "show", "protocols"])}`);
      parts.push(`--- tor: ip route\n${await runQuiet("docker", ["exec", tor, "ip", "route"])}`);
    }
    parts.push(`--- logs\n${await runQuiet(compose[0], [...compose.slice(1), "-p", project, "-f", join(ROOT, "compose.yaml"), "logs", "--no-color", "--tail", "40"], { cwd: ROOT, env })}`);
    return parts.join("\n");
  }

  /** Stacks left by runs that were killed before their afterAll (their pid is gone): the fixed subnets allow one stack at a time. */
  async function removeStaleProjects(): Promise<void> {
    const out = await runQuiet("docker", ["ps", "-a", "--filter", "label=com.docker.compose.project", "--format", '{{.Label "com.docker.compose.project"}}']);
    const nets = await runQuiet("docker", ["network", "ls", "--filter", "label=com.docker.compose.project", "--format", '{{.Label "com.docker.compose.project"}}']);
    const stale = new Set(
      `${out}\n${nets}`
        .split("\n")
        .map((line) => line.trim())
        .filter((name) => name.startsWith(PROJECT_PREFIX))
        .filter((name) => deadRun(name, PROJECT_PREFIX)),
    );
    for (const name of stale) {
      console.warn(`compose stack: removing the stale project ${name}`);
      await dc(["down", "-v", "--timeout", "1"], 120_000, name).catch((err: unknown) => console.warn(String(err)));
    }
  }

  suiteLifecycle({
    setup: async () => {
      await removeStaleProjects();
      cpSync(join(ROOT, "examples/seed"), manifests, { recursive: true });
      chmodSync(manifests, 0o755); // the watcher runs as uid 65532
      await dc(["up", "-d", "--no-build"], 300_000);
      tor = (await dc(["ps", "-q", "tor"])).trim();
      client = (await dc(["ps", "-q", "client"])).trim();
      expect(tor, "the tor container").toMatch(/^[0-9a-f]{12,}$/);
      expect(client, "the client container").toMatch(/^[0-9a-f]{12,}$/);
    },
    setupTimeoutMs: 360_000,
    name: `compose stack ${project}`,
    diagnostics,
    teardown: async () => {
      await dc(["down", "-v", "--timeout", "5"], 180_000).catch((err: unknown) => console.error(`compose down failed: ${String(err)}`));
      rmSync(manifests, { recursive: true, force: true });
    },
    teardownTimeoutMs: 240_000,
  });

  it("step 2: the ToR's kernel has 10.49.0.0/16 with an ECMP next hop per speaker", async () => {
    await eventually(async () => {
      expect(nextHops(await torRoutes(), "10.49.0.0/16")).toEqual(NODES);
    }, 120_000, 500);
    const route = (await torRoutes()).find((r) => r.dst === "10.49.0.0/16");
    expect(route?.protocol).toBe("bird");
    expect(route?.nexthops?.map((h) => h.weight)).toEqual([1, 1, 1]);
  }, 180_000);

  it("step 3: curl from the client reaches the cluster IP through the ToR", async () => {
    await eventually(async () => {
      expect(await curl(CLUSTER_IP)).toMatch(/^hello from node-[123]$/);
    }, 30_000, 500);
    const tally = await curlMany(CLUSTER_IP, 12);
    expect(tally.failures).toEqual([]);
  }, 120_000);

  it("step 4: externalTrafficPolicy Local on the mounted Service adds the /32 via the endpoint nodes only", async () => {
    step("step4-nginx.yaml", "nginx.yaml");
    await eventually(async () => {
      const routes = await torRoutes();
      expect(nextHops(routes, `${CLUSTER_IP}/32`)).toEqual(ENDPOINT_NODES);
      expect(nextHops(routes, "10.49.0.0/16")).toEqual(NODES);
    }, 60_000, 500);
    // The /32 wins: only the nodes with an endpoint answer.
    const tally = await curlMany(CLUSTER_IP, 12);
    expect(tally.failures).toEqual([]);
    for (const answer of Object.keys(tally.answers)) expect(answer).toMatch(/^hello from node-[23]$/);
  }, 150_000);

  it("steps 5 and 6: external IPs instead of cluster IPs", async () => {
    step("step5-bgpconfiguration.yaml", "bgpconfiguration.yaml");
    await eventually(async () => {
      const routes = await torRoutes();
      expect(nextHops(routes, "192.168.3.0/24")).toEqual(NODES);
      expect(nextHops(routes, "10.49.0.0/16")).toEqual([]);
      expect(nextHops(routes, `${CLUSTER_IP}/32`)).toEqual([]);
    }, 60_000, 500);
    await expect(curl(CLUSTER_IP)).rejects.toThrow();
    step("step6-nginx.yaml", "nginx.yaml");
    await eventually(async () => {
      expect(nextHops(await torRoutes(), "192.168.3.180/32")).toEqual(ENDPOINT_NODES);
    }, 60_000, 500);
    expect(await curl("192.168.3.180")).toMatch(/^hello from node-[23]$/);
  }, 180_000);
});
