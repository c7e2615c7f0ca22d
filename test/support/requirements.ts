/**
 * Gates for tests that need real peers, root or Docker. Elsewhere they skip
 * with a printed reason; in CI (SVCBGP_REQUIRE_LAB=1 / SVCBGP_REQUIRE_DOCKER=1)
 * a missing requirement is a failure, never a silent pass.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tcpMd5Unavailable } from "@svcbgp/bgp";
import { BGPD } from "./frr.js";

function hasCommand(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

export interface Requirement {
  /** Undefined when met, else why not. */
  missing: string | undefined;
}

function check(needs: Array<[boolean, string]>): string | undefined {
  const missing = needs.filter(([ok]) => !ok).map(([, what]) => what);
  return missing.length ? missing.join(", ") : undefined;
}

/** What a test needs that this machine lacks, or undefined when it has everything. */
export function missingRequirements(needs: { bird?: boolean; gobgp?: boolean; frr?: boolean; root?: boolean; netns?: boolean; tcpMd5?: boolean }): string | undefined {
  const md5 = needs.tcpMd5 ? tcpMd5Unavailable() : undefined;
  return check([
    [!needs.bird || (hasCommand("bird") && hasCommand("birdc")), "bird2 (apt-get install bird2)"],
    [!needs.gobgp || (hasCommand("gobgpd") && hasCommand("gobgp")), "gobgpd (apt-get install gobgpd)"],
    // FRR's daemons live outside PATH; bgpd runs without zebra, so no frr service is needed.
    [!needs.frr || (existsSync(BGPD) && hasCommand("vtysh")), "frr (apt-get install frr)"],
    [!needs.root || isRoot, "root"],
    [!needs.netns || (isRoot && hasCommand("ip")), "root with iproute2 for network namespaces"],
    [md5 === undefined, `the TCP-MD5 addon (apt-get install gcc libc6-dev, then npm run build): ${md5}`],
  ]);
}

/**
 * Returns true when the suite should run. When it should not, prints the
 * reason, or throws when SVCBGP_REQUIRE_LAB=1 says it must run.
 */
export function labAvailable(suite: string, needs: Parameters<typeof missingRequirements>[0]): boolean {
  const missing = missingRequirements(needs);
  if (!missing) return true;
  if (process.env.SVCBGP_REQUIRE_LAB === "1") {
    throw new Error(`${suite}: SVCBGP_REQUIRE_LAB=1 but this machine lacks ${missing}`);
  }
  console.warn(`SKIP ${suite}: needs ${missing}`);
  return false;
}

/** The image tag the container suites use: what scripts/docker-env.sh builds (SVCBGP_TAG, default dev). */
export const dockerTag = (): string => process.env.SVCBGP_TAG || "dev";

/** The images scripts/docker-env.sh builds and the container suites start. */
export const svcbgpImages = (): { svcbgp: string; bird: string; tools: string } => ({
  svcbgp: `svcbgp:${dockerTag()}`,
  bird: `svcbgp-lab-bird:${dockerTag()}`,
  tools: `svcbgp-lab-tools:${dockerTag()}`,
});

/** The compose command here: Debian's docker-compose 1.29, else the Compose v2 plugin; undefined when neither. */
export function composeCommand(): string[] | undefined {
  if (hasCommand("docker-compose")) return ["docker-compose"];
  try {
    execFileSync("docker", ["compose", "version"], { stdio: "ignore", timeout: 10_000 });
    return ["docker", "compose"];
  } catch {
    return undefined;
  }
}

/** What a container suite needs that this machine lacks: an engine that answers, compose, the images. */
export function missingDocker(needs: { compose?: boolean; images?: string[] }): string | undefined {
  if (!hasCommand("docker")) return "a Docker client and engine";
  try {
    execFileSync("docker", ["version", "--format", "{{.Server.Version}}"], { stdio: "pipe", timeout: 15_000 });
  } catch {
    return "a Docker engine (none answers)";
  }
  const missing: string[] = [];
  if (needs.compose && !composeCommand()) missing.push("docker-compose (apt-get install docker-compose)");
  const images = (needs.images ?? []).filter((image) => {
    try {
      execFileSync("docker", ["image", "inspect", "--format", "{{.Id}}", image], { stdio: "pipe", timeout: 15_000 });
      return false;
    } catch {
      return true;
    }
  });
  if (images.length) missing.push(`the images ${images.join(", ")}`);
  return missing.length ? missing.join(", ") : undefined;
}

/**
 * Returns true when a container suite should run. When it should not, prints
 * the reason, or throws when SVCBGP_REQUIRE_DOCKER=1 (CI) says it must run.
 */
export function dockerAvailable(suite: string, needs: Parameters<typeof missingDocker>[0] = {}): boolean {
  const missing = missingDocker(needs);
  if (!missing) return true;
  const hint = "run `bash scripts/docker-env.sh` (as root on Debian) to install and start Docker and build the images";
  if (process.env.SVCBGP_REQUIRE_DOCKER === "1") {
    throw new Error(`${suite}: SVCBGP_REQUIRE_DOCKER=1 but this machine lacks ${missing}; ${hint}`);
  }
  console.warn(`SKIP ${suite}: needs ${missing}; ${hint}`);
  return false;
}
