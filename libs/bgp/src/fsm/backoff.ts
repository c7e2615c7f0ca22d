/**
 * Idle-hold backoff (the DampPeerOscillations behaviour of RFC 4271 §8.1.1):
 * after each error the FSM waits longer before restarting, so a peer that
 * keeps rejecting us is not hammered, and one stable session forgives the past.
 */
import type { IdleHoldConfig } from "./types.js";

export const DEFAULT_IDLE_HOLD_INITIAL_MS = 1_000;
export const DEFAULT_IDLE_HOLD_MAX_MS = 60_000;
export const DEFAULT_STABLE_MS = 60_000;
/** RFC 4271 §10: timers are jittered down by up to 25% so peers do not synchronise. */
export const JITTER_FRACTION = 0.25;
/** 2^30 × anything useful is past the ceiling; stop doubling there to stay finite. */
const MAX_EXPONENT = 30;

/** Scales `ms` into [0.75·ms, ms] by the injected random source. */
export function jitter(ms: number, random: () => number): number {
  return Math.round(ms * (1 - JITTER_FRACTION * random()));
}

export class IdleHoldBackoff {
  private failures = 0;
  readonly initialMs: number;
  readonly maxMs: number;
  readonly stableMs: number;

  constructor(
    config: IdleHoldConfig = {},
    private readonly random: () => number = Math.random,
  ) {
    this.initialMs = config.initialMs ?? DEFAULT_IDLE_HOLD_INITIAL_MS;
    this.maxMs = config.maxMs ?? DEFAULT_IDLE_HOLD_MAX_MS;
    this.stableMs = config.stableMs ?? DEFAULT_STABLE_MS;
  }

  /** Errors since the last reset. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /**
   * Records an error and returns how long to hold in Idle. `afterStable`
   * (the session had been Established for `stableMs`) restarts the sequence.
   */
  failure(afterStable: boolean): number {
    if (afterStable) this.failures = 0;
    this.failures++;
    const exponent = Math.min(this.failures - 1, MAX_EXPONENT);
    return jitter(Math.min(this.maxMs, this.initialMs * 2 ** exponent), this.random);
  }

  reset(): void {
    this.failures = 0;
  }
}
