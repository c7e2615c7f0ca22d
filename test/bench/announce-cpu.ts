/**
 * In-process micro-benchmark of the announce path without a socket: N /32s
 * through what BgpSession.updateRoutes does (policy → Adj-RIB-Out → UPDATE
 * packing, plus the adj-out route events a listening speaker gets), then
 * their withdrawal. `--path=keyed` (default) is the session's path (its
 * wanted set, then slices through the keyed Adj-RIB-Out to the packer); `--path=text` the
 * prefix-string API (what the session used before). Reports CPU time (process.cpuUsage) and wall time per
 * round. `npx tsx --tsconfig test/bench/tsconfig.json test/bench/announce-cpu.ts [--count=100000] [--rounds=7] [--no-events]`
 */
import { AdjRibOut, ANNOUNCE_SLICE_ROUTES, buildDesired, buildKeyedBatch, keyedGroupPrefixes, packIpv4Updates, packUpdates, WantedRoutes, type KeyedGroup, type SessionFacts } from "@svcbgp/bgp";
import { hostPrefix } from "./lib/prefixes.js";

function option(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.slice(name.length + 3)) : fallback;
}

const count = option("count", 100_000);
const SLICE = ANNOUNCE_SLICE_ROUTES;
const rounds = option("rounds", 7);
const keyed = !process.argv.includes("--path=text");
// --no-events: no route listener, as the session runs unless someone consumes route events (the speaker without WatchEvents subscribers).
const events = !process.argv.includes("--no-events");
const facts: SessionFacts = { ibgp: true, localAsn: 64512, localAddress: { ipv4: "127.0.0.2" }, fourOctetAs: true };
const ctx = { fourOctetAs: true, extendedMessage: false };
const routes = Array.from({ length: count }, (_, i) => ({ prefix: hostPrefix(i) }));
const prefixes = routes.map((r) => r.prefix);

let sink = 0;
function send(groups: ReturnType<AdjRibOut["change"]>): void {
  for (const group of groups) {
    for (const bytes of packUpdates(group, ctx)) sink += bytes.length;
    // What a listener costs: one event per prefix.
    if (events) for (const prefix of "withdrawn" in group ? group.withdrawn : group.nlri) sink += prefix.length;
  }
}

function sendKeyed(groups: KeyedGroup[]): void {
  for (const group of groups) {
    const messages =
      group.afi === 1
        ? packIpv4Updates(group.attributes ? { attributes: group.attributes, ipv4: group.ipv4 } : { withdrawn: group.ipv4 }, ctx)
        : packUpdates(group.attributes ? { attributes: group.attributes, nlri: keyedGroupPrefixes(group) } : { withdrawn: keyedGroupPrefixes(group), afi: group.afi }, ctx);
    for (const bytes of messages) sink += bytes.length;
    if (events) for (const prefix of keyedGroupPrefixes(group)) sink += prefix.length;
  }
}

function round(): { announce: [number, number]; withdraw: [number, number] } {
  const rib = new AdjRibOut();
  const measure = (fn: () => void): [number, number] => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    const c = process.cpuUsage(c0);
    return [(c.user + c.system) / 1000, performance.now() - t0];
  };
  // The keyed path as the session runs it: the wanted set, then slices of SLICE routes.
  const wanted = new WantedRoutes();
  const announce = measure(() => {
    if (!keyed) return send(rib.change(buildDesired(routes, facts).routes, []));
    wanted.upsert(routes);
    for (let from = 0; from < routes.length; from += SLICE) sendKeyed(rib.changeKeys(buildKeyedBatch(routes.slice(from, from + SLICE), facts), []));
  });
  const withdraw = measure(() => {
    if (!keyed) return send(rib.change(buildDesired([], facts).routes, prefixes));
    for (let from = 0; from < prefixes.length; from += SLICE) sendKeyed(rib.withdrawKeys(wanted.withdraw(prefixes.slice(from, from + SLICE))));
  });
  return { announce, withdraw };
}

const results = Array.from({ length: rounds }, round);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (k: "announce" | "withdraw", i: 0 | 1) => `${median(results.map((r) => r[k][i])).toFixed(0)} ms (${results.map((r) => r[k][i].toFixed(0)).join(", ")})`;
console.log(`${count} /32s, ${keyed ? "keyed" : "text"} path, ${events ? "with" : "without"} route events, ${rounds} rounds in one process (medians, then every round)`);
console.log(`announce CPU ${fmt("announce", 0)}; wall ${fmt("announce", 1)}`);
console.log(`withdraw CPU ${fmt("withdraw", 0)}; wall ${fmt("withdraw", 1)}`);
if (sink === 0) console.log("(nothing sent)");
