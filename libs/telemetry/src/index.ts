export { createLogger, type Logger, type LoggerSettings } from "./logger.js";
export { startOpsServer, type OpsServer, type OpsServerOptions, type ReadinessCheck } from "./http.js";
export {
  addLogLevelOption,
  addTlsOptions,
  argParser,
  checkedArg,
  cliProgram,
  LOG_LEVELS,
  PROCESS_IO,
  parseProgram,
  tlsFlagFiles,
  type FlagIo,
  type ParsedFlags,
  type TlsFlagFiles,
  type TlsFlagHelp,
  type TlsFlags,
} from "./cli-options.js";
export { Registry, Counter, Gauge, Histogram } from "prom-client";
export { collectProcessMetrics } from "./process-metrics.js";
export { exitOnSignals } from "./shutdown.js";
