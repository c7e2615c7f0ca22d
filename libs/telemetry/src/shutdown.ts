/**
 * SIGTERM/SIGINT handling shared by the services: the first signal shuts down
 * gracefully and exits 0 (1 if shutdown fails); a second one exits at once.
 */
import type { Logger } from "pino";

export function exitOnSignals(logger: Logger, shutdown: () => Promise<void>, signals: NodeJS.Signals[] = ["SIGTERM", "SIGINT"]): void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++received > 1) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    logger.info({ signal }, "signal received, shutting down");
    shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
}
