/**
 * What one update did to the intents. Changes to routes shared by every node
 * are recorded once (a Cluster-policy host route appearing touches 5,000
 * nodes; we do not build 5,000 sets for it) and fanned out per node on
 * demand by forNode().
 */
import type { ConfigIssueRecord } from "@svcbgp/config";
import type { ServiceRejection } from "./service-routes.js";

/** How one node's intent changed. */
export interface NodeChange {
  /**
   * Send a full snapshot: the node appeared or disappeared, or a node-level
   * field (router_id, local_asn, listen_port) may have changed. Other config
   * changes (ranges, aggregates, communities) are deltas.
   */
  readonly snapshot: boolean;
  /** Prefixes whose route was added, changed or withdrawn (may include no-ops). */
  readonly prefixes: ReadonlySet<string>;
  /** Peer keys ("address" or "address:port") added, changed or removed. */
  readonly peers: ReadonlySet<string>;
}

/** How the engine answers questions about nodes, as of now. */
export interface NodeIndex {
  hasNode(name: string): boolean;
  isExcluded(name: string): boolean;
  nodeNames(): Iterable<string>;
}

const EMPTY: ReadonlySet<string> = new Set();
const SNAPSHOT: NodeChange = { snapshot: true, prefixes: EMPTY, peers: EMPTY };

interface MutableNodeChange {
  snapshot: boolean;
  /** Created on first use: most entries are a snapshot, or prefixes only. */
  prefixes: Set<string> | undefined;
  peers: Set<string> | undefined;
}

/** Accumulates changes while the engine processes one update. */
export class ChangeSet {
  snapshotAll = false;
  readonly shared = new Set<string>();
  readonly nodes = new Map<string, MutableNodeChange>();
  readonly rejections = new Map<string, readonly ServiceRejection[]>();
  readonly issues: ConfigIssueRecord[] = [];
  issuesChanged = false;

  private entry(node: string): MutableNodeChange {
    let entry = this.nodes.get(node);
    if (!entry) this.nodes.set(node, (entry = { snapshot: false, prefixes: undefined, peers: undefined }));
    return entry;
  }

  sharedPrefix(prefix: string): void {
    this.shared.add(prefix);
  }

  localPrefix(node: string, prefix: string): void {
    const entry = this.entry(node);
    (entry.prefixes ??= new Set()).add(prefix);
  }

  peer(node: string, key: string): void {
    const entry = this.entry(node);
    (entry.peers ??= new Set()).add(key);
  }

  snapshot(node: string): void {
    this.entry(node).snapshot = true;
  }
}

export class IntentChanges {
  constructor(
    private readonly set: ChangeSet,
    private readonly index: NodeIndex,
  ) {}

  /** Service key → its complete new rejection list, for Services whose rejections changed. */
  get rejections(): ReadonlyMap<string, readonly ServiceRejection[]> {
    return this.set.rejections;
  }

  /** Config issues raised by this update (a resource rejected). */
  get issues(): readonly ConfigIssueRecord[] {
    return this.set.issues;
  }

  /** True when open config issues were raised or cleared (explain output changes). */
  get issuesChanged(): boolean {
    return this.set.issuesChanged;
  }

  /** True when no node's intent changed. */
  get empty(): boolean {
    if (this.set.snapshotAll || this.set.shared.size > 0) {
      for (const name of this.index.nodeNames()) if (this.forNode(name)) return false;
    }
    for (const name of this.set.nodes.keys()) if (this.forNode(name)) return false;
    return true;
  }

  /**
   * How `name`'s intent changed, or undefined when it did not. A node that
   * disappeared reports a snapshot (engine.intent() then returns undefined).
   */
  forNode(name: string): NodeChange | undefined {
    const entry = this.set.nodes.get(name);
    if (!this.index.hasNode(name)) return entry?.snapshot ? SNAPSHOT : undefined;
    if (this.set.snapshotAll || entry?.snapshot) return SNAPSHOT;
    // Excluded nodes advertise nothing, so shared routes do not concern them.
    const shared = this.set.shared.size > 0 && !this.index.isExcluded(name) ? this.set.shared : EMPTY;
    if (!entry) return shared.size > 0 ? { snapshot: false, prefixes: shared, peers: EMPTY } : undefined;
    const own = entry.prefixes ?? EMPTY;
    const peers = entry.peers ?? EMPTY;
    if (own.size === 0 && peers.size === 0 && shared.size === 0) return undefined;
    let prefixes: ReadonlySet<string> = own;
    if (shared.size > 0) prefixes = own.size === 0 ? shared : new Set([...shared, ...own]);
    return { snapshot: false, prefixes, peers };
  }

  /** Names of every node whose intent changed (including removed nodes). */
  nodes(): string[] {
    const names = new Set<string>();
    if (this.set.snapshotAll || this.set.shared.size > 0) {
      for (const name of this.index.nodeNames()) if (this.forNode(name)) names.add(name);
    }
    for (const name of this.set.nodes.keys()) if (this.forNode(name)) names.add(name);
    return [...names].sort();
  }
}

/** Combines two changes to one node (e.g. to coalesce updates for a slow consumer). */
export function mergeNodeChanges(a: NodeChange | undefined, b: NodeChange | undefined): NodeChange | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.snapshot || b.snapshot) return SNAPSHOT;
  return { snapshot: false, prefixes: new Set([...a.prefixes, ...b.prefixes]), peers: new Set([...a.peers, ...b.peers]) };
}
