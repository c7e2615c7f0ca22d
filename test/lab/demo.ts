/**
 * `npm run demo`: the seed document's six steps on a real BIRD ToR, with
 * svcbgp's watcher and three speakers in Linux network namespaces.
 *
 *   npm run demo                   # walk the six steps, print the ToR's table and curl after each
 *   npm run demo -- --interactive  # then keep the lab up to poke at it, until Ctrl-C
 *
 * Needs root (network namespaces), iproute2, curl and BIRD 2. Everything it
 * creates is removed on exit, on Ctrl-C and on failure.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { relative } from "node:path";
import { BINS, NODES, REPO_ROOT, servicesBuilt, TOR, WATCHER, SPEAKER_API } from "./lab.js";
import { SeedLab } from "./seed-lab.js";
import { SeedManifests, SEED_DIR, type SeedStep } from "./seed-steps.js";

const args = process.argv.slice(2);
const interactive = args.includes("--interactive") || args.includes("-i");
if (args.includes("--help") || args.includes("-h")) {
  console.log("usage: npm run demo [-- --interactive]\n\nWalks the seed's six steps in network namespaces (needs root).\n  --interactive  keep the lab up afterwards, until Ctrl-C");
  process.exit(0);
}

const color = process.stdout.isTTY ? (code: string, s: string) => `\x1b[${code}m${s}\x1b[0m` : (_code: string, s: string) => s;
const bold = (s: string) => color("1", s);
const dim = (s: string) => color("2", s);
const green = (s: string) => color("32", s);
const red = (s: string) => color("31", s);

function hasCommand(cmd: string): boolean {
  return spawnSync("sh", ["-c", 'command -v "$1"', "sh", cmd], { stdio: "ignore" }).status === 0;
}

function preflight(): void {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    console.error(
      `${red("svcbgp demo: needs root.")} The lab builds Linux network namespaces, veth pairs and a bridge, which only root can do.\n` +
        `Run it as root, e.g.  sudo npm run demo   (or: sudo npx tsx test/lab/demo.ts)`,
    );
    process.exit(1);
  }
  const missing: string[] = [];
  if (!hasCommand("ip")) missing.push("iproute2");
  if (!hasCommand("curl")) missing.push("curl");
  if (!hasCommand("bird") || !hasCommand("birdc")) missing.push("bird2");
  if (missing.length) {
    if (!hasCommand("apt-get")) {
      console.error(red(`svcbgp demo: missing ${missing.join(", ")}; install them with your package manager (Debian: apt-get install ${missing.join(" ")}).`));
      process.exit(1);
    }
    console.log(`svcbgp demo: installing ${missing.join(", ")} with apt-get ...`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    let r = spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { stdio: "inherit", env });
    if (r.status !== 0) {
      spawnSync("apt-get", ["update"], { stdio: "inherit", env });
      r = spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { stdio: "inherit", env });
    }
    if (r.status !== 0 || !hasCommand("bird")) {
      console.error(red(`svcbgp demo: could not install ${missing.join(", ")}; try: apt-get update && apt-get install ${missing.join(" ")}`));
      process.exit(1);
    }
  }
  if (!servicesBuilt()) {
    console.log("svcbgp demo: services are not built yet; running npm run build ...");
    const r = spawnSync("npm", ["run", "build"], { cwd: REPO_ROOT, stdio: "inherit" });
    if (r.status !== 0 || !servicesBuilt()) {
      const absent = Object.values(BINS).filter((p) => !existsSync(p));
      console.error(red(`svcbgp demo: the build did not produce ${absent.map((p) => relative(REPO_ROOT, p)).join(", ")}`));
      process.exit(1);
    }
  }
}

function indent(text: string, prefix = "  "): string {
  return text
    .split("\n")
    .map((l) => prefix + l)
    .join("\n");
}

async function showStep(seed: SeedLab, step: SeedStep, total: number): Promise<boolean> {
  const lab = seed.lab;
  console.log(`\n${bold(`━━ Step ${step.n}/${total}: ${step.title}`)}`);
  console.log(dim(`control:~$ ${step.action}`));
  seed.apply(step.manifests);
  let ok = true;
  try {
    if (step.n === 1) await seed.waitForSessions();
    await seed.waitForRoutes(step.expect.routes);
  } catch (err) {
    ok = false;
    console.log(red(`✗ ${(err as Error).message}`));
  }
  if (step.n === 1) {
    const sessions = (await lab.torProtocols()).filter((p) => p.name !== "nodes4" && p.name !== "nodes6");
    console.log(`\ntor:~$ birdc show protocols   ${dim("(one dynamic iBGP session per node)")}`);
    for (const p of sessions) console.log(`  ${p.name.padEnd(9)} ${p.state.padEnd(6)} ${p.info}`);
  }
  console.log(`\ntor:~$ ip route   ${dim("(the routes BIRD installed)")}`);
  const table = await lab.torIpRoute(4);
  console.log(table.trim() ? indent(table.trimEnd()) : dim("  (none yet)"));
  for (const c of step.expect.curls) {
    const res = await lab.curlFromClient(c.ip, 3000);
    console.log(`\nexternal:~$ curl -m 3 ${c.ip}`);
    console.log(res.ok ? `  ${res.body}   ${dim("(answered by this node's stand-in for kube-proxy + nginx)")}` : `  ${res.error}`);
    const as = res.ok === c.ok;
    if (!as) ok = false;
    console.log(as ? green(`  ✓ ${c.ok ? "reachable" : "not reachable"}, as in the seed`) : red(`  ✗ expected ${c.ok ? "an answer" : "a time-out"}`));
    if (c.ok && res.ok) {
      const counts = new Map<string, number>();
      for (let i = 0; i < 12; i++) {
        const r = await lab.curlFromClient(c.ip, 3000);
        const key = r.ok ? r.body : "failed";
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const spread = [...counts.entries()].sort().map(([k, v]) => `${k}×${v}`).join(", ");
      console.log(dim(`  12 more curls answered by: ${spread}`));
    }
  }
  if (ok) console.log(green(`✓ step ${step.n} matches the seed`));
  return ok;
}

function printPokeHelp(seed: SeedLab): void {
  const lab = seed.lab;
  const n1 = lab.ns.nodes[NODES[0].name];
  const ctl = `${process.execPath} ${BINS.ctl}`;
  console.log(`
${bold("The lab is up")} (run ${lab.run.id}). From another shell, as root:

  ${bold("svcbgpctl")} (speaker API on each node's loopback ${SPEAKER_API}, watcher at ${WATCHER.ip}:${WATCHER.grpcPort}):
    ip netns exec ${n1} ${ctl} --speaker ${SPEAKER_API} peers
    ip netns exec ${n1} ${ctl} --speaker ${SPEAKER_API} rib --table adj-out
    ip netns exec ${n1} ${ctl} --watcher ${WATCHER.ip}:${WATCHER.grpcPort} routes --node ${NODES[0].name}
    ip netns exec ${n1} ${ctl} --watcher ${WATCHER.ip}:${WATCHER.grpcPort} explain default/nginx

  ${bold("BIRD")} on the ToR (${TOR.ip}):
    birdc -s ${lab.torSocket} show protocols
    birdc -s ${lab.torSocket} show route all

  ${bold("ip netns exec")}:
    ip netns exec ${lab.ns.tor} ip route
    ip netns exec ${lab.ns.client} curl -m 3 192.168.3.180
    ip netns exec ${lab.ns.client} curl -m 3 10.49.62.131
    namespaces: ${[lab.ns.tor, lab.ns.client, lab.ns.watcher, ...Object.values(lab.ns.nodes), lab.ns.bridge].join(" ")}

  ${bold("Manifests")}: edit or add files in ${seed.manifestsDir}/ (the watcher re-reads the directory).
  ${bold("Logs")}: ${lab.dir}/*.log

Ctrl-C tears everything down.`);
}

async function main(): Promise<number> {
  preflight();
  let seedManifests: SeedManifests;
  try {
    seedManifests = SeedManifests.load();
  } catch (err) {
    console.error(red(`svcbgp demo: ${(err as Error).message}`));
    return 1;
  }
  const steps = seedManifests.steps();
  console.log(bold("svcbgp: the seed scenario (Calico's \"advertise Kubernetes service IPs\") on a BIRD ToR"));
  console.log(dim(`manifests: ${relative(REPO_ROOT, SEED_DIR)}/ (copied per step; endpoints on ${seedManifests.endpointNodes.join(", ")})`));
  const seed = await SeedLab.start(steps[0].manifests, { log: (l) => console.log(dim(l)) });
  let failed = 0;
  try {
    for (const step of steps) if (!(await showStep(seed, step, steps.length))) failed++;
    console.log();
    if (failed) {
      console.log(red(`✗ ${failed} of ${steps.length} steps did not match the seed. Logs:`));
      console.log(seed.lab.logs(30));
    } else {
      console.log(green(bold(`✓ all ${steps.length} steps match the seed`)));
    }
    if (interactive) {
      printPokeHelp(seed);
      await new Promise<never>(() => undefined);
    }
  } catch (err) {
    console.error(red(`svcbgp demo failed: ${(err as Error).message}`));
    console.error(seed.lab.logs(30));
    failed++;
  } finally {
    await seed.stop();
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(red(`svcbgp demo failed: ${err instanceof Error ? err.message : String(err)}`));
    process.exit(1);
  },
);
