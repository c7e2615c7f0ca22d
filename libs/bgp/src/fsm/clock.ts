/**
 * The only source of time the FSM sees. Injecting it keeps the state machine
 * pure: production passes `systemClock`, tests pass a `FakeClock` and move
 * time by hand, so no test sleeps or asserts on wall-clock timing.
 */

/** Opaque timer handle; only the clock that created it understands it. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since an arbitrary epoch; only differences are meaningful. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Real time, backed by the Node.js timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface FakeTimer {
  id: number;
  due: number;
  fn: () => void;
}

/**
 * A manually driven clock. `advance(ms)` runs every timer that falls due in
 * the window, in due-time order (ties in creation order), with `now()` set to
 * each timer's due time while it runs, so timers re-armed by a callback also
 * fire if they fall inside the window.
 */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.current + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === "number") this.timers.delete(handle);
  }

  /** Moves time forward by `ms`, firing due timers on the way. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.due > target) break;
      this.timers.delete(next.id);
      this.current = next.due;
      next.fn();
    }
    this.current = target;
  }

  /** Number of armed timers (useful to assert that nothing is left running). */
  pending(): number {
    return this.timers.size;
  }

  /** Milliseconds until the next timer fires, or undefined when none is armed. */
  nextDue(): number | undefined {
    const next = this.earliest();
    return next === undefined ? undefined : next.due - this.current;
  }

  private earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const timer of this.timers.values()) {
      if (best === undefined || timer.due < best.due || (timer.due === best.due && timer.id < best.id)) best = timer;
    }
    return best;
  }
}
