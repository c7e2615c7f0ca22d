/** Per-test cleanup for suites that start daemons, sessions and sockets. */
import { afterEach } from "vitest";

export type Cleanup = () => Promise<unknown> | unknown;

/**
 * A stack of cleanups run after each test of the calling file, last first. A
 * failing one does not keep the rest from running: the daemons and sockets of
 * a failed test must not outlive it.
 */
export function cleanupAfterEach(): Cleanup[] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => {});
  });
  return cleanups;
}
