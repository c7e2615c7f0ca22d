/**
 * Shared helpers for the packaging suites: the repository's files, YAML
 * loading as the consumers (kubectl, docker-compose) read it, and gates for
 * the external tools the suites run.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const rel = (path: string): string => relative(ROOT, path);

/** Files under `dir` (relative to the repository) whose names match `pattern`, sorted. */
export function filesUnder(dir: string, pattern: RegExp): string[] {
  const start = join(ROOT, dir);
  if (!existsSync(start)) return [];
  const out: string[] = [];
  const walk = (path: string): void => {
    for (const name of readdirSync(path)) {
      if (name === "node_modules" || name === "dist") continue;
      const full = join(path, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (pattern.test(name)) out.push(full);
    }
  };
  walk(start);
  return out.sort();
}

export const YAML_FILE = /\.ya?ml$/;

export interface YamlDoc {
  file: string;
  index: number;
  value: unknown;
}

/**
 * Every document of a YAML stream, or throws naming the file and the error.
 * Merge keys (`<<:`) are on: compose files use them and PyYAML/go-yaml honour them.
 */
export function loadYamlDocs(path: string, text = readFileSync(path, "utf8"), version: "1.1" | "1.2" = "1.2"): YamlDoc[] {
  const docs = parseAllDocuments(text, { merge: true, version, uniqueKeys: true });
  if (!Array.isArray(docs)) return []; // an empty stream
  return docs.map((doc, index) => {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length) throw new Error(`${rel(path)} document ${index}: ${problems.map((p) => p.message).join("; ")}`);
    return { file: path, index, value: doc.toJS({ maxAliasCount: 100 }) };
  }).filter((doc) => doc.value !== null && doc.value !== undefined);
}

export type Obj = Record<string, unknown>;
export const isObj = (value: unknown): value is Obj => typeof value === "object" && value !== null && !Array.isArray(value);

/** Fenced code blocks of a Markdown file, with their info strings. */
export function codeBlocks(path: string): Array<{ lang: string; code: string }> {
  const text = readFileSync(path, "utf8");
  const blocks: Array<{ lang: string; code: string }> = [];
  const fence = /^```([^\n`]*)\n([\s\S]*?)^```\s*$/gm;
  for (let match = fence.exec(text); match; match = fence.exec(text)) blocks.push({ lang: match[1].trim(), code: match[2] });
  return blocks;
}

export function hasCommand(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether an external tool a suite needs is here. When it is not: prints why
 * and returns false, or throws when SVCBGP_REQUIRE_LAB=1 says the suite must
 * run (CI), so a missing tool is never a silent pass. Same rule as
 * test/support/requirements.ts.
 */
export function toolAvailable(suite: string, command: string, install: string): boolean {
  if (hasCommand(command)) return true;
  if (process.env.SVCBGP_REQUIRE_LAB === "1") {
    throw new Error(`${suite}: SVCBGP_REQUIRE_LAB=1 but ${command} is missing (${install})`);
  }
  console.warn(`SKIP ${suite}: ${command} is missing (${install})`);
  return false;
}

export interface Container {
  name: string;
  command?: string[];
  args?: string[];
  [field: string]: unknown;
}

/** The pod spec of a workload (Deployment, DaemonSet, StatefulSet, Job, Pod), if it is one. */
export function podSpec(object: Obj): Obj | undefined {
  if (object.kind === "Pod") return isObj(object.spec) ? object.spec : undefined;
  const spec = object.spec;
  if (!isObj(spec)) return undefined;
  const template = isObj(spec.jobTemplate) && isObj(spec.jobTemplate.spec) ? spec.jobTemplate.spec.template : spec.template;
  return isObj(template) && isObj(template.spec) ? template.spec : undefined;
}

export function containersOf(object: Obj): Container[] {
  const spec = podSpec(object);
  if (!spec) return [];
  return [...((spec.initContainers as Container[] | undefined) ?? []), ...((spec.containers as Container[] | undefined) ?? [])];
}

/** All Kubernetes objects under deploy/kubernetes (optional patches included). */
export function kubernetesObjects(): Array<{ file: string; object: Obj }> {
  return filesUnder("deploy/kubernetes", YAML_FILE).flatMap((file) =>
    loadYamlDocs(file).filter((doc) => isObj(doc.value)).map((doc) => ({ file, object: doc.value as Obj })),
  );
}

export function findObject(objects: Array<{ object: Obj }>, kind: string, name: string): Obj {
  const found = objects.find(({ object }) => object.kind === kind && (object.metadata as Obj | undefined)?.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found.object;
}

/** The objects of the files deploy/kubernetes/kustomization.yaml lists (what `apply -k` installs, before transforms). */
export function kustomizeResources(): Array<{ file: string; object: Obj }> {
  const kustomization = join(ROOT, "deploy/kubernetes/kustomization.yaml");
  const [doc] = loadYamlDocs(kustomization);
  const resources = ((doc?.value as Obj | undefined)?.resources as string[] | undefined) ?? [];
  return resources.flatMap((resource) => {
    const file = join(ROOT, "deploy/kubernetes", resource);
    return loadYamlDocs(file).filter((d) => isObj(d.value)).map((d) => ({ file, object: d.value as Obj }));
  });
}
