/**
 * Event-loop lag: a 10 ms timer, re-armed each time it fires; each sample is
 * how late it fired. (perf_hooks.monitorEventLoopDelay's histogram proved
 * unreliable across reset() on Node 20, so the measure is done by hand.)
 */
export class LagMonitor {
  readonly samples: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private expected = 0;

  constructor(private readonly intervalMs = 10) {}

  start(): void {
    this.stop();
    this.samples.length = 0;
    this.arm();
  }

  private arm(): void {
    this.expected = performance.now() + this.intervalMs;
    this.timer = setTimeout(() => {
      this.samples.push(Math.max(0, performance.now() - this.expected));
      this.arm();
    }, this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // A stall still in progress counts too.
    if (this.expected && performance.now() > this.expected) this.samples.push(performance.now() - this.expected);
    this.expected = 0;
  }
}
