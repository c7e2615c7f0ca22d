/**
 * The watcher's Prometheus metrics. State-like values (nodes, routes,
 * speakers, issues, source status) are read when scraped; events are counted
 * as they happen.
 */
import { Counter, Gauge, Histogram, collectProcessMetrics, type Registry } from "@svcbgp/telemetry";
import type { RouteEngine } from "./engine/engine.js";
import type { IntentHub, SnapshotCause } from "./intents/intent-hub.js";
import type { KindStatus } from "./sources/kubernetes.js";
import type { ResourceKind } from "./sources/source.js";

export interface MetricsInputs {
  engine: RouteEngine;
  hub: IntentHub;
  /** Per-kind source status (cluster mode). */
  sourceStatus?: () => Partial<Record<ResourceKind, KindStatus>>;
}

export class WatcherMetrics {
  /** Source deliveries: upsert, delete, or replace (a list). */
  readonly sourceEvents: Counter<"kind" | "type">;
  /** Node-intent revisions (one per node whose intent changed, per update). */
  readonly intentRevisions: Counter;
  /** Events sent to speakers. */
  readonly streamEvents: Counter<"event" | "cause">;
  /** From a source event reaching the watcher to the resulting intent change leaving for a speaker. */
  readonly eventToIntent: Histogram;
  /** Kubernetes Events posted (or failed) about rejected IPs and config. */
  readonly kubeEvents: Counter<"reason" | "result">;

  constructor(registry: Registry, inputs: MetricsInputs) {
    const registers = [registry];
    collectProcessMetrics(registry);
    const { engine, hub } = inputs;

    this.sourceEvents = new Counter({ name: "svcbgp_watcher_source_events_total", help: "Objects and lists delivered by the source, by kind and type (upsert, delete, replace).", labelNames: ["kind", "type"], registers });
    this.intentRevisions = new Counter({ name: "svcbgp_watcher_intent_revisions_total", help: "Node intent revisions: one per node whose intent changed, per update.", registers });
    this.streamEvents = new Counter({ name: "svcbgp_watcher_stream_events_total", help: "WatchIntent events sent, by event (snapshot, delta) and snapshot cause (initial, change, overflow).", labelNames: ["event", "cause"], registers });
    this.eventToIntent = new Histogram({
      name: "svcbgp_watcher_event_to_intent_seconds",
      help: "Time from a source event reaching the watcher to the intent change it caused being sent to a speaker.",
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
    this.kubeEvents = new Counter({ name: "svcbgp_watcher_kubernetes_events_total", help: "Kubernetes Events about rejected IPs and config, by reason and result (posted, or not_posted: a duplicate, or refused by the API).", labelNames: ["reason", "result"], registers });

    new Gauge({
      name: "svcbgp_watcher_nodes",
      help: "Nodes the watcher computes intents for.",
      registers,
      collect() {
        this.set(engine.listNodes().length);
      },
    });
    new Gauge({
      name: "svcbgp_watcher_routes",
      help: "Routes across all nodes' intents (a prefix advertised by n nodes counts n times).",
      registers,
      collect() {
        let total = 0;
        for (const name of engine.listNodes()) total += engine.nodeSummary(name)?.routeCount ?? 0;
        this.set(total);
      },
    });
    new Gauge({
      name: "svcbgp_watcher_connected_speakers",
      help: "WatchIntent streams open.",
      registers,
      collect() {
        this.set(hub.subscriberCount);
      },
    });
    new Gauge({
      name: "svcbgp_watcher_ready",
      help: "1 once the sources have synced and intents are served.",
      registers,
      collect() {
        this.set(hub.isReady ? 1 : 0);
      },
    });
    new Gauge({
      name: "svcbgp_watcher_config_issues",
      help: "Open config issues: rejected BGPConfigurations and BGPPeers, unresolvable peer passwords.",
      registers,
      collect() {
        this.set(engine.configIssues().length);
      },
    });
    new Gauge({
      name: "svcbgp_watcher_rejected_service_addresses",
      help: "Service IPs and annotations refused (e.g. an externalIP outside serviceExternalIPs).",
      registers,
      collect() {
        let n = 0;
        for (const list of engine.allRejections().values()) n += list.length;
        this.set(n);
      },
    });
    let countedOverflows = 0;
    new Counter({
      name: "svcbgp_watcher_stream_overflows_total",
      help: "Slow speakers switched to a fresh snapshot instead of a growing backlog.",
      registers,
      collect() {
        if (hub.overflows > countedOverflows) this.inc(hub.overflows - countedOverflows);
        countedOverflows = hub.overflows;
      },
    });

    const status = inputs.sourceStatus;
    if (status) {
      const seen = { restarts: new Map<string, number>(), lists: new Map<string, number>() };
      const incTo = (counter: Counter<"kind">, last: Map<string, number>, kind: string, value: number) => {
        const previous = last.get(kind) ?? 0;
        if (value > previous) counter.inc({ kind }, value - previous);
        last.set(kind, value);
      };
      new Counter({
        name: "svcbgp_watcher_source_restarts_total",
        help: "Informer restarts after errors or staleness, by kind.",
        labelNames: ["kind"],
        registers,
        collect() {
          for (const [kind, s] of Object.entries(status())) incTo(this, seen.restarts, kind, s.restarts);
        },
      });
      new Counter({
        name: "svcbgp_watcher_source_lists_total",
        help: "Lists done (first lists and re-lists after 410 Gone or a restart), by kind.",
        labelNames: ["kind"],
        registers,
        collect() {
          for (const [kind, s] of Object.entries(status())) incTo(this, seen.lists, kind, s.lists);
        },
      });
      new Gauge({
        name: "svcbgp_watcher_source_synced",
        help: "1 when every informer of the kind has listed.",
        labelNames: ["kind"],
        registers,
        collect() {
          for (const [kind, s] of Object.entries(status())) this.set({ kind }, s.synced ? 1 : 0);
        },
      });
      new Gauge({
        name: "svcbgp_watcher_source_objects",
        help: "Objects the source currently knows, by kind.",
        labelNames: ["kind"],
        registers,
        collect() {
          for (const [kind, s] of Object.entries(status())) this.set({ kind }, s.objects);
        },
      });
    }
  }

  /** Hub observer: count what leaves for speakers and how long it took. */
  sent(event: "snapshot" | "delta", cause: SnapshotCause | undefined, latencyMs: number | undefined): void {
    this.streamEvents.inc({ event, cause: cause ?? "" });
    if (latencyMs !== undefined) this.eventToIntent.observe(latencyMs / 1000);
  }
}
