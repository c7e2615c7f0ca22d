/**
 * Route contributions, reference-counted by contributor. A route exists while
 * any contribution backs it. Contributions that apply to every node
 * (aggregates, Cluster-policy host routes) are held once in the shared layer;
 * node-specific ones (Local-policy host routes, pod CIDRs) in a per-node
 * layer. A node's routes are the union, materialised on demand.
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

export function sameContribution(a: Contribution | undefined, b: Contribution | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.prefix === b.prefix &&
    a.kind === b.kind &&
    a.source === b.source &&
    a.localPref === b.localPref &&
    a.communities.join() === b.communities.join() &&
    a.largeCommunities.join() === b.largeCommunities.join()
  );
}

type PrefixMap = Map<string, Map<string, Contribution>>;

function set(layer: PrefixMap, key: string, prefix: string, contribution: Contribution | undefined): void {
  let byContributor = layer.get(prefix);
  if (contribution) {
    if (!byContributor) layer.set(prefix, (byContributor = new Map()));
    byContributor.set(key, contribution);
  } else if (byContributor) {
    byContributor.delete(key);
    if (byContributor.size === 0) layer.delete(prefix);
  }
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
    return this.shared.get(prefix)?.values() ?? [];
  }

  localContributions(node: string, prefix: string): Iterable<Contribution> {
    return this.perNode.get(node)?.get(prefix)?.values() ?? [];
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
    return this.perNode.get(node)?.keys() ?? [];
  }
}
