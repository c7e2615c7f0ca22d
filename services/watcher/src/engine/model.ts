/**
 * The cluster model: the current objects of every kind the watcher follows,
 * as a ResourceSink. It filters out no-op updates (a re-list, a Node
 * heartbeat is still reported; derived-view comparison downstream drops it)
 * and validates config kinds: an invalid BGPConfiguration / BGPPeer is
 * recorded as an issue and the last valid version stays in force; one that
 * was never valid is ignored.
 */
import { validateResource, type BGPConfigurationValue, type BGPPeerValue, type ConfigIssueRecord } from "@svcbgp/config";
import { objectKey, type KubeObject, type ResourceEvent, type ResourceKind, type ResourceSink } from "../sources/source.js";

export type ObjectKind = "Service" | "EndpointSlice" | "Node" | "Secret";

/** One real change to the model. For config kinds, previous/current are the values in force. */
export type ModelChange =
  | { readonly kind: ObjectKind; readonly key: string; readonly previous: KubeObject | undefined; readonly current: KubeObject | undefined }
  | { readonly kind: "BGPConfiguration"; readonly key: string; readonly previous: BGPConfigurationValue | undefined; readonly current: BGPConfigurationValue | undefined }
  | { readonly kind: "BGPPeer"; readonly key: string; readonly previous: BGPPeerValue | undefined; readonly current: BGPPeerValue | undefined };

export interface ModelUpdate {
  readonly changes: ModelChange[];
  /** Issues raised by this update (a config resource rejected), for logs and Events. */
  readonly rejected: ConfigIssueRecord[];
  /** True when the set of open config issues changed (raised or cleared). */
  issuesChanged: boolean;
}

interface ConfigEntry<V> {
  /** The object as last received, valid or not. */
  latest: KubeObject;
  /** The last valid object and its parsed value: what is in force. */
  valid: { object: KubeObject; value: V } | undefined;
  issues: ConfigIssueRecord[];
}

const IGNORED_METADATA = new Set(["resourceVersion", "managedFields", "generation"]);

/** Deep equality of JSON values, ignoring metadata that changes without meaning. */
function jsonEqual(a: unknown, b: unknown, inMetadata = false): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const key of keys) {
    if (inMetadata && IGNORED_METADATA.has(key)) continue;
    if (ao[key] === undefined && bo[key] === undefined) continue;
    if (!jsonEqual(ao[key], bo[key], key === "metadata" && !inMetadata)) return false;
  }
  return true;
}

export function sameObject(a: KubeObject, b: KubeObject): boolean {
  const av = a.metadata.resourceVersion;
  const bv = b.metadata.resourceVersion;
  if (av !== undefined && av === bv) return true;
  return jsonEqual(a, b);
}

function specOf(object: KubeObject): unknown {
  return { apiVersion: object.apiVersion, spec: object.spec };
}

export class ClusterModel implements ResourceSink {
  readonly services = new Map<string, KubeObject>();
  readonly endpointSlices = new Map<string, KubeObject>();
  readonly nodes = new Map<string, KubeObject>();
  readonly secrets = new Map<string, KubeObject>();
  private readonly configurations = new Map<string, ConfigEntry<BGPConfigurationValue>>();
  private readonly peers = new Map<string, ConfigEntry<BGPPeerValue>>();

  apply(event: ResourceEvent): ModelUpdate {
    const update: ModelUpdate = { changes: [], rejected: [], issuesChanged: false };
    if (event.type === "upsert") this.upsert(event.kind, event.object, update);
    else this.remove(event.kind, objectKey(event.object), update);
    return update;
  }

  replace(kind: ResourceKind, objects: KubeObject[]): ModelUpdate {
    const update: ModelUpdate = { changes: [], rejected: [], issuesChanged: false };
    const present = new Set<string>();
    for (const object of objects) {
      const key = objectKey(object);
      present.add(key);
      this.upsert(kind, object, update, key);
    }
    for (const key of [...this.keys(kind)]) if (!present.has(key)) this.remove(kind, key, update);
    return update;
  }

  /** The BGPConfiguration in force under `name` (normally "default"). */
  configuration(name: string): BGPConfigurationValue | undefined {
    return this.configurations.get(name)?.valid?.value;
  }

  /** Every BGPPeer in force, sorted by name. */
  bgpPeers(): BGPPeerValue[] {
    return [...this.peers.values()]
      .flatMap((entry) => (entry.valid ? [entry.valid.value] : []))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  bgpPeer(name: string): BGPPeerValue | undefined {
    return this.peers.get(name)?.valid?.value;
  }

  /** Open config issues, BGPConfigurations first, then BGPPeers, by name. */
  configIssues(kind?: "BGPConfiguration" | "BGPPeer"): ConfigIssueRecord[] {
    const out: ConfigIssueRecord[] = [];
    const collect = (entries: Map<string, ConfigEntry<unknown>>) => {
      for (const name of [...entries.keys()].sort()) out.push(...(entries.get(name)?.issues ?? []));
    };
    if (kind !== "BGPPeer") collect(this.configurations);
    if (kind !== "BGPConfiguration") collect(this.peers);
    return out;
  }

  private keys(kind: ResourceKind): Iterable<string> {
    switch (kind) {
      case "Service":
        return this.services.keys();
      case "EndpointSlice":
        return this.endpointSlices.keys();
      case "Node":
        return this.nodes.keys();
      case "Secret":
        return this.secrets.keys();
      case "BGPConfiguration":
        return this.configurations.keys();
      case "BGPPeer":
        return this.peers.keys();
    }
  }

  private objects(kind: ObjectKind): Map<string, KubeObject> {
    switch (kind) {
      case "Service":
        return this.services;
      case "EndpointSlice":
        return this.endpointSlices;
      case "Node":
        return this.nodes;
      case "Secret":
        return this.secrets;
    }
  }

  private upsert(kind: ResourceKind, object: KubeObject, update: ModelUpdate, key: string = objectKey(object)): void {
    if (kind === "BGPConfiguration") return this.upsertConfig(kind, this.configurations, key, object, update);
    if (kind === "BGPPeer") return this.upsertConfig(kind, this.peers, key, object, update);
    const store = this.objects(kind);
    const previous = store.get(key);
    if (previous && sameObject(previous, object)) return;
    store.set(key, object);
    update.changes.push({ kind, key, previous, current: object });
  }

  private upsertConfig<V extends BGPConfigurationValue | BGPPeerValue>(
    kind: V["kind"],
    store: Map<string, ConfigEntry<V>>,
    key: string,
    object: KubeObject,
    update: ModelUpdate,
  ): void {
    const entry = store.get(key);
    if (entry && sameObject(entry.latest, object)) return;
    // The event kind is authoritative: a source filing an object under the
    // wrong kind is a bug we want reported, not silently re-routed.
    const result = validateResource({ ...object, kind: object.kind ?? kind });
    const value = result.ok && result.value.kind === kind ? (result.value as V) : undefined;
    const issues = result.ok
      ? value
        ? []
        : [{ resource: `${kind}/${key}`, field: "kind", reason: `expected ${kind}, got ${object.kind}` }]
      : result.issues;
    const previousIssues = entry?.issues ?? [];
    const next: ConfigEntry<V> = { latest: object, valid: entry?.valid, issues };
    if (value) {
      const changed = !entry?.valid || !jsonEqual(specOf(entry.valid.object), specOf(object));
      next.valid = { object, value };
      if (changed) update.changes.push({ kind, key, previous: entry?.valid?.value, current: value } as ModelChange);
    } else {
      update.rejected.push(...issues);
    }
    store.set(key, next);
    if (JSON.stringify(previousIssues) !== JSON.stringify(issues)) update.issuesChanged = true;
  }

  private remove(kind: ResourceKind, key: string, update: ModelUpdate): void {
    if (kind === "BGPConfiguration" || kind === "BGPPeer") {
      const store: Map<string, ConfigEntry<BGPConfigurationValue | BGPPeerValue>> = kind === "BGPConfiguration" ? this.configurations : this.peers;
      const entry = store.get(key);
      if (!entry) return;
      store.delete(key);
      if (entry.issues.length > 0) update.issuesChanged = true;
      if (entry.valid) update.changes.push({ kind, key, previous: entry.valid.value, current: undefined } as ModelChange);
      return;
    }
    const store = this.objects(kind);
    const previous = store.get(key);
    if (!previous) return;
    store.delete(key);
    update.changes.push({ kind, key, previous, current: undefined });
  }
}
