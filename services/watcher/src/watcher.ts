/**
 * The watcher, wired: source → route engine → intent hub → gRPC, plus the
 * ops endpoint, logs, metrics and Kubernetes Events.
 *
 * - Speakers are served nothing until the source has synced: a snapshot of a
 *   half-listed cluster would withdraw routes that are still wanted.
 * - The Secrets followed (cluster mode) are exactly those BGPPeers reference.
 * - Refusals (a Service IP outside the allowed ranges, a rejected config
 *   resource) are logged and posted as Events — from the sync on, so the
 *   transient state of a partial initial list (Services before the
 *   BGPConfiguration) raises nothing.
 * - Until the sync, the engine is held: Services are evaluated once, when
 *   every kind has been listed, rather than again as each kind's list
 *   arrives (Services, then their EndpointSlices, then the config).
 */
import { performance } from "node:perf_hooks";
import type { KubeConfig } from "@kubernetes/client-node";
import { IntentService, parseHostPort, registration, serve, type RunningServer, type TlsFiles } from "@svcbgp/api";
import { createLogger, Registry, startOpsServer, type Logger, type OpsServer } from "@svcbgp/telemetry";
import { intentServiceImpl } from "./api/intent-service.js";
import { RouteEngine } from "./engine/engine.js";
import type { IntentChanges } from "./engine/changes.js";
import { ProblemReporter } from "./events.js";
import { IntentHub } from "./intents/intent-hub.js";
import { WatcherMetrics } from "./metrics.js";
// Type-only: the client library (~0.7 s to load) is imported only when the Kubernetes source is used.
import type { KubernetesSource, KubernetesSourceOptions } from "./sources/kubernetes.js";
import { ManifestsSource, type ManifestsSourceOptions } from "./sources/manifests.js";
import { objectKey, type KubeObject, type ResourceEvent, type ResourceKind, type ResourceSink, type ResourceSource } from "./sources/source.js";

export const DEFAULT_LISTEN = "127.0.0.1:50051";
export const DEFAULT_HTTP_LISTEN = "127.0.0.1:9090";
export const DEFAULT_NAMESPACE = "svcbgp-system";
export const DEFAULT_STALE_AFTER_MS = 5 * 60_000;

export type SourceConfig =
  | { kind: "manifests"; dir: string }
  /** Without a kubeconfig file: in-cluster (service account). */
  | { kind: "kubernetes"; kubeconfig?: string };

export interface WatcherConfig {
  source: SourceConfig;
  /** IntentService gRPC, "host:port" (port 0 picks one). */
  listen: string;
  /** /metrics, /livez, /readyz. */
  httpListen: string;
  /** Namespace of peer password Secrets. */
  namespace: string;
  tls?: TlsFiles;
  /** Informer staleness watchdog (cluster mode); 0 disables. */
  staleAfterMs?: number;
}

/** A source the watcher can wait on. KubernetesSource has whenSynced; ManifestsSource is synced once started. */
export type WatcherSource = ResourceSource & { whenSynced?(): Promise<void> };

export interface WatcherDeps {
  logger?: Logger;
  registry?: Registry;
  /** Used instead of the source config.source describes (tests). */
  source?: WatcherSource;
  /** Used instead of loading config.source.kubeconfig / the in-cluster config. */
  kubeConfig?: KubeConfig;
  /** Extra KubernetesSource options (backoff, intervals) for tests. */
  kubernetes?: Partial<KubernetesSourceOptions>;
  /** Extra ManifestsSource options (debounce, polling) for tests. */
  manifests?: Partial<ManifestsSourceOptions>;
}

export interface Watcher {
  /** gRPC "host:port" clients can dial. */
  readonly address: string;
  readonly httpPort: number;
  readonly engine: RouteEngine;
  readonly hub: IntentHub;
  readonly source: WatcherSource;
  readonly registry: Registry;
  readonly reporter: ProblemReporter;
  /** Resolves once the source has synced and streams are served. */
  readonly synced: Promise<void>;
  /** Stops serving: streams end cleanly, the source stops. Idempotent. */
  close(): Promise<void>;
}

const INTENT_SERVICE = IntentService.typeName;

export async function startWatcher(config: WatcherConfig, deps: WatcherDeps = {}): Promise<Watcher> {
  const logger = deps.logger ?? createLogger({ name: "svcbgp-watcher" });
  const registry = deps.registry ?? new Registry();
  const engine = new RouteEngine({ secretNamespace: config.namespace });
  // Services are evaluated once, when the source has synced (see onSynced), not as each list arrives.
  engine.hold();

  // The observer runs only once streams are served, after `metrics` exists.
  const hub = new IntentHub(engine, { observer: { sent: (_node, event, cause, latencyMs) => metrics.sent(event, cause, latencyMs) } });

  const kubernetes = deps.source ? undefined : config.source.kind === "kubernetes" ? await buildKubernetesSource(config, deps, logger) : undefined;
  const source: WatcherSource =
    deps.source ??
    kubernetes ??
    new ManifestsSource({ dir: (config.source as { dir: string }).dir, logger: logger.child({ component: "manifests" }), ...deps.manifests });
  // Cluster mode: Events go to the API server, and the Secrets followed are chosen here.
  const cluster = kubernetes ?? (deps.source && isKubernetesSource(deps.source) ? deps.source : undefined);

  const metrics = new WatcherMetrics(registry, { engine, hub, sourceStatus: cluster ? () => cluster.status() : undefined });

  // The last object received per config resource, so Events can name it (with its uid).
  const configObjects = new Map<string, KubeObject>();
  const reporter = new ProblemReporter({
    logger,
    poster: cluster,
    lookup: { service: (key) => engine.model.services.get(key), config: (resource) => configObjects.get(resource) },
    onEvent: (reason, result) => metrics.kubeEvents.inc({ reason, result }),
  });

  let synced = false;
  let closing = false;
  let eventAt = performance.now();
  const unsubscribe = engine.onChange((changes: IntentChanges) => {
    metrics.intentRevisions.inc(hub.update(changes, eventAt));
    if (!synced) return;
    if (changes.rejections.size > 0) reporter.rejections(changes.rejections);
    if (changes.issues.length > 0) reporter.issues(changes.issues);
  });

  let followedSecrets = "";
  const followSecrets = () => {
    if (!cluster) return;
    const names = [...new Set(engine.model.bgpPeers().flatMap((peer) => (peer.password ? [peer.password.secretName] : [])))].sort();
    const key = names.join(",");
    if (key === followedSecrets) return;
    followedSecrets = key;
    logger.info({ secrets: names, namespace: config.namespace }, "following peer password Secrets");
    cluster.watchSecrets(names);
  };
  const remember = (kind: ResourceKind, object: KubeObject, deleted: boolean) => {
    if (kind !== "BGPConfiguration" && kind !== "BGPPeer") return;
    const key = `${kind}/${objectKey(object)}`;
    if (deleted) configObjects.delete(key);
    else configObjects.set(key, object);
  };

  const sink: ResourceSink = {
    apply(event: ResourceEvent) {
      eventAt = performance.now();
      metrics.sourceEvents.inc({ kind: event.kind, type: event.type });
      remember(event.kind, event.object, event.type === "delete");
      engine.apply(event);
      if (event.kind === "BGPPeer") followSecrets();
    },
    replace(kind: ResourceKind, objects: KubeObject[]) {
      eventAt = performance.now();
      metrics.sourceEvents.inc({ kind, type: "replace" });
      if (kind === "BGPConfiguration" || kind === "BGPPeer") {
        for (const key of [...configObjects.keys()]) if (key.startsWith(`${kind}/`)) configObjects.delete(key);
        for (const object of objects) remember(kind, object, false);
      }
      engine.replace(kind, objects);
      // Synchronously, so a Secret a new peer needs gates `synced` before the source reports it.
      if (kind === "BGPPeer") followSecrets();
    },
  };

  const onSynced = () => {
    if (synced || closing) return;
    // Still before `synced`: the initial evaluation's rejections are reported below, from allRejections().
    engine.release();
    synced = true;
    hub.markReady();
    grpc.health.set("", "SERVING");
    grpc.health.set(INTENT_SERVICE, "SERVING");
    const issues = engine.configIssues();
    const rejections = engine.allRejections();
    logger.info({ nodes: engine.listNodes().length, services: engine.model.services.size, configIssues: issues.length, rejectedServices: rejections.size }, "source synced; serving intents");
    reporter.issues(issues);
    reporter.rejections(rejections);
  };

  const readiness = () => {
    if (closing) return "shutting down";
    if (synced) return undefined;
    if (cluster) {
      const waiting = Object.entries(cluster.status()).filter(([, s]) => !s.synced);
      return `waiting for the source to sync: ${waiting.map(([kind, s]) => (s.lastError ? `${kind} (${s.lastError})` : kind)).join(", ")}`;
    }
    return "waiting for the source to sync";
  };

  const grpc: RunningServer = await serve(
    config.listen,
    [
      registration(
        IntentService,
        intentServiceImpl(hub, engine, {
          onWatch: (nodeName, peer, watching) => logger.info({ node: nodeName, peer }, watching ? "speaker following intent" : "speaker stopped following intent"),
        }),
      ),
    ],
    { tls: config.tls },
  );
  grpc.health.set("", "NOT_SERVING");
  grpc.health.set(INTENT_SERVICE, "NOT_SERVING");

  let ops: OpsServer | undefined;
  const stop = async () => {
    closing = true;
    unsubscribe();
    grpc.health.set("", "NOT_SERVING");
    grpc.health.set(INTENT_SERVICE, "NOT_SERVING");
    // Ending the streams lets speakers move to another replica at once, keeping their routes meanwhile.
    hub.close();
    await grpc.close(2000);
    await source.stop();
    await reporter.flush();
    await ops?.close();
  };

  let syncedPromise: Promise<void>;
  try {
    const { host, port } = parseHostPort(config.httpListen);
    ops = await startOpsServer({ host, port, registry, readiness: [{ name: "source", check: readiness }] });
    await source.start(sink);
    syncedPromise = waitForSync(source, () => closing).then(onSynced);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  logger.info({ listen: config.listen.replace(/:\d+$/, `:${grpc.port}`), http: `${config.httpListen.replace(/:\d+$/, "")}:${ops.port}`, source: config.source.kind, tls: Boolean(config.tls?.cert), mtls: Boolean(config.tls?.ca) }, "watcher started");

  let closed: Promise<void> | undefined;
  return {
    address: grpc.address,
    httpPort: ops.port,
    engine,
    hub,
    source,
    registry,
    reporter,
    synced: syncedPromise,
    close: () => (closed ??= stop()),
  };
}

/** A source that talks to an API server (it can post Events and follow Secrets), told apart without loading its module. */
function isKubernetesSource(source: WatcherSource): source is KubernetesSource {
  const s = source as Partial<KubernetesSource>;
  return typeof s.postEvent === "function" && typeof s.watchSecrets === "function" && typeof s.status === "function";
}

async function buildKubernetesSource(config: WatcherConfig, deps: WatcherDeps, logger: Logger): Promise<KubernetesSource> {
  const [{ KubeConfig }, { KubernetesSource }] = await Promise.all([import("@kubernetes/client-node"), import("./sources/kubernetes.js")]);
  let kubeConfig = deps.kubeConfig;
  if (!kubeConfig) {
    kubeConfig = new KubeConfig();
    const file = config.source.kind === "kubernetes" ? config.source.kubeconfig : undefined;
    if (file) kubeConfig.loadFromFile(file);
    else kubeConfig.loadFromCluster();
  }
  return new KubernetesSource({
    kubeConfig,
    secretNamespace: config.namespace,
    logger: logger.child({ component: "kubernetes" }),
    staleAfterMs: config.staleAfterMs ?? DEFAULT_STALE_AFTER_MS,
    ...deps.kubernetes,
  });
}

/** Resolves when `source` has synced (or `stopped()` turns true). */
async function waitForSync(source: WatcherSource, stopped: () => boolean): Promise<void> {
  if (source.synced) return;
  if (source.whenSynced) {
    await source.whenSynced();
    return;
  }
  while (!source.synced && !stopped()) await new Promise((resolve) => setTimeout(resolve, 50));
}
