/**
 * A passive svcbgp BGP session that keeps its Adj-RIB-In, for the ingest
 * benchmark. Listens on --listen=ADDR:PORT for --peer; reports "ready",
 * "established", "first" (first route held), "done" (--expect routes held:
 * time, event-loop lag during the flood, memory) and "down" if the session
 * drops (a hold-timer expiry would show here).
 */
import { createServer } from "node:net";
import { createBgpSession } from "@svcbgp/bgp";
import { arg, onCommands, report } from "../lib/child.js";
import { LagMonitor } from "../lib/lag.js";
import { memInfo } from "../lib/proc.js";
import { percentile, wallNow } from "../lib/stats.js";

const [listenAddress, listenPort] = arg("listen").split(":");
const expect = Number(arg("expect"));
const session = createBgpSession({
  peerAddress: arg("peer"),
  localAddress: listenAddress,
  routerId: listenAddress,
  localAsn: Number(arg("asn")),
  peerAsn: Number(arg("peer-asn")),
  passive: true,
  holdTime: Number(arg("hold", "9")),
  keepaliveTime: Number(arg("keepalive", "3")),
  keepAdjRibIn: true,
});
const lag = new LagMonitor(10);
let downs = 0;
const downReasons: string[] = [];
session.on((event) => {
  if (event.type !== "state") return;
  if (event.to === "Established") report("established", { at: wallNow() });
  if (event.from === "Established") {
    downs++;
    downReasons.push(`${event.reason ?? ""} (${session.status().lastError ?? ""}) at ${Math.round(wallNow())}`);
    report("down", { at: wallNow(), reason: event.reason ?? "", lastError: session.status().lastError ?? "" });
  }
}, { routes: false });

const server = createServer((socket) => {
  const remote = socket.remoteAddress?.replace(/^::ffff:/, "");
  if (remote !== session.options.peerAddress || !session.acceptConnection(socket)) socket.destroy();
});
server.listen(Number(listenPort), listenAddress, () => {
  session.start();
  report("ready", { at: wallNow(), ...memInfo("self") });
});

let first = false;
const poll = setInterval(() => {
  const count = session.status().prefixesReceived;
  if (!first && count > 0) {
    first = true;
    lag.start(); // the flood starts now
    report("first", { at: wallNow() });
  }
  if (count >= expect) {
    const at = wallNow();
    clearInterval(poll);
    lag.stop();
    const mem = memInfo("self");
    const heap = process.memoryUsage();
    report("done", {
      at,
      count,
      downs,
      downReasons,
      lagP50Ms: percentile(lag.samples, 50),
      lagP99Ms: percentile(lag.samples, 99),
      lagMaxMs: Math.max(0, ...lag.samples),
      lagSamples: lag.samples.length,
      peakRssMb: mem.peakRssMb,
      rssMb: mem.rssMb,
      heapUsedMb: heap.heapUsed / 2 ** 20,
      externalMb: (heap.external + heap.arrayBuffers) / 2 ** 20,
      updates: session.status().received.updates,
    });
    // Settled memory, after a full GC when exposed.
    setTimeout(() => {
      (globalThis as { gc?: () => void }).gc?.();
      report("settled", { ...memInfo("self"), heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20, downs, state: session.status().state });
    }, 500);
  }
}, 5);

onCommands(
  () => {},
  async () => {
    server.close();
    await session.stop("admin-shutdown");
  },
);
