/**
 * Route contributions, reference-counted by contributor. A route exists while
 * any contribution backs it. Contributions that apply to every node
 * (aggregates, Cluster-policy host routes) are held once in the shared layer;
 * node-specific ones (Local-policy host routes, pod CIDRs) in a per-node
 * layer. A node's routes are the union, materialised on demand.
 *
 * Almost every prefix has exactly one contributor (100,000 node-specific
 * routes in the benchmark cluster), so a prefix holds its contribution
 * directly and gets a map of contributors only when a second one arrives:
 * one map per route would be most of the table's memory and allocations.
 */
import type { RouteKind } from "@svcbgp/api";

export interface Contribution {
  readonly prefix: string;
  readonly kind: RouteKind;
  /** "ns/name" of a Service, the BGPConfiguration name, or a Node name. */
  readonly source: string;
  readonly communities: readonly string[];
  readonly largeCommunities: readonly string[];
  readonly localPref: number | undefined;
}

/** Identity of a contribution within its scope: one per (prefix, source, kind). */
export function contributionKey(c: Contribution): string {
  return `${c.prefix}\u0000${c.source}\u0000${c.kind}`;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function sameContribution(a: Contribution | undefined, b: Contribution | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a === b ||
    (a.prefix === b.prefix &&
      a.kind === b.kind &&
      a.source === b.source &&
      a.localPref === b.localPref &&
      sameStrings(a.communities, b.communities) &&
      sameStrings(a.largeCommunities, b.largeCommunities))
  );
}

/** The contributions behind one prefix: the only one, or several by contributionKey. */
type Slot = Contribution | Map<string, Contribution>;
type PrefixMap = Map<string, Slot>;

function set(layer: PrefixMap, key: string, prefix: string, contribution: Contribution | undefined): void {
  const slot = layer.get(prefix);
  if (contribution) {
    if (slot === undefined) layer.set(prefix, contribution);
    else if (slot instanceof Map) slot.set(key, contribution);
    else if (contributionKey(slot) === key) layer.set(prefix, contribution);
    else
      layer.set(
        prefix,
        new Map([
          [contributionKey(slot), slot],
          [key, contribution],
        ]),
      );
  } else if (slot instanceof Map) {
    slot.delete(key);
    if (slot.size === 0) layer.delete(prefix);
  } else if (slot !== undefined && contributionKey(slot) === key) {
    layer.delete(prefix);
  }
}

const NONE: readonly Contribution[] = [];

function contributions(slot: Slot | undefined): Iterable<Contribution> {
  if (slot === undefined) return NONE;
  return slot instanceof Map ? slot.values() : [slot];
}

export class RouteTable {
  private readonly shared: PrefixMap = new Map();
  private readonly perNode = new Map<string, PrefixMap>();

  /** Sets (or, with undefined, removes) a contribution in the shared layer. */
  setShared(key: string, prefix: string, contribution: Contribution | undefined): void {
    set(this.shared, key, prefix, contribution);
  }

  setLocal(node: string, key: string, prefix: string, contribution: Contribution | undefined): void {
    let layer = this.perNode.get(node);
    if (!layer) {
      if (!contribution) return;
      this.perNode.set(node, (layer = new Map()));
    }
    set(layer, key, prefix, contribution);
    if (layer.size === 0) this.perNode.delete(node);
  }

  sharedContributions(prefix: string): Iterable<Contribution> {
    return contributions(this.shared.get(prefix));
  }

  localContributions(node: string, prefix: string): Iterable<Contribution> {
    return contributions(this.perNode.get(node)?.get(prefix));
  }

  /**
   * When `node`'s route for `prefix` rests on exactly one contribution and
   * that one is node-specific (no shared contribution): that contribution.
   * The route then depends on it alone (and the config), so nodes can share it.
   */
  soleLocal(node: string, prefix: string): Contribution | undefined {
    const slot = this.perNode.get(node)?.get(prefix);
    if (slot === undefined || this.shared.has(prefix)) return undefined;
    if (!(slot instanceof Map)) return slot;
    if (slot.size !== 1) return undefined;
    for (const c of slot.values()) return c;
    return undefined;
  }

  hasShared(prefix: string): boolean {
    return this.shared.has(prefix);
  }

  hasLocal(node: string, prefix: string): boolean {
    return this.perNode.get(node)?.has(prefix) ?? false;
  }

  sharedPrefixes(): Iterable<string> {
    return this.shared.keys();
  }

  /** Nodes with at least one node-specific contribution. */
  localNodes(): Iterable<string> {
    return this.perNode.keys();
  }

  localPrefixes(node: string): Iterable<string> {
    return this.perNode.get(node)?.keys() ?? NONE_STRINGS;
  }
}

const NONE_STRINGS: readonly string[] = [];
