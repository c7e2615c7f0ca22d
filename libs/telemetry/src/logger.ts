/**
 * JSON logs (pino). Secrets never reach a log line: known secret-bearing keys
 * are redacted wherever they appear.
 */
import { pino, type Logger, type LoggerOptions } from "pino";

export type { Logger };

const REDACTED_PATHS = ["password", "*.password", "*.*.password", "peers[*].password", "secret", "*.secret", "authorization", "*.authorization"];

export interface LoggerSettings {
  level?: string;
  /** Service name, added to every line. */
  name: string;
  /** Where to write; defaults to stdout. Tests pass a stream to capture lines. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name: settings.name,
    level: settings.level ?? process.env.SVCBGP_LOG_LEVEL ?? "info",
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
