export { createLogger, type Logger, type LoggerSettings } from "./logger.js";
export { startOpsServer, type OpsServer, type OpsServerOptions, type ReadinessCheck } from "./http.js";
export { parseDuration } from "./duration.js";
export { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from "prom-client";
