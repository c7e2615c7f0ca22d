#!/usr/bin/env node
/** svcbgp-speaker: follows a node's intent and holds its BGP sessions. */
import { createLogger, exitOnSignals, PROCESS_IO } from "@svcbgp/telemetry";
import { parseFlags } from "./flags.js";
import { startSpeaker } from "./speaker.js";
import { bgpSessionFactory } from "./peers/session-factory.js";

const parsed = parseFlags(process.argv.slice(2), process.env, PROCESS_IO);
if ("exitCode" in parsed) process.exit(parsed.exitCode);

const logger = createLogger({ name: "svcbgp-speaker", level: parsed.config.logLevel });
try {
  const speaker = await startSpeaker(parsed.config, { sessionFactory: bgpSessionFactory(), logger });
  exitOnSignals(logger, () => speaker.stop());
  process.on("SIGHUP", () => void speaker.fileSource?.reload());
} catch (err) {
  logger.fatal({ err }, `cannot start: ${(err as Error).message}`);
  process.exit(1);
}
