/**
 * Child processes run as plain `node` on an esbuild bundle of their entry
 * point, with the workspace libraries taken from their TypeScript sources
 * (as vitest does): no build step needed, the current sources measured, and
 * no tsx loader (≈45 MB of its own) inflating the memory figures.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
export const OUT_DIR = join(ROOT, "bench-results", ".build");

const ALIASES: Record<string, string> = {
  "@svcbgp/api": join(ROOT, "libs/api/src/index.ts"),
  "@svcbgp/bgp": join(ROOT, "libs/bgp/src/index.ts"),
  "@svcbgp/config": join(ROOT, "libs/config/src/index.ts"),
  "@svcbgp/telemetry": join(ROOT, "libs/telemetry/src/index.ts"),
};

/** Bundles test/bench/children/<name>.ts; returns the path of the .mjs to run. */
export async function bundleChild(name: string): Promise<string> {
  return bundleEntry(`test/bench/children/${name}.ts`, name);
}

/** Bundles an arbitrary entry (e.g. a service's main.ts, relative to the repository) the same way. */
export async function bundleEntry(entry: string, name: string): Promise<string> {
  mkdirSync(OUT_DIR, { recursive: true });
  const outfile = join(OUT_DIR, `${name}.mjs`);
  await build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile,
    packages: "external",
    alias: ALIASES,
    sourcemap: "linked",
    logLevel: "warning",
  });
  return outfile;
}
