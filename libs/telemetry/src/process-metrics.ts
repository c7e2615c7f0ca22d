/**
 * prom-client's default process metrics, with the event-loop delay sampled
 * every 100 ms instead of every 10 ms: the 10 ms timer alone was most of an
 * idle speaker's CPU (~0.6 % of a core), and hold timers are seconds long, so
 * the coarser sampling still shows any stall that matters.
 */
import { collectDefaultMetrics, type Registry } from "prom-client";

const EVENT_LOOP_SAMPLE_MS = 100;

export function collectProcessMetrics(registry: Registry, prefix?: string): void {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS, ...(prefix ? { prefix } : {}) });
}
