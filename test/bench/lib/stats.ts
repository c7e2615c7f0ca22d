/** Small statistics helpers for benchmark samples (milliseconds unless said). */

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export interface Distribution {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function distribution(samples: readonly number[]): Distribution {
  const n = samples.length;
  const mean = n ? samples.reduce((a, b) => a + b, 0) / n : NaN;
  return { n, p50: percentile(samples, 50), p90: percentile(samples, 90), p99: percentile(samples, 99), max: n ? Math.max(...samples) : NaN, mean };
}

export function round(value: number, digits = 1): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Wall clock with sub-millisecond resolution, comparable across processes on one host. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}
