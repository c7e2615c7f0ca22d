/**
 * Per-Service endpoint counts, by address family and node, maintained
 * incrementally from EndpointSlices: a slice change subtracts the slice's old
 * counts and adds its new ones, so cost is proportional to the slice, not to
 * the Service's total endpoints.
 */
import type { IpFamily } from "@svcbgp/config";
import type { SliceView } from "./kube.js";

export interface EndpointCounts {
  /** Endpoints with ready true or unset. */
  ready: number;
  /** Not-ready endpoints that are serving and terminating. */
  servingTerminating: number;
}

/** Which endpoints make a location usable: ready ones, else serving-terminating ones. */
export type Usability = "ready" | "servingTerminating" | "none";

export function usability(counts: EndpointCounts | undefined): Usability {
  if (!counts) return "none";
  if (counts.ready > 0) return "ready";
  return counts.servingTerminating > 0 ? "servingTerminating" : "none";
}

export class FamilyEndpoints {
  readonly cluster: EndpointCounts = { ready: 0, servingTerminating: 0 };
  readonly byNode = new Map<string, EndpointCounts>();

  get empty(): boolean {
    return this.cluster.ready === 0 && this.cluster.servingTerminating === 0 && this.byNode.size === 0;
  }

  /** Nodes with a usable local endpoint (kube-proxy's per-node fallback included). */
  *usableNodes(): Iterable<string> {
    for (const [node, counts] of this.byNode) if (usability(counts) !== "none") yield node;
  }
}

/** Endpoints of one Service: one FamilyEndpoints per address family. */
export class ServiceEndpoints {
  readonly families: Record<IpFamily, FamilyEndpoints> = { 4: new FamilyEndpoints(), 6: new FamilyEndpoints() };

  family(family: IpFamily): FamilyEndpoints {
    return this.families[family];
  }

  get empty(): boolean {
    return this.families[4].empty && this.families[6].empty;
  }
}

function add(target: EndpointCounts, delta: EndpointCounts, sign: 1 | -1): void {
  target.ready += sign * delta.ready;
  target.servingTerminating += sign * delta.servingTerminating;
}

interface SliceContribution {
  readonly serviceKey: string;
  readonly family: IpFamily;
  readonly cluster: EndpointCounts;
  readonly byNode: Map<string, EndpointCounts>;
}

function contributionOf(slice: SliceView): SliceContribution | undefined {
  if (!slice.serviceKey || !slice.family) return undefined;
  const cluster: EndpointCounts = { ready: 0, servingTerminating: 0 };
  const byNode = new Map<string, EndpointCounts>();
  for (const endpoint of slice.endpoints) {
    const delta = { ready: endpoint.ready ? 1 : 0, servingTerminating: endpoint.servingTerminating ? 1 : 0 };
    add(cluster, delta, 1);
    if (!endpoint.nodeName) continue;
    let counts = byNode.get(endpoint.nodeName);
    if (!counts) byNode.set(endpoint.nodeName, (counts = { ready: 0, servingTerminating: 0 }));
    add(counts, delta, 1);
  }
  return { serviceKey: slice.serviceKey, family: slice.family, cluster, byNode };
}

export class EndpointIndex {
  private readonly services = new Map<string, ServiceEndpoints>();
  private readonly slices = new Map<string, SliceContribution>();

  get(serviceKey: string): ServiceEndpoints | undefined {
    return this.services.get(serviceKey);
  }

  /** Records a slice's new state (undefined: deleted); returns the Services whose endpoints changed. */
  setSlice(sliceKey: string, slice: SliceView | undefined): string[] {
    const previous = this.slices.get(sliceKey);
    const next = slice ? contributionOf(slice) : undefined;
    if (previous) this.apply(previous, -1);
    if (next) {
      this.slices.set(sliceKey, next);
      this.apply(next, 1);
    } else this.slices.delete(sliceKey);
    const affected = new Set<string>();
    if (previous) affected.add(previous.serviceKey);
    if (next) affected.add(next.serviceKey);
    return [...affected];
  }

  private apply(contribution: SliceContribution, sign: 1 | -1): void {
    let service = this.services.get(contribution.serviceKey);
    if (!service) this.services.set(contribution.serviceKey, (service = new ServiceEndpoints()));
    const family = service.family(contribution.family);
    add(family.cluster, contribution.cluster, sign);
    for (const [node, delta] of contribution.byNode) {
      let counts = family.byNode.get(node);
      if (!counts) family.byNode.set(node, (counts = { ready: 0, servingTerminating: 0 }));
      add(counts, delta, sign);
      if (counts.ready === 0 && counts.servingTerminating === 0) family.byNode.delete(node);
    }
    if (service.empty) this.services.delete(contribution.serviceKey);
  }
}
