/**
 * The boundary between where cluster objects come from (Kubernetes informers,
 * a directory of manifests) and the cluster model that consumes them.
 * Objects are plain JSON as the Kubernetes API serves them, always with
 * apiVersion and kind set. Sources may share object instances with their own
 * caches: a sink must not mutate what it is given.
 */

/** The kinds of resources the watcher follows. */
export type ResourceKind = "Service" | "EndpointSlice" | "Node" | "BGPConfiguration" | "BGPPeer" | "Secret";

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export type ResourceEvent =
  | { type: "upsert"; kind: ResourceKind; object: KubeObject }
  | { type: "delete"; kind: ResourceKind; object: KubeObject };

/** Where a source delivers what it sees. */
export interface ResourceSink {
  apply(event: ResourceEvent): void;
  /**
   * The complete current set of one kind, after a (re-)list. Objects absent
   * from `objects` are gone; a sink must only delete what is really absent,
   * so a re-list after 410 Gone or a reconnect causes no spurious deletes.
   */
  replace(kind: ResourceKind, objects: KubeObject[]): void;
}

export interface ResourceSource {
  start(sink: ResourceSink): Promise<void>;
  stop(): Promise<void>;
  /** True once every kind has been listed at least once. */
  readonly synced: boolean;
}

/** Key a namespaced or cluster-scoped object is stored under: "ns/name" or "name". */
export function objectKey(object: KubeObject): string {
  const { namespace, name } = object.metadata;
  return namespace ? `${namespace}/${name}` : name;
}
