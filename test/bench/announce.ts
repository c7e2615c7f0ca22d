/**
 * Announce: one svcbgp session advertises N /32s to BIRD; time until BIRD has
 * imported them all, then until all are withdrawn. Reference: BIRD → BIRD
 * with the same N static routes.
 *
 * Two ways of starting the clock, both measured:
 * - "transfer" (the headline): the session is already Established when the
 *   routes appear at the sender — svcbgp: updateRoutes(all) on the session;
 *   BIRD: `birdc enable s1` on a sender whose static protocol started
 *   disabled. This is the table transfer alone.
 * - "from start": svcbgp from routes handed to a new session + start() (its
 *   Node process already up: the speaker is long-lived); BIRD from spawning
 *   the sending BIRD. BIRD waits a randomised connect delay before its first
 *   dial (a few seconds even with `connect delay time 0`), which dominates
 *   its figure; reported for completeness, not compared.
 * Withdrawal: svcbgp updateRoutes([], all); BIRD `birdc disable s1`.
 */
import { BirdControl } from "./lib/bird-control.js";
import { Bird, birdConfig, endpoint, hostPrefix, pidOf } from "./lib/daemons.js";
import { pollUntil } from "./lib/poll.js";
import { BenchChild, cpuSeconds } from "./lib/proc.js";
import { percentile, round, wallNow } from "./lib/stats.js";
import type { Bench } from "./lib/types.js";

const ASN = 64512;
/** The receiver's import counter is read this often, over one control-socket connection (~1 ms a query, no birdc process). */
const POLL_MS = 2;

interface Round {
  fromStartMs: number;
  transferMs: number;
  withdrawMs: number;
  /** CPU time (user + system) of the sending process for the transfer and the withdrawal: less sensitive to a busy machine than wall time. */
  senderCpuMs: number;
}

function receiverConfig(receiver: ReturnType<typeof endpoint>, sender: ReturnType<typeof endpoint>): string {
  return birdConfig({ self: receiver, peer: sender, asn: ASN, peerAsn: ASN, passive: true });
}

/** svcbgp's round, plus how long updateRoutes held the sender's event loop (building and writing every UPDATE). */
interface SvcbgpRound extends Round {
  updates: number;
  announceBusyMs: number;
  withdrawBusyMs: number;
}

async function svcbgpRound(count: number, script: string, nodeFlags: (label: string) => string[]): Promise<SvcbgpRound> {
  const receiver = endpoint();
  const self = endpoint();
  const bird = await Bird.start(receiverConfig(receiver, self));
  const control = await BirdControl.open(bird.socket);
  const imported = () => control.imported("peer1");
  const args = [`--count=${count}`, `--peer=${receiver.address}`, `--peer-port=${receiver.port}`, `--local=${self.address}`, `--asn=${ASN}`, `--peer-asn=${ASN}`];
  let child = BenchChild.spawn(script, args, { nodeFlags: nodeFlags("announce-start") });
  try {
    // From start.
    await child.next("ready");
    child.send({ type: "start" });
    const started = (await child.next("started")).at as number;
    const full = await pollUntil(imported, (n) => n === count, { intervalMs: POLL_MS, what: `${count} routes at BIRD` });
    await child.stop();
    await pollUntil(imported, (n) => n === 0, { intervalMs: POLL_MS, what: "BIRD to drop the session's routes" });

    // Transfer over an established session, then withdrawal.
    child = BenchChild.spawn(script, args, { nodeFlags: nodeFlags("announce-transfer") });
    await child.next("ready");
    child.send({ type: "connect" });
    await child.next("established", 30_000);
    await bird.waitEstablished("peer1");
    const cpu0 = cpuSeconds(child.pid);
    child.send({ type: "announce" });
    const announced = await child.next("announcing");
    const announcing = announced.at as number;
    const transferred = await pollUntil(imported, (n) => n === count, { intervalMs: POLL_MS, what: `${count} routes at BIRD` });
    child.send({ type: "withdraw" });
    const withdrawing = await child.next("withdrawing");
    const empty = await pollUntil(imported, (n) => n === 0, { intervalMs: POLL_MS, what: "withdrawal at BIRD" });
    const senderCpuMs = (cpuSeconds(child.pid) - cpu0) * 1000;
    return {
      fromStartMs: full.at - started,
      transferMs: transferred.at - announcing,
      withdrawMs: empty.at - (withdrawing.at as number),
      senderCpuMs,
      updates: withdrawing.sent as number,
      announceBusyMs: announced.busyMs as number,
      withdrawBusyMs: withdrawing.busyMs as number,
    };
  } finally {
    await child.stop();
    control.close();
    await bird.stop();
  }
}

async function birdRound(count: number): Promise<Round> {
  const receiver = endpoint();
  const self = endpoint();
  const bird = await Bird.start(receiverConfig(receiver, self));
  const control = await BirdControl.open(bird.socket);
  const imported = () => control.imported("peer1");
  const senderConfig = (disabled: boolean) => {
    const conf = birdConfig({ self, peer: receiver, asn: ASN, peerAsn: ASN, passive: false, statics: { count, prefix: hostPrefix } });
    return disabled ? conf.replace("protocol static s1 {\n", "protocol static s1 {\n  disabled;\n") : conf;
  };
  let sender: Bird | undefined;
  try {
    // From start.
    const t0 = wallNow();
    sender = await Bird.start(senderConfig(false));
    const full = await pollUntil(imported, (n) => n === count, { intervalMs: POLL_MS, what: `${count} routes at BIRD (from BIRD)` });
    await sender.stop();
    await pollUntil(imported, (n) => n === 0, { intervalMs: POLL_MS, what: "BIRD to drop the sender's routes" });

    // Transfer over an established session, then withdrawal.
    sender = await Bird.start(senderConfig(true));
    await sender.waitEstablished("peer1");
    await bird.waitEstablished("peer1");
    const cpu0 = cpuSeconds(pidOf(sender));
    // Commands over a control-socket connection opened beforehand: no birdc start-up inside BIRD's figure.
    const senderControl = await BirdControl.open(sender.socket);
    const t1 = wallNow();
    await senderControl.command("enable s1");
    const transferred = await pollUntil(imported, (n) => n === count, { intervalMs: POLL_MS, what: `${count} routes at BIRD (from BIRD)` });
    const t2 = wallNow();
    await senderControl.command("disable s1");
    senderControl.close();
    const empty = await pollUntil(imported, (n) => n === 0, { intervalMs: POLL_MS, what: "withdrawal at BIRD (from BIRD)" });
    const senderCpuMs = (cpuSeconds(pidOf(sender)) - cpu0) * 1000;
    return { fromStartMs: full.at - t0, transferMs: transferred.at - t1, withdrawMs: empty.at - t2, senderCpuMs };
  } finally {
    await sender?.stop();
    control.close();
    await bird.stop();
  }
}

export const announce: Bench = async (ctx) => {
  const count = ctx.quick ? 20_000 : 100_000;
  const rounds = Number(process.env.BENCH_ROUNDS) || (ctx.quick ? 1 : 3);
  const script = await ctx.child("bgp-sender");
  const ours: Array<Awaited<ReturnType<typeof svcbgpRound>>> = [];
  const theirs: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    ours.push(await svcbgpRound(count, script, (label) => ctx.nodeFlags(`${label}-${r}`)));
    theirs.push(await birdRound(count));
    const f = (x: Round) => `transfer ${x.transferMs.toFixed(0)} ms, withdraw ${x.withdrawMs.toFixed(0)} ms (sender CPU ${x.senderCpuMs.toFixed(0)} ms), from start ${x.fromStartMs.toFixed(0)} ms`;
    ctx.log(`round ${r + 1}/${rounds}: svcbgp ${f(ours[r])} (updateRoutes busy ${ours[r].announceBusyMs.toFixed(0)} / ${ours[r].withdrawBusyMs.toFixed(0)} ms); BIRD ${f(theirs[r])}`);
  }
  const med = (xs: Round[], k: keyof Round) => round(percentile(xs.map((x) => x[k]), 50), 0);
  return {
    title: `Announce ${count.toLocaleString("en")} /32s to BIRD`,
    figures: {
      count,
      rounds,
      svcbgp: ours,
      bird: theirs,
      median: {
        svcbgp: { transferMs: med(ours, "transferMs"), withdrawMs: med(ours, "withdrawMs"), fromStartMs: med(ours, "fromStartMs"), senderCpuMs: med(ours, "senderCpuMs") },
        bird: { transferMs: med(theirs, "transferMs"), withdrawMs: med(theirs, "withdrawMs"), fromStartMs: med(theirs, "fromStartMs"), senderCpuMs: med(theirs, "senderCpuMs") },
      },
    },
    summary: [
      { metric: "announce: all at BIRD (session up)", unit: "ms", svcbgp: med(ours, "transferMs"), references: { "BIRD→BIRD": med(theirs, "transferMs") }, target: "≤ reference", met: med(ours, "transferMs") <= med(theirs, "transferMs") },
      { metric: "withdraw: all gone at BIRD", unit: "ms", svcbgp: med(ours, "withdrawMs"), references: { "BIRD→BIRD": med(theirs, "withdrawMs") }, target: "≤ reference", met: med(ours, "withdrawMs") <= med(theirs, "withdrawMs") },
      { metric: "sender CPU, announce + withdraw", unit: "ms", svcbgp: med(ours, "senderCpuMs"), references: { "BIRD→BIRD": med(theirs, "senderCpuMs") } },
      { metric: "announce: from the sender's start", unit: "ms", svcbgp: med(ours, "fromStartMs"), references: { "BIRD→BIRD": med(theirs, "fromStartMs") } },
    ],
    notes: [
      `median of ${rounds} round(s); iBGP (AS ${ASN}) on loopback; the receiving BIRD's import counter polled every ${POLL_MS} ms over its control socket`,
      "session up: clock starts when the routes appear at an Established sender (svcbgp updateRoutes; BIRD `enable s1`)",
      "from the sender's start: svcbgp from a new session's start() with the routes given; BIRD from spawning it — BIRD's randomised connect delay dominates its figure",
      `svcbgp sent ${ours[0].updates} UPDATE messages for ${count} routes`,
    ],
  };
};
