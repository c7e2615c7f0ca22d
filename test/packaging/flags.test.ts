/**
 * The workloads' args match the bins' real flags: every flag that
 * deploy/kubernetes, compose.yaml and docs/deploy.md pass to svcbgp-watcher,
 * svcbgp-speaker or svcbgpctl appears in that bin's `--help` (for svcbgpctl,
 * in the top-level help or the subcommand's). Runs the built bins: `npm run
 * build` first.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, codeBlocks, containersOf, filesUnder, isObj, loadYamlDocs, rel, YAML_FILE, type Obj } from "./support.js";

interface Usage {
  bin: string;
  tokens: string[];
  where: string;
}

/** bin name → its entry point, from services/<svc>/package.json. */
const bins = new Map<string, string>();
for (const service of readdirSync(join(ROOT, "services"))) {
  const manifest = join(ROOT, "services", service, "package.json");
  if (!existsSync(manifest)) continue;
  const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { bin?: Record<string, string> };
  for (const [bin, path] of Object.entries(pkg.bin ?? {})) bins.set(bin, join(ROOT, "services", service, path));
}

const binName = (token: string | undefined): string | undefined => {
  const base = token?.split("/").pop();
  return base && bins.has(base) ? base : undefined;
};

function kubernetesUsages(): Usage[] {
  return filesUnder("deploy/kubernetes", YAML_FILE).flatMap((file) =>
    loadYamlDocs(file)
      .filter((doc) => isObj(doc.value))
      .flatMap((doc) =>
        containersOf(doc.value as Obj).flatMap((container) => {
          const tokens = [...(container.command ?? []), ...(container.args ?? [])];
          const bin = binName(tokens[0]);
          return bin ? [{ bin, tokens: tokens.slice(1), where: `${rel(file)} container ${container.name}` }] : [];
        }),
      ),
  );
}

function composeUsages(): Usage[] {
  const compose = loadYamlDocs(join(ROOT, "compose.yaml"))[0].value as Obj;
  return Object.entries(compose.services as Record<string, Obj>).flatMap(([name, service]) => {
    const split = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === "string" ? value.split(/\s+/).filter(Boolean) : []);
    const tokens = [...split(service.entrypoint), ...split(service.command)];
    const bin = binName(tokens[0]);
    return bin ? [{ bin, tokens: tokens.slice(1), where: `compose.yaml service ${name}` }] : [];
  });
}

/** Command lines in docs/deploy.md's shell blocks: the tokens after a bin, up to a pipe, `;`, `&&`, a redirect or a comment. */
function docsUsages(): Usage[] {
  const usages: Usage[] = [];
  for (const block of codeBlocks(join(ROOT, "docs/deploy.md"))) {
    if (!["sh", "bash", "console", "shell"].includes(block.lang)) continue;
    for (const line of block.code.split("\n")) {
      const tokens = line.replace(/#.*$/, "").trim().split(/\s+/).map((t) => t.replace(/^["']|["']$/g, ""));
      const at = tokens.findIndex((t) => binName(t) !== undefined);
      if (at < 0) continue;
      const end = tokens.findIndex((t, i) => i > at && /^(\||&&|;|>|>>|2>|<)$/.test(t));
      usages.push({ bin: binName(tokens[at])!, tokens: tokens.slice(at + 1, end < 0 ? undefined : end), where: `docs/deploy.md: ${line.trim()}` });
    }
  }
  return usages;
}

const helpCache = new Map<string, string>();
function help(bin: string, ...subcommand: string[]): string {
  const key = [bin, ...subcommand].join(" ");
  const cached = helpCache.get(key);
  if (cached !== undefined) return cached;
  const entry = bins.get(bin)!;
  if (!existsSync(entry)) {
    throw new Error(`${rel(entry)} is missing: run npm run build first (the flag check runs each bin's --help)`);
  }
  let text: string;
  try {
    text = execFileSync(process.execPath, [entry, ...subcommand, "--help"], { encoding: "utf8", timeout: 30_000, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${key} --help failed: ${failed.message}\n${failed.stdout ?? ""}${failed.stderr ?? ""}`);
  }
  helpCache.set(key, text);
  return text;
}

/** Subcommands listed under "Commands:" in a commander help text. */
function commandsOf(text: string): Set<string> {
  const section = text.split(/^Commands:\s*$/m)[1] ?? "";
  return new Set(section.split("\n").map((line) => /^ {2}([a-z][\w-]*)/.exec(line)?.[1]).filter((c): c is string => Boolean(c)));
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const listed = (flag: string, text: string) => new RegExp(`(^|[\\s,\\[(])${escape(flag)}(?=[\\s,=\\])<]|$)`, "m").test(text);

const flagsOf = (tokens: string[]): string[] =>
  tokens.filter((t) => /^--?[a-zA-Z]/.test(t)).map((t) => t.split("=")[0]);

describe("bin flags used by the deployment exist", () => {
  const usages = [...kubernetesUsages(), ...composeUsages(), ...docsUsages()];

  it("finds the bins and their uses", () => {
    expect([...bins.keys()].sort()).toEqual(["svcbgp-speaker", "svcbgp-watcher", "svcbgpctl"]);
    const used = new Set(usages.map((u) => u.bin));
    expect([...used].sort()).toEqual(["svcbgp-speaker", "svcbgp-watcher", "svcbgpctl"]);
  });

  it.each([...bins.keys()].sort())("%s --help lists every flag the manifests, compose.yaml and docs pass it", (bin) => {
    const top = help(bin);
    const problems: string[] = [];
    for (const usage of usages.filter((u) => u.bin === bin)) {
      const commands = commandsOf(top);
      const subcommand = usage.tokens.find((t) => commands.has(t));
      const texts = subcommand ? [top, help(bin, subcommand)] : [top];
      for (const flag of flagsOf(usage.tokens)) {
        if (!texts.some((text) => listed(flag, text))) problems.push(`${flag} (${usage.where})`);
      }
      if (commands.size && !subcommand && bin === "svcbgpctl") problems.push(`no known subcommand (${usage.where})`);
    }
    expect(problems, `flags ${bin} --help does not list`).toEqual([]);
  });
});
