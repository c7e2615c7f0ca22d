/**
 * The watcher's route engine: cluster model + config in, one NodeIntent per
 * node out, incrementally. See engine.ts for the entry point.
 */
export { RouteEngine, type ChangeListener, type NodeSummaryInfo, type RouteEngineOptions } from "./engine.js";
export { IntentChanges, mergeNodeChanges, type NodeChange, type NodeIndex } from "./changes.js";
export { ClusterModel, type ModelChange, type ModelUpdate } from "./model.js";
export type { ServiceRejection } from "./service-routes.js";
export { DEFAULT_SECRET_NAMESPACE, peerKey } from "./peers.js";
export { COMMUNITIES_ANNOTATION, EXCLUDE_LABEL, LOCAL_PREF_ANNOTATION, SERVICE_NAME_LABEL } from "./kube.js";
