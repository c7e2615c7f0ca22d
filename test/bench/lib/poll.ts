import { sleep } from "../../support/wait.js";
import { wallNow } from "./stats.js";

/**
 * Polls `read` every `intervalMs` until `done(value)`; resolves with the wall
 * time of the first sample that satisfied it (the midpoint of the query, whose
 * answer reflects the state somewhere between its start and end) and the value.
 */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, options: { intervalMs?: number; timeoutMs?: number; what?: string } = {}): Promise<{ at: number; value: T }> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let last: T | undefined;
  for (;;) {
    const start = wallNow();
    last = await read();
    if (done(last)) return { at: (start + wallNow()) / 2, value: last };
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? "condition"} (last: ${JSON.stringify(last)})`);
    await sleep(options.intervalMs ?? 20);
  }
}
