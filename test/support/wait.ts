/**
 * Polling helpers: integration tests assert on behaviour eventually reached,
 * never on how long it took, so slow CI machines only make them slower.
 */

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resolves once `cond` returns (or resolves to) a truthy value; rejects with
 * `what` (and the last error thrown by `cond`, if any) after `timeoutMs`.
 */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = "condition",
  intervalMs = 20,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await cond();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await sleep(intervalMs);
  }
}

/** Like waitFor, but the condition is an assertion that throws until it holds. */
export async function eventually(assertion: () => void | Promise<void>, timeoutMs = 10_000, intervalMs = 20): Promise<void> {
  await waitFor(
    async () => {
      await assertion();
      return true;
    },
    timeoutMs,
    "assertion",
    intervalMs,
  );
}
