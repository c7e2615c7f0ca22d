/**
 * Gates for tests that need real peers, root or Docker. Elsewhere they skip
 * with a printed reason; in CI (SVCBGP_REQUIRE_LAB=1 / SVCBGP_REQUIRE_DOCKER=1)
 * a missing requirement is a failure, never a silent pass.
 */
import { execFileSync } from "node:child_process";

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
export function missingRequirements(needs: { bird?: boolean; gobgp?: boolean; root?: boolean; netns?: boolean }): string | undefined {
  return check([
    [!needs.bird || (hasCommand("bird") && hasCommand("birdc")), "bird2 (apt-get install bird2)"],
    [!needs.gobgp || (hasCommand("gobgpd") && hasCommand("gobgp")), "gobgpd (apt-get install gobgpd)"],
    [!needs.root || isRoot, "root"],
    [!needs.netns || (isRoot && hasCommand("ip")), "root with iproute2 for network namespaces"],
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
