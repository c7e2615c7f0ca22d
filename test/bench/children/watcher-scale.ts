/**
 * The watcher (startWatcher: Kubernetes informers → engine → IntentHub →
 * gRPC) in its own process, for the watcher-scale and convergence
 * benchmarks. The source's sink is wrapped to time every event after the
 * initial sync: from the watch event reaching the sink to engine + hub
 * having taken it (intents updated), and — when the object carries the
 * annotation bench.svcbgp.io/sent-at (wall ms) — from the API server write.
 *
 * Reports "synced" (sync time, time to materialise every intent, memory),
 * then answers "stats" with the samples gathered since the last "stats".
 */
import { readFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { createLogger } from "@svcbgp/telemetry";
import { KubernetesSource } from "../../../services/watcher/src/sources/kubernetes.js";
import type { ResourceEvent, ResourceKind, KubeObject, ResourceSink } from "../../../services/watcher/src/sources/source.js";
import { startWatcher } from "../../../services/watcher/src/watcher.js";
import { arg, onCommands, report } from "../lib/child.js";
import { memInfo } from "../lib/proc.js";
import { wallNow } from "../lib/stats.js";

export const SENT_AT = "bench.svcbgp.io/sent-at";

const kubeConfig = new KubeConfig();
kubeConfig.loadFromString(readFileSync(arg("kubeconfig"), "utf8"));
const logger = createLogger({ name: "svcbgp-watcher", level: arg("log-level", "error") });
const source = new KubernetesSource({ kubeConfig, secretNamespace: "svcbgp-system", logger: logger.child({ component: "kubernetes" }), staleAfterMs: 0, minWatchIntervalMs: 10 });

let measuring = false;
let applyMs: number[] = [];
let endToEndMs: number[] = [];
const sentAt = (object: KubeObject): number | undefined => {
  const value = (object.metadata as { annotations?: Record<string, string> }).annotations?.[SENT_AT];
  return value ? Number(value) : undefined;
};
const realStart = source.start.bind(source);
source.start = (sink: ResourceSink) =>
  realStart({
    apply(event: ResourceEvent) {
      if (!measuring) return sink.apply(event);
      const t0 = performance.now();
      sink.apply(event);
      const t1 = performance.now();
      applyMs.push(t1 - t0);
      const sent = sentAt(event.object);
      if (sent !== undefined) endToEndMs.push(wallNow() - sent);
    },
    replace(kind: ResourceKind, objects: KubeObject[]) {
      sink.replace(kind, objects);
    },
  });

const t0 = performance.now();
const watcher = await startWatcher(
  { source: { kind: "kubernetes" }, listen: arg("listen", "127.0.0.1:0"), httpListen: "127.0.0.1:0", namespace: "svcbgp-system", staleAfterMs: 0 },
  { logger, source, kubeConfig },
);
await watcher.synced;
const t1 = performance.now();
const nodes = watcher.engine.listNodes();
let routes = 0;
for (const name of nodes) routes += watcher.engine.intent(name)?.routes.length ?? 0;
const t2 = performance.now();
(globalThis as { gc?: () => void }).gc?.();
report("synced", {
  syncMs: t1 - t0,
  intentsMs: t2 - t1,
  nodes: nodes.length,
  services: watcher.engine.model.services.size,
  routes,
  address: watcher.address,
  ...memInfo("self"),
  heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20,
});
measuring = true;

onCommands(
  (command) => {
    if (command.type === "stats") {
      report("stats", { applyMs, endToEndMs, ...memInfo("self"), heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20 });
      applyMs = [];
      endToEndMs = [];
    } else if (command.type === "intent") {
      const intent = watcher.engine.intent(String(command.node));
      report("intent", { routes: intent?.routes.map((r) => r.prefix) ?? [] });
    }
  },
  () => watcher.close(),
);
