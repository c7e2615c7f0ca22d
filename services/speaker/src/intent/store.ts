/**
 * The speaker's current intent. Applies snapshots and deltas and says exactly
 * what changed, so that a reconnect with a fresh snapshot only touches what
 * differs (no withdraw-and-re-announce).
 */
import { clone, create, equals } from "@bufbuild/protobuf";
import { NodeIntentSchema, PeerSchema, RouteSchema, type IntentDelta, type NodeIntent, type Peer, type Route } from "@svcbgp/api";
import { comparePrefixText } from "@svcbgp/config";
import { normalizePeerKey, peerKey } from "./keys.js";

/** The minimal change between two intents. */
export interface IntentChange {
  revision: bigint;
  /** Routes added or changed (any field, reasons included), sorted by prefix. */
  upsertedRoutes: Route[];
  withdrawnPrefixes: string[];
  addedPeers: Peer[];
  changedPeers: Peer[];
  /** Keys ("address:port") of peers no longer wanted. */
  removedPeers: string[];
  /** router_id, local_asn, listen_port or node_name changed. */
  nodeChanged: boolean;
}

export function isEmptyChange(change: IntentChange): boolean {
  return (
    !change.nodeChanged &&
    change.upsertedRoutes.length === 0 &&
    change.withdrawnPrefixes.length === 0 &&
    change.addedPeers.length === 0 &&
    change.changedPeers.length === 0 &&
    change.removedPeers.length === 0
  );
}

interface NodeFields {
  nodeName: string;
  routerId: string;
  localAsn: number;
  listenPort: number;
}

export class IntentStore {
  private node: NodeFields = { nodeName: "", routerId: "", localAsn: 0, listenPort: 0 };
  private readonly routeMap = new Map<string, Route>();
  private readonly peerMap = new Map<string, Peer>();
  private revisionValue = 0n;
  private loaded = false;
  private updated: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether any intent has been applied yet. */
  get hasIntent(): boolean {
    return this.loaded;
  }

  get revision(): bigint {
    return this.revisionValue;
  }

  /** ms since epoch of the last applied snapshot or delta. */
  get updatedAt(): number | undefined {
    return this.updated;
  }

  get nodeFields(): Readonly<NodeFields> {
    return this.node;
  }

  routes(): Route[] {
    return [...this.routeMap.values()].sort((a, b) => comparePrefixText(a.prefix, b.prefix));
  }

  route(prefix: string): Route | undefined {
    return this.routeMap.get(prefix);
  }

  peers(): Peer[] {
    return [...this.peerMap.values()];
  }

  /** The whole intent as a message. */
  current(): NodeIntent {
    return create(NodeIntentSchema, { ...this.node, peers: this.peers(), routes: this.routes() });
  }

  /** Replaces the intent, returning only what differs from the previous one. */
  applySnapshot(intent: NodeIntent, revision: bigint): IntentChange {
    const change = this.emptyChange(revision);
    const node: NodeFields = { nodeName: intent.nodeName, routerId: intent.routerId, localAsn: intent.localAsn, listenPort: intent.listenPort };
    change.nodeChanged = this.loaded && (Object.keys(node) as Array<keyof NodeFields>).some((k) => node[k] !== this.node[k]);
    this.node = node;

    const wantedRoutes = new Map(intent.routes.map((r) => [r.prefix, r]));
    for (const prefix of this.routeMap.keys()) {
      if (!wantedRoutes.has(prefix)) change.withdrawnPrefixes.push(prefix);
    }
    for (const prefix of change.withdrawnPrefixes) this.routeMap.delete(prefix);
    for (const route of wantedRoutes.values()) this.upsertRoute(route, change);

    const wantedPeers = new Map(intent.peers.map((p) => [peerKey(p), p]));
    for (const key of this.peerMap.keys()) {
      if (!wantedPeers.has(key)) change.removedPeers.push(key);
    }
    for (const key of change.removedPeers) this.peerMap.delete(key);
    for (const [key, peer] of wantedPeers) this.upsertPeer(key, peer, change);

    return this.finish(change);
  }

  /**
   * Applies a delta on top of the current revision. Returns undefined (and
   * changes nothing) when the delta was computed against another revision.
   */
  applyDelta(delta: IntentDelta, revision: bigint): IntentChange | undefined {
    if (!this.loaded || delta.baseRevision !== this.revisionValue) return undefined;
    const change = this.emptyChange(revision);
    // An item both removed and upserted in one delta ends up upserted.
    const upsertedPrefixes = new Set(delta.upsertedRoutes.map((r) => r.prefix));
    for (const prefix of new Set(delta.withdrawnPrefixes)) {
      if (!upsertedPrefixes.has(prefix) && this.routeMap.delete(prefix)) change.withdrawnPrefixes.push(prefix);
    }
    for (const route of delta.upsertedRoutes) this.upsertRoute(route, change);
    const upsertedPeers = new Map(delta.upsertedPeers.map((p) => [peerKey(p), p]));
    for (const key of new Set(delta.removedPeers.map(normalizePeerKey))) {
      if (!upsertedPeers.has(key) && this.peerMap.delete(key)) change.removedPeers.push(key);
    }
    for (const [key, peer] of upsertedPeers) this.upsertPeer(key, peer, change);
    return this.finish(change);
  }

  private emptyChange(revision: bigint): IntentChange {
    return { revision, upsertedRoutes: [], withdrawnPrefixes: [], addedPeers: [], changedPeers: [], removedPeers: [], nodeChanged: false };
  }

  private upsertRoute(route: Route, change: IntentChange): void {
    const old = this.routeMap.get(route.prefix);
    if (old && equals(RouteSchema, old, route)) return;
    this.routeMap.set(route.prefix, clone(RouteSchema, route));
    change.upsertedRoutes.push(route);
  }

  private upsertPeer(key: string, peer: Peer, change: IntentChange): void {
    const old = this.peerMap.get(key);
    if (old && equals(PeerSchema, old, peer)) return;
    this.peerMap.set(key, clone(PeerSchema, peer));
    (old ? change.changedPeers : change.addedPeers).push(peer);
  }

  private finish(change: IntentChange): IntentChange {
    this.loaded = true;
    this.revisionValue = change.revision;
    this.updated = this.now();
    change.upsertedRoutes.sort((a, b) => comparePrefixText(a.prefix, b.prefix));
    change.withdrawnPrefixes.sort(comparePrefixText);
    return change;
  }
}
