/**
 * Wires a speaker together: an intent source, the controller (store +
 * reconciler), the SpeakerService gRPC API and the operations endpoint.
 * main.ts calls this with the parsed flags; tests call it directly.
 */
import { isIP } from "node:net";
import { SpeakerService, channelCredentials, parseHostPort, registration, serve, type RunningServer, type TlsFiles } from "@svcbgp/api";
import { createLogger, startOpsServer, type Logger, type OpsServer } from "@svcbgp/telemetry";
import { SpeakerController } from "./controller.js";
import { FileIntentSource } from "./intent/file-source.js";
import { WatcherIntentSource } from "./intent/watcher-source.js";
import type { BackoffOptions } from "./intent/backoff.js";
import { SpeakerMetrics } from "./metrics.js";
import { speakerServiceImpl } from "./api/speaker-service.js";
import type { SessionFactory } from "./peers/reconciler.js";
import { PeerListeners, type ListenerFactory } from "./peers/listeners.js";

export const DEFAULT_API_LISTEN = "127.0.0.1:50052";
export const DEFAULT_HTTP_LISTEN = "127.0.0.1:9091";

export interface SpeakerConfig {
  nodeName?: string;
  /** Exactly one of watcher and intentFile. */
  watcher?: string;
  intentFile?: string;
  apiListen: string;
  httpListen: string;
  staleIntentTimeoutMs?: number;
  /** mTLS toward the watcher. */
  tls?: TlsFiles;
  logLevel?: string;
}

export interface SpeakerDeps {
  sessionFactory: SessionFactory;
  logger?: Logger;
  /** Test knobs. */
  file?: { debounceMs?: number; pollMs?: number };
  backoff?: BackoffOptions;
  subscriberBuffer?: number;
  routeBatchSize?: number;
  bgpListeners?: { create?: ListenerFactory; retryMs?: number };
  /** Why TCP-MD5 is unavailable (password peers are refused), or undefined; default: whether libs/bgp's addon loads. */
  tcpMd5Unavailable?: () => string | undefined;
}

export interface RunningSpeaker {
  readonly controller: SpeakerController;
  readonly api: RunningServer;
  readonly ops: OpsServer;
  readonly metrics: SpeakerMetrics;
  readonly fileSource?: FileIntentSource;
  readonly watcherSource?: WatcherIntentSource;
  /** Graceful shutdown: sessions stop (graceful-restart where enabled), then the servers. */
  stop(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
}

export async function startSpeaker(config: SpeakerConfig, deps: SpeakerDeps): Promise<RunningSpeaker> {
  if (Boolean(config.watcher) === Boolean(config.intentFile)) throw new Error("give exactly one of --watcher and --intent-file");
  if (config.watcher && !config.nodeName) throw new Error("--node-name (or NODE_NAME) is required with --watcher");
  const logger = deps.logger ?? createLogger({ name: "svcbgp-speaker", level: config.logLevel });
  const listeners = new PeerListeners({ logger: logger.child({ component: "bgp-listener" }), ...deps.bgpListeners });
  const controller = new SpeakerController({ sessionFactory: deps.sessionFactory, logger, subscriberBuffer: deps.subscriberBuffer, listeners, restarted: true, tcpMd5Unavailable: deps.tcpMd5Unavailable });

  let fileSource: FileIntentSource | undefined;
  let watcherSource: WatcherIntentSource | undefined;
  const metrics = new SpeakerMetrics(controller, config.watcher ? { watcherLinkUp: () => watcherSource?.status().up ?? false } : undefined);

  if (config.intentFile) {
    fileSource = new FileIntentSource({
      path: config.intentFile,
      sink: controller,
      logger: logger.child({ source: "file" }),
      nodeName: config.nodeName,
      debounceMs: deps.file?.debounceMs,
      pollMs: deps.file?.pollMs,
      onInvalid: () => metrics.intentRejected.inc(),
    });
  } else {
    watcherSource = new WatcherIntentSource({
      target: config.watcher!,
      nodeName: config.nodeName!,
      sink: controller,
      logger: logger.child({ source: "watcher", watcher: config.watcher }),
      credentials: channelCredentials(config.tls),
      backoff: deps.backoff,
      staleTimeoutMs: config.staleIntentTimeoutMs,
      onReconnect: () => metrics.watcherReconnects.inc(),
      onInvalid: () => metrics.intentRejected.inc(),
    });
  }

  const apiHost = parseHostPort(config.apiListen).host;
  if (!isLoopback(apiHost)) logger.warn({ listen: config.apiListen }, "the SpeakerService API listens beyond loopback; it is unauthenticated");
  const api = await serve(config.apiListen, [registration(SpeakerService, speakerServiceImpl(controller, controller.events, deps.routeBatchSize))]);
  const http = parseHostPort(config.httpListen);
  let ops: OpsServer;
  try {
    ops = await startOpsServer({
      host: http.host,
      port: http.port,
      registry: metrics.registry,
      readiness: [
        {
          name: "intent",
          check: () => {
            if (controller.hasIntent) return undefined;
            if (fileSource) return fileSource.status().lastError ?? fileSource.status().notReady;
            return `waiting for the first snapshot from ${config.watcher}`;
          },
        },
        ...(watcherSource
          ? [
              {
                name: "watcher",
                check: () => {
                  const link = watcherSource!.status();
                  return link.up ? undefined : `stream to ${config.watcher} down since ${new Date(link.since).toISOString()}: ${link.lastError ?? "unknown"}`;
                },
              },
            ]
          : []),
      ],
    });
  } catch (err) {
    await api.close();
    throw err;
  }
  logger.info({ api: api.address, http: `${http.host}:${ops.port}`, source: config.intentFile ? { file: config.intentFile } : { watcher: config.watcher } }, "speaker started");

  if (fileSource) await fileSource.start();
  watcherSource?.start();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info("shutting down");
      await fileSource?.stop();
      await watcherSource?.stop();
      await controller.shutdown();
      await api.close();
      await ops.close();
      logger.info("stopped");
    })());

  return { controller, api, ops, metrics, fileSource, watcherSource, stop };
}
