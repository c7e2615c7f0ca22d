/**
 * `npx tsx test/bench/profile-summary.ts FILE.cpuprofile [N]`: the functions
 * with the most self time in a V8 CPU profile (from `npm run bench -- --cpu-prof`).
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

const [file, limit = "25"] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-summary FILE.cpuprofile [N]");
const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };
const self = new Map<string, number>();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const sampleMs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) sampleMs.set(profile.samples[i], (sampleMs.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
let total = 0;
for (const [id, ms] of sampleMs) {
  const n = byId.get(id)!;
  const key = `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/^.*\/(libs|services|test|node_modules)\//, "$1/")}:${n.callFrame.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + ms);
  if (n.callFrame.functionName !== "(idle)") total += ms;
}
console.log(`${file}: ${(total).toFixed(0)} ms busy of ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms`);
for (const [key, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(limit))) console.log(`${ms.toFixed(1).padStart(9)} ms  ${key}`);
