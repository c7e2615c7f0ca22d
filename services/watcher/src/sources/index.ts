export * from "./source.js";
export { noopLogger, type SourceLogger, type LogFn } from "./logger.js";
export { KubeApiError, kubeRequest, type KubeRequest } from "./kube-http.js";
export {
  ALL_KINDS,
  backoffDelay,
  KubernetesSource,
  systemClock,
  type BackoffOptions,
  type Clock,
  type EventType,
  type KindStatus,
  type KubernetesSourceOptions,
} from "./kubernetes.js";
export {
  MANIFEST_KINDS,
  ManifestParseError,
  ManifestsSource,
  parseManifestText,
  resourceKindOf,
  type ManifestFileError,
  type ManifestsSourceOptions,
  type ParsedManifest,
} from "./manifests.js";
