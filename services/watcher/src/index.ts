/** @svcbgp/watcher: the watcher service, for embedding and tests. */
export { startWatcher, DEFAULT_HTTP_LISTEN, DEFAULT_LISTEN, DEFAULT_NAMESPACE, type SourceConfig, type Watcher, type WatcherConfig, type WatcherDeps } from "./watcher.js";
export { IntentHub, MAX_PENDING_CHANGES, type IntentProvider } from "./intents/intent-hub.js";
export { RouteEngine } from "./engine/index.js";
