#!/usr/bin/env node
/** svcbgp-watcher: Kubernetes objects (or manifests) in, each node's desired routes out over gRPC. */
import { createLogger, exitOnSignals, PROCESS_IO } from "@svcbgp/telemetry";
import { parseFlags } from "./flags.js";
import { startWatcher } from "./watcher.js";

const parsed = parseFlags(process.argv.slice(2), process.env, PROCESS_IO);
if ("exitCode" in parsed) process.exit(parsed.exitCode);

const logger = createLogger({ name: "svcbgp-watcher", level: parsed.config.logLevel });
try {
  const watcher = await startWatcher(parsed.config, { logger });
  exitOnSignals(logger, () => watcher.close());
} catch (err) {
  logger.fatal({ err }, `cannot start: ${(err as Error).message}`);
  process.exit(1);
}
