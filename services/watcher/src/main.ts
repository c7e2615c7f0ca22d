#!/usr/bin/env node
/** svcbgp-watcher: Kubernetes objects (or manifests) in, each node's desired routes out over gRPC. */
import { createLogger } from "@svcbgp/telemetry";
import { parseFlags } from "./flags.js";
import { startWatcher } from "./watcher.js";

const parsed = parseFlags(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
if ("exitCode" in parsed) process.exit(parsed.exitCode);

const logger = createLogger({ name: "svcbgp-watcher", level: parsed.config.logLevel });
try {
  const watcher = await startWatcher(parsed.config, { logger });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    logger.info({ signal }, "signal received, shutting down");
    watcher.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
} catch (err) {
  logger.fatal({ err }, `cannot start: ${(err as Error).message}`);
  process.exit(1);
}
