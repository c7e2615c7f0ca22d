/**
 * Ingest: a BIRD peer sends N IPv4 prefixes (/24s, one attribute set, next
 * hop 192.0.2.1) to a receiver that keeps them all: svcbgp (a passive
 * session in its own Node process, Adj-RIB-In kept), BIRD and gobgpd (the
 * references, same sender, same N). eBGP 64513 → 64512 on loopback, hold
 * time 9 s / keepalive 3 s on both sides.
 *
 * The clock starts when the routes appear at an already Established sender
 * (`birdc enable s1`; its static protocol starts disabled) and stops when the
 * receiver holds all N (svcbgp: Adj-RIB-In count, polled in-process every
 * 5 ms; BIRD: its import counter; gobgpd: `gobgp global rib summary`).
 * Peak RSS is the receiver's VmHWM (whole lifetime, start-up included).
 */
import { Bird, birdConfig, birdImported, endpoint, Gobgp, gobgpPathCount, netPrefix, pidOf, type Endpoint } from "./lib/daemons.js";
import { pollUntil } from "./lib/poll.js";
import { BenchChild, memInfo } from "./lib/proc.js";
import { round, wallNow } from "./lib/stats.js";
import type { Bench, BenchContext, SummaryRow } from "./lib/types.js";

const SENDER_ASN = 64513;
const RECEIVER_ASN = 64512;
const NEXT_HOP = "192.0.2.1";
const HOLD = 9;
const KEEPALIVE = 3;

interface Receiver {
  pid: number;
  /** Wall time at which it held all routes. */
  waitAll(count: number): Promise<number>;
  stop(): Promise<void>;
  extra(): Promise<Record<string, unknown>>;
}

export interface IngestRound {
  receiver: string;
  ms: number;
  peakRssMb: number;
  baselineRssMb: number;
  [field: string]: unknown;
}

function senderConfig(sender: Endpoint, receiver: Endpoint, count: number): string {
  const conf = birdConfig({ self: sender, peer: receiver, asn: SENDER_ASN, peerAsn: RECEIVER_ASN, passive: false, statics: { count, prefix: netPrefix }, nextHop: NEXT_HOP, hold: HOLD, keepalive: KEEPALIVE });
  return conf.replace("protocol static s1 {\n", "protocol static s1 {\n  disabled;\n");
}

async function measure(name: string, count: number, receiverEndpoint: Endpoint, senderEndpoint: Endpoint, receiver: Receiver, waitReceiverEstablished: () => Promise<void>): Promise<IngestRound> {
  const baselineRssMb = memInfo(receiver.pid).peakRssMb;
  const sender = await Bird.start(senderConfig(senderEndpoint, receiverEndpoint, count));
  try {
    await sender.waitEstablished("peer1", 30_000);
    await waitReceiverEstablished();
    const t0 = wallNow();
    await sender.birdc("enable s1");
    const at = await receiver.waitAll(count);
    const peakRssMb = memInfo(receiver.pid).peakRssMb;
    const extra = await receiver.extra();
    // Still up after the flood (no hold-timer expiry)?
    const senderState = await sender.protocol("peer1");
    return { receiver: name, ms: at - t0, peakRssMb, baselineRssMb, sessionAfter: senderState.info, ...extra };
  } finally {
    await sender.stop();
    await receiver.stop();
  }
}

async function svcbgpRound(ctx: BenchContext, count: number): Promise<IngestRound> {
  const r = endpoint();
  const s = endpoint();
  const script = await ctx.child("bgp-receiver");
  const child = BenchChild.spawn(script, [`--listen=${r.address}:${r.port}`, `--peer=${s.address}`, `--asn=${RECEIVER_ASN}`, `--peer-asn=${SENDER_ASN}`, `--expect=${count}`, `--hold=${HOLD}`, `--keepalive=${KEEPALIVE}`], {
    nodeFlags: ctx.nodeFlags("ingest", ["--expose-gc"]),
  });
  await child.next("ready", 30_000);
  let done: Record<string, unknown> = {};
  const receiver: Receiver = {
    pid: child.pid,
    async waitAll() {
      done = await child.next("done", 300_000);
      return done.at as number;
    },
    async extra() {
      const settled = await child.next("settled", 30_000);
      const downs = [...(await drain(child, "down"))];
      return {
        lagP50Ms: round(done.lagP50Ms as number, 1),
        lagP99Ms: round(done.lagP99Ms as number, 1),
        lagMaxMs: round(done.lagMaxMs as number, 1),
        heapUsedMb: round(done.heapUsedMb as number, 1),
        externalMb: round(done.externalMb as number, 1),
        settledRssMb: round(settled.rssMb as number, 1),
        settledHeapMb: round(settled.heapUsedMb as number, 1),
        updates: done.updates,
        sessionDowns: (settled.downs as number) ?? downs.length,
        downReasons: done.downReasons,
        stateAfter: settled.state,
      };
    },
    stop: () => child.stop(),
  };
  return measure("svcbgp", count, r, s, receiver, async () => void (await child.next("established", 30_000)));
}

async function drain(child: BenchChild, type: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (;;) {
    const message = await Promise.race([child.next(type, 1).catch(() => undefined)]);
    if (!message) return out;
    out.push(message);
  }
}

async function birdRound(count: number): Promise<IngestRound> {
  const r = endpoint();
  const s = endpoint();
  const bird = await Bird.start(birdConfig({ self: r, peer: s, asn: RECEIVER_ASN, peerAsn: SENDER_ASN, passive: true, hold: HOLD, keepalive: KEEPALIVE }));
  const receiver: Receiver = {
    pid: pidOf(bird),
    waitAll: async (n) => (await pollUntil(() => birdImported(bird), (c) => c >= n, { intervalMs: 50, timeoutMs: 300_000, what: `${n} routes at BIRD` })).at,
    extra: async () => ({}),
    stop: () => bird.stop(),
  };
  return measure("BIRD", count, r, s, receiver, () => bird.waitEstablished("peer1"));
}

async function gobgpRound(count: number, budgetMs: number): Promise<IngestRound> {
  let partial: { held: number; afterMs: number } | undefined;
  const r = endpoint();
  const s = endpoint();
  const gobgp = await Gobgp.start({
    asn: RECEIVER_ASN,
    routerId: r.address,
    listenAddress: r.address,
    listenPort: r.port,
    neighbors: [{ address: s.address, asn: SENDER_ASN, localAddress: r.address, passive: true, holdTime: HOLD, keepalive: KEEPALIVE }],
  });
  const receiver: Receiver = {
    pid: pidOf(gobgp),
    waitAll: async (n) => {
      // gobgpd is slow at this (tens of seconds to minutes): give up after a budget and extrapolate from its progress.
      const t0 = wallNow();
      let held = 0;
      try {
        return (await pollUntil(async () => (held = await gobgpPathCount(gobgp)), (c) => c >= n, { intervalMs: 250, timeoutMs: budgetMs, what: `${n} paths at gobgpd` })).at;
      } catch {
        const elapsed = wallNow() - t0;
        partial = { held, afterMs: elapsed };
        return t0 + (held > 0 ? (elapsed * n) / held : Infinity);
      }
    },
    extra: async () => (partial ? { unfinished: `held ${partial.held} of ${count} after ${Math.round(partial.afterMs / 1000)} s; time extrapolated linearly` } : {}),
    stop: () => gobgp.stop(),
  };
  return measure("gobgpd", count, r, s, receiver, () => gobgp.waitEstablished(s.address));
}

export const ingest: Bench = async (ctx) => {
  const count = Number(process.env.BENCH_INGEST_COUNT) || (ctx.quick ? 50_000 : 1_000_000);
  // BENCH_INGEST_ONLY=svcbgp runs one receiver (for profiling); the summary then lacks the references.
  const only = process.env.BENCH_INGEST_ONLY?.split(",");
  const rounds: IngestRound[] = [];
  for (const [name, run] of [
    ["svcbgp", () => svcbgpRound(ctx, count)],
    ["BIRD", () => birdRound(count)],
    ["gobgpd", () => gobgpRound(count, ctx.quick ? 30_000 : 120_000)],
  ] as const) {
    if (only && !only.includes(name)) {
      rounds.push({ receiver: name, ms: NaN, peakRssMb: NaN, baselineRssMb: NaN });
      continue;
    }
    const result = await run();
    rounds.push(result);
    ctx.log(`${name}: ${(result.ms / 1000).toFixed(2)} s${result.unfinished ? ` (${result.unfinished})` : ""}, peak RSS ${result.peakRssMb.toFixed(0)} MB (at start ${result.baselineRssMb.toFixed(0)} MB)${result.lagP99Ms !== undefined ? `, event-loop lag p99 ${result.lagP99Ms} ms max ${result.lagMaxMs} ms, session drops ${result.sessionDowns}` : ""}`);
  }
  const [ours, bird, gobgp] = rounds;
  const rssTarget = ctx.quick ? undefined : 300;
  return {
    title: `Ingest ${count.toLocaleString("en")} IPv4 prefixes from BIRD (Adj-RIB-In kept)`,
    figures: { count, hold: HOLD, keepalive: KEEPALIVE, rounds },
    summary: [
      { metric: "time until all held", unit: "s", svcbgp: round(ours.ms / 1000, 2), references: { BIRD: round(bird.ms / 1000, 2), gobgpd: round(gobgp.ms / 1000, 2) }, target: "≤ 2× BIRD", met: ours.ms <= 2 * bird.ms },
      {
        metric: "peak RSS of the receiver",
        unit: "MB",
        svcbgp: round(ours.peakRssMb, 0),
        references: { BIRD: round(bird.peakRssMb, 0), gobgpd: round(gobgp.peakRssMb, 0) },
        ...(rssTarget ? { target: `≤ ${rssTarget} MB`, met: ours.peakRssMb <= rssTarget } : {}),
      },
      { metric: "event-loop lag p99 during the flood", unit: "ms", svcbgp: ours.lagP99Ms as number, references: {}, target: "< 500 ms, no session drop", met: (ours.lagP99Ms as number) < 500 && ours.sessionDowns === 0 },
    ] as SummaryRow[],
    notes: [
      "clock from `birdc enable s1` on an Established sender to the receiver holding every prefix; eBGP on loopback, hold 9 s / keepalive 3 s",
      `svcbgp receiver: Node process with ${round(ours.baselineRssMb, 0)} MB resident before the flood; settled RSS after GC ${ours.settledRssMb} MB (heap ${ours.settledHeapMb} MB); event-loop lag max ${ours.lagMaxMs} ms; ${ours.updates} UPDATEs`,
      "all prefixes share one attribute set (a best case for attribute interning in all three)",
      ...(gobgp.unfinished ? [`gobgpd did not finish within its budget: ${gobgp.unfinished}`] : []),
      ...(ours.sessionDowns ? [`svcbgp session dropped during the flood: ${JSON.stringify(ours.downReasons)}`] : []),
    ],
  };
};
