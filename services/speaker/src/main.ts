#!/usr/bin/env node
/** svcbgp-speaker: follows a node's intent and holds its BGP sessions. */
import { createLogger } from "@svcbgp/telemetry";
import { parseFlags } from "./flags.js";
import { startSpeaker } from "./speaker.js";
import { bgpSessionFactory } from "./peers/session-factory.js";

const parsed = parseFlags(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
if ("exitCode" in parsed) process.exit(parsed.exitCode);

const logger = createLogger({ name: "svcbgp-speaker", level: parsed.config.logLevel });
try {
  const speaker = await startSpeaker(parsed.config, { sessionFactory: bgpSessionFactory(), logger });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    logger.info({ signal }, "signal received, shutting down");
    speaker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  process.on("SIGHUP", () => void speaker.fileSource?.reload());
} catch (err) {
  logger.fatal({ err }, `cannot start: ${(err as Error).message}`);
  process.exit(1);
}
