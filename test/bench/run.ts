/**
 * `npm run bench [-- --quick] [-- --only=announce,ingest] [-- --cpu-prof]`
 *
 * Runs the benchmarks one after another, prints each figure next to the
 * reference measured in the same run (BIRD, GoBGP) and writes everything,
 * with the machine and versions, to bench-results/latest.json (or
 * quick.json for --quick; --out=FILE overrides), with the summary tables
 * as Markdown next to it (latest.md) for docs/benchmarks.md. Nothing here asserts: the
 * figures are for reading, and for docs/benchmarks.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { announce } from "./announce.js";
import { convergence } from "./convergence.js";
import { footprint } from "./footprint.js";
import { ingest } from "./ingest.js";
import { bundleChild, ROOT } from "./lib/build.js";
import { machine } from "./lib/machine.js";
import { formatMarkdown, formatSummary } from "./lib/report.js";
import type { Bench, BenchContext, BenchResult } from "./lib/types.js";
import { watcherScale } from "./watcher-scale.js";

const BENCHES: Array<[string, Bench]> = [
  ["announce", announce],
  ["ingest", ingest],
  ["watcher", watcherScale],
  ["convergence", convergence],
  ["footprint", footprint],
];

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  const hit = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(prefix));
  if (!hit) return undefined;
  return hit === `--${name}` ? "" : hit.slice(prefix.length);
}

async function main(): Promise<void> {
  const quick = option("quick") !== undefined;
  const only = option("only")?.split(",").filter(Boolean);
  const cpuProf = option("cpu-prof");
  const cpuProfDir = cpuProf !== undefined ? join(ROOT, "bench-results", "profiles") : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const out = option("out") ?? join(ROOT, "bench-results", quick ? "quick.json" : "latest.json");
  const unknown = only?.filter((name) => !BENCHES.some(([n]) => n === name)) ?? [];
  if (unknown.length) throw new Error(`unknown benchmark(s) ${unknown.join(", ")}; have ${BENCHES.map(([n]) => n).join(", ")}`);

  const bundles = new Map<string, Promise<string>>();
  const started = Date.now();
  const info = machine();
  console.log(`svcbgp benchmarks (${quick ? "quick" : "full"}) — ${info.cpus} × ${info.cpuModel}, ${info.memoryGb} GB, Linux ${info.kernel}, Node ${info.node}, ${info.bird}, gobgpd ${info.gobgp}`);

  const results: BenchResult[] = [];
  const failures: Array<{ name: string; error: string }> = [];
  for (const [name, bench] of BENCHES) {
    if (only && !only.includes(name)) continue;
    const t0 = Date.now();
    console.log(`\n▶ ${name}`);
    const ctx: BenchContext = {
      quick,
      cpuProfDir,
      log: (message) => console.log(`  ${message}`),
      child: (child) => {
        let bundle = bundles.get(child);
        if (!bundle) bundles.set(child, (bundle = bundleChild(child)));
        return bundle;
      },
      nodeFlags: (label, extra = []) => (cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=${label}-${Date.now()}.cpuprofile`, ...extra] : extra),
    };
    try {
      const result = await bench(ctx);
      const full: BenchResult = { name, ...result, durationMs: Date.now() - t0 };
      results.push(full);
      console.log(formatSummary(full));
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      failures.push({ name, error });
      console.log(`  ✗ ${name} failed: ${error}`);
    }
  }

  const report = { date: new Date().toISOString(), mode: quick ? "quick" : "full", machine: info, durationMs: Date.now() - started, results, failures };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
  writeFileSync(out.replace(/\.json$/, "") + ".md", formatMarkdown(report));
  console.log(`\n${results.length} benchmark(s) in ${((Date.now() - started) / 1000).toFixed(0)} s; results in ${out}${failures.length ? `; FAILED: ${failures.map((f) => f.name).join(", ")}` : ""}`);
  // A benchmark that could not run is an error (CI shows it); a slow figure is not.
  process.exitCode = failures.length ? 1 : 0;
}

await main();
