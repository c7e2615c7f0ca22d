/**
 * The route engine: a ResourceSink that keeps the cluster model and, on every
 * update, recomputes only what the update touches — one Service's
 * contributions for a Service or EndpointSlice event, one node for a Node
 * event, peers for BGPPeer/Secret events, and for a BGPConfiguration change
 * the aggregates and the Services whose addresses fall in a changed range —
 * and reports which nodes' intents changed. Intents are
 * materialised lazily per node; routes shared by all nodes are built once,
 * and so is a node-specific route backed by one contribution (a Local-policy
 * host route), for all the nodes it comes from. While held (hold … release,
 * for the initial lists), Service evaluation is deferred and done once.
 */
import { create, equals } from "@bufbuild/protobuf";
import {
  IntentDeltaSchema,
  NodeIntentSchema,
  PeerSchema,
  RouteKind,
  RouteReasonSchema,
  RouteSchema,
  type ExplainServiceResponse,
  type IntentDelta,
  type NodeIntent,
  type Peer,
  type Route,
  type RouteReason,
} from "@svcbgp/api";
import { DEFAULT_BGP_CONFIGURATION, type BGPPeerValue, type ConfigIssueRecord } from "@svcbgp/config";
import type { KubeObject, ResourceEvent, ResourceKind, ResourceSink } from "../sources/source.js";
import { ChangeSet, IntentChanges, type NodeChange, type NodeIndex } from "./changes.js";
import { ConfigView, inAny, type CommunitySet, type ConfigDiff } from "./config-view.js";
import { EndpointIndex } from "./endpoints.js";
import { explainService } from "./explain.js";
import { COMMUNITIES_ANNOTATION, readNode, readService, readSlice, sameNodeView, type NodeView } from "./kube.js";
import { ClusterModel, type ModelUpdate } from "./model.js";
import { DEFAULT_SECRET_NAMESPACE, nodePeers, resolvePassword, type PasswordState } from "./peers.js";
import { contributionKey, RouteTable, sameContribution, type Contribution } from "./route-table.js";
import { EMPTY_EVALUATION, evaluateService, findKeyed, sameRejections, type ServiceEvaluation, type ServiceRejection } from "./service-routes.js";

export interface RouteEngineOptions {
  /**
   * Namespace holding BGPPeer password Secrets: the watcher's own namespace
   * (Calico likewise reads them from the namespace calico-node runs in).
   */
  secretNamespace?: string;
  /**
   * Keep a peer's last password while its Secret cannot be read (default
   * true), so a rotation done out of order does not drop the sessions. False
   * makes the engine a function of the current objects alone, which the
   * property tests compare with an engine built from scratch.
   */
  keepLastPasswords?: boolean;
}

export interface NodeSummaryInfo {
  readonly nodeName: string;
  readonly routeCount: number;
  readonly peerCount: number;
  readonly excluded: boolean;
}

export type ChangeListener = (changes: IntentChanges) => void;

const NODE_INTENT = NodeIntentSchema.typeName as NodeIntent["$typeName"];
const ROUTE = RouteSchema.typeName as Route["$typeName"];
const ROUTE_REASON = RouteReasonSchema.typeName as RouteReason["$typeName"];

/** Natural order for community strings: numeric parts compared as numbers. */
function compareCommunity(a: string, b: string): number {
  const pa = a.split(":");
  const pb = b.split(":");
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const na = Number(pa[i]);
    const nb = Number(pb[i]);
    if (Number.isNaN(na) || Number.isNaN(nb)) {
      if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
    } else if (na !== nb) return na - nb;
  }
  return pa.length - pb.length;
}

function sameCommunitySet(a: CommunitySet, b: CommunitySet): boolean {
  return a === b || (a.standard.join() === b.standard.join() && a.large.join() === b.large.join());
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class RouteEngine implements ResourceSink, NodeIndex {
  readonly model = new ClusterModel();
  readonly secretNamespace: string;
  private readonly keepLastPasswords: boolean;

  private config = new ConfigView(undefined);
  private readonly endpoints = new EndpointIndex();
  private readonly evaluations = new Map<string, ServiceEvaluation>();
  private readonly table = new RouteTable();
  private readonly nodeViews = new Map<string, NodeView>();
  private aggregateContributions = new Map<string, Contribution>();
  private readonly podContributions = new Map<string, Map<string, Contribution>>();
  private peerValues: BGPPeerValue[] = [];
  private passwords = new Map<string, PasswordState>();
  private readonly peersByNode = new Map<string, Map<string, Peer>>();
  private readonly sharedRouteCache = new Map<string, Route>();
  private sharedSorted: string[] | undefined;
  private readonly intentCache = new Map<string, NodeIntent>();
  /** Routes that rest on one node-specific contribution, shared by every node it comes from; valid for `this.config`. */
  private soleRoutes = new WeakMap<Contribution, Route>();
  private readonly listeners = new Set<ChangeListener>();
  /** While held (see hold()): Services whose evaluation waits for release(). */
  private deferred: Set<string> | undefined;

  constructor(options: RouteEngineOptions = {}) {
    this.secretNamespace = options.secretNamespace ?? DEFAULT_SECRET_NAMESPACE;
    this.keepLastPasswords = options.keepLastPasswords ?? true;
  }

  // ---- input ----

  apply(event: ResourceEvent): IntentChanges {
    return this.process(this.model.apply(event));
  }

  replace(kind: ResourceKind, objects: KubeObject[]): IntentChanges {
    return this.process(this.model.replace(kind, objects));
  }

  /** Calls `listener` after every update that changed an intent, a rejection or a config issue. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Defers Service evaluation until release(): updates are taken into the
   * model (and nodes, peers and config are processed), but the Services they
   * touch are only remembered. For the initial lists: a Service would
   * otherwise be evaluated when it is listed, again when its EndpointSlice
   * is, and again when the BGPConfiguration is; held, it is evaluated once.
   * Until release(), intents, rejections and explanations leave the
   * deferred Services out: nothing may be served from a held engine.
   */
  hold(): void {
    this.deferred ??= new Set();
  }

  get held(): boolean {
    return this.deferred !== undefined;
  }

  /** Evaluates every Service deferred since hold() and resumes incremental updates; reports what changed. */
  release(): IntentChanges {
    const deferred = this.deferred;
    this.deferred = undefined;
    const set = new ChangeSet();
    if (deferred) {
      // In model order (the order incremental updates would have evaluated them in), then the deleted ones.
      for (const key of this.model.services.keys()) {
        if (deferred.delete(key)) this.updateService(key, set);
      }
      for (const key of deferred) this.updateService(key, set);
    }
    return this.publish(set);
  }

  // ---- nodes ----

  hasNode(name: string): boolean {
    return this.nodeViews.has(name);
  }

  isExcluded(name: string): boolean {
    return this.nodeViews.get(name)?.excluded ?? false;
  }

  nodeNames(): Iterable<string> {
    return this.nodeViews.keys();
  }

  /** Every known node, sorted by name. */
  listNodes(): string[] {
    return [...this.nodeViews.keys()].sort(byString);
  }

  nodeSummary(name: string): NodeSummaryInfo | undefined {
    const view = this.nodeViews.get(name);
    if (!view) return undefined;
    let routeCount = 0;
    if (!view.excluded) {
      routeCount = this.sortedShared().length;
      for (const prefix of this.table.localPrefixes(name)) if (!this.table.hasShared(prefix)) routeCount++;
    }
    return { nodeName: name, routeCount, peerCount: this.peersByNode.get(name)?.size ?? 0, excluded: view.excluded };
  }

  // ---- output ----

  /** The node's complete intent, or undefined for an unknown node. Treat it as immutable. */
  intent(name: string): NodeIntent | undefined {
    const cached = this.intentCache.get(name);
    if (cached) return cached;
    const view = this.nodeViews.get(name);
    if (!view) return undefined;
    const routes: Route[] = [];
    if (!view.excluded) {
      const shared = this.sortedShared();
      const local: string[] = [];
      for (const prefix of this.table.localPrefixes(name)) local.push(prefix);
      // Default sort: UTF-16 code unit order, as byString, without a comparator call per comparison.
      local.sort();
      // Merge the two sorted lists (a prefix can be in both).
      let i = 0;
      let j = 0;
      while (i < shared.length || j < local.length) {
        if (j >= local.length || (i < shared.length && shared[i] < local[j])) routes.push(this.route(name, shared[i++]) as Route);
        else {
          if (i < shared.length && shared[i] === local[j]) i++;
          routes.push(this.route(name, local[j++]) as Route);
        }
      }
    }
    const peers = this.peersByNode.get(name);
    let sortedPeers: Peer[] = [];
    if (peers && peers.size > 0) sortedPeers = [...peers.entries()].sort(([a], [b]) => byString(a, b)).map(([, peer]) => peer);
    // A plain message (what create(NodeIntentSchema, …) builds, without its generic initialiser).
    const intent: NodeIntent = {
      $typeName: NODE_INTENT,
      nodeName: name,
      routerId: view.routerId,
      localAsn: this.config.asNumber,
      peers: sortedPeers,
      routes,
      listenPort: this.config.listenPort,
    };
    this.intentCache.set(name, intent);
    return intent;
  }

  /** The route `node` advertises for `prefix`, or undefined. */
  route(node: string, prefix: string): Route | undefined {
    const view = this.nodeViews.get(node);
    if (!view || view.excluded) return undefined;
    if (!this.table.hasLocal(node, prefix)) return this.table.hasShared(prefix) ? this.sharedRoute(prefix) : undefined;
    const sole = this.table.soleLocal(node, prefix);
    if (sole) {
      // The same route on every node the contribution comes from: built once.
      let route = this.soleRoutes.get(sole);
      if (!route) this.soleRoutes.set(sole, (route = this.buildRoute(prefix, [sole])));
      return route;
    }
    return this.buildRoute(prefix, [...this.table.sharedContributions(prefix), ...this.table.localContributions(node, prefix)]);
  }

  /** The node's peer under `key` ("address" or "address:port"), or undefined. */
  peer(node: string, key: string): Peer | undefined {
    return this.peersByNode.get(node)?.get(key);
  }

  /**
   * The delta that takes a consumer from the node's previous intent to the
   * current one, for a non-snapshot change (base_revision is left 0 for the
   * caller). Changes merged with mergeNodeChanges work too: the delta is
   * computed against current state.
   */
  delta(node: string, change: NodeChange): IntentDelta {
    const upsertedRoutes: Route[] = [];
    const withdrawnPrefixes: string[] = [];
    for (const prefix of [...change.prefixes].sort(byString)) {
      const route = this.route(node, prefix);
      if (route) upsertedRoutes.push(route);
      else withdrawnPrefixes.push(prefix);
    }
    const upsertedPeers: Peer[] = [];
    const removedPeers: string[] = [];
    for (const key of [...change.peers].sort(byString)) {
      const peer = this.peer(node, key);
      if (peer) upsertedPeers.push(peer);
      else removedPeers.push(key);
    }
    return create(IntentDeltaSchema, { baseRevision: 0n, upsertedRoutes, withdrawnPrefixes, upsertedPeers, removedPeers });
  }

  /** For each IP of the Service and each node: advertised or not, and why. */
  explain(namespace: string, name: string): ExplainServiceResponse {
    return explainService(
      {
        model: this.model,
        config: this.config,
        endpoints: this.endpoints,
        nodes: this.nodeViews,
        route: (node, prefix) => this.route(node, prefix),
        configIssues: () => this.model.configIssues("BGPConfiguration"),
      },
      namespace,
      name,
    );
  }

  /** Current rejections of one Service ("ns/name"): IPs refused and bad annotations. */
  serviceRejections(serviceKey: string): readonly ServiceRejection[] {
    return this.evaluations.get(serviceKey)?.rejections ?? [];
  }

  /** Every Service with at least one rejection. */
  allRejections(): Map<string, readonly ServiceRejection[]> {
    const out = new Map<string, readonly ServiceRejection[]>();
    for (const [key, evaluation] of this.evaluations) if (evaluation.rejections.length > 0) out.set(key, evaluation.rejections);
    return out;
  }

  /** Open config issues: rejected BGPConfigurations and BGPPeers, then unresolvable peer passwords. */
  configIssues(): ConfigIssueRecord[] {
    return [...this.model.configIssues(), ...this.passwordIssues()];
  }

  // ---- incremental update ----

  private process(update: ModelUpdate): IntentChanges {
    const set = new ChangeSet();
    set.issues.push(...update.rejected);
    set.issuesChanged = update.issuesChanged;
    let configChanged = false;
    let peersChanged = false;
    const services = new Set<string>();
    const nodes = new Set<string>();
    for (const change of update.changes) {
      switch (change.kind) {
        case "Service":
          services.add(change.key);
          break;
        case "EndpointSlice":
          for (const key of this.endpoints.setSlice(change.key, change.current ? readSlice(change.current) : undefined)) services.add(key);
          break;
        case "Node":
          nodes.add(change.key);
          break;
        case "BGPConfiguration":
          if (change.key === DEFAULT_BGP_CONFIGURATION) configChanged = true;
          break;
        case "BGPPeer":
          peersChanged = true;
          break;
        case "Secret":
          if (this.secretReferenced(change.key)) peersChanged = true;
          break;
      }
    }
    if (peersChanged) this.refreshPasswords(set);
    for (const node of nodes) this.updateNode(node, set);
    if (configChanged) this.reconfigure(set, services);
    else this.updateServices(services, set);
    if (peersChanged) this.refreshPeers(set);
    return this.publish(set);
  }

  private updateServices(keys: Iterable<string>, set: ChangeSet): void {
    if (this.deferred) for (const key of keys) this.deferred.add(key);
    else for (const key of keys) this.updateService(key, set);
  }

  /** Invalidates cached intents for what `set` changed and tells the listeners. */
  private publish(set: ChangeSet): IntentChanges {
    if (set.snapshotAll || set.shared.size > 0) this.intentCache.clear();
    else for (const node of set.nodes.keys()) this.intentCache.delete(node);

    const changes = new IntentChanges(set, this);
    if (this.listeners.size > 0 && (set.rejections.size > 0 || set.issuesChanged || !changes.empty)) {
      for (const listener of this.listeners) listener(changes);
    }
    return changes;
  }

  private updateService(key: string, set: ChangeSet): void {
    const object = this.model.services.get(key);
    const next = object ? evaluateService(readService(object), this.endpoints.get(key), this.config) : EMPTY_EVALUATION;
    const previous = this.evaluations.get(key) ?? EMPTY_EVALUATION;

    for (const { key: k, contribution: c } of previous.shared) {
      if (!findKeyed(next.shared, k)) this.setShared(k, c.prefix, undefined, set);
    }
    for (const { key: k, contribution: c } of next.shared) {
      if (!sameContribution(findKeyed(previous.shared, k)?.contribution, c)) this.setShared(k, c.prefix, c, set);
    }

    for (const before of previous.local) {
      const after = findKeyed(next.local, before.key);
      const stays = after ? new Set(after.nodes) : undefined;
      const prefix = before.contribution.prefix;
      for (const node of before.nodes) {
        if (stays?.has(node)) continue;
        this.table.setLocal(node, before.key, prefix, undefined);
        set.localPrefix(node, prefix);
      }
    }
    for (const after of next.local) {
      const before = findKeyed(previous.local, after.key);
      const c = after.contribution;
      // Unchanged contribution: only nodes that did not have it before need it.
      const had = before && sameContribution(before.contribution, c) ? new Set(before.nodes) : undefined;
      for (const node of after.nodes) {
        if (had?.has(node)) continue;
        this.table.setLocal(node, after.key, c.prefix, c);
        set.localPrefix(node, c.prefix);
      }
    }

    if (!sameRejections(previous.rejections, next.rejections)) set.rejections.set(key, next.rejections);
    if (object) this.evaluations.set(key, next);
    else this.evaluations.delete(key);
  }

  private setShared(key: string, prefix: string, contribution: Contribution | undefined, set: ChangeSet): void {
    const had = this.table.hasShared(prefix);
    this.table.setShared(key, prefix, contribution);
    if (had !== this.table.hasShared(prefix)) this.sharedSorted = undefined;
    this.sharedRouteCache.delete(prefix);
    set.sharedPrefix(prefix);
  }

  private updateNode(name: string, set: ChangeSet): void {
    const object = this.model.nodes.get(name);
    const next = object ? readNode(object) : undefined;
    const previous = this.nodeViews.get(name);
    // Heartbeats and condition updates change the object, not what we derive from it.
    if (sameNodeView(previous, next)) return;
    if (next) this.nodeViews.set(name, next);
    else this.nodeViews.delete(name);
    this.updatePodCIDRs(name, set);
    if (next) this.peersByNode.set(name, nodePeers(next, this.peerValues, this.passwords));
    else this.peersByNode.delete(name);
    set.snapshot(name);
  }

  private updatePodCIDRs(name: string, set: ChangeSet): void {
    const view = this.nodeViews.get(name);
    // Nothing advertised before or now (pod CIDRs off): nothing to compare.
    if (!this.podContributions.has(name) && !(view && this.config.advertisePodCIDRs && view.podCIDRs.length > 0)) return;
    const next = new Map<string, Contribution>();
    if (view && this.config.advertisePodCIDRs) {
      for (const cidr of view.podCIDRs) {
        const c: Contribution = { prefix: cidr.text, kind: RouteKind.POD_CIDR, source: name, communities: [], largeCommunities: [], localPref: undefined };
        next.set(contributionKey(c), c);
      }
    }
    const previous = this.podContributions.get(name) ?? new Map<string, Contribution>();
    for (const [k, c] of previous) {
      if (next.has(k)) continue;
      this.table.setLocal(name, k, c.prefix, undefined);
      set.localPrefix(name, c.prefix);
    }
    for (const [k, c] of next) {
      if (previous.has(k)) continue;
      this.table.setLocal(name, k, c.prefix, c);
      set.localPrefix(name, c.prefix);
    }
    if (next.size > 0) this.podContributions.set(name, next);
    else this.podContributions.delete(name);
  }

  /**
   * A BGPConfiguration change. Only what the change can affect is
   * recomputed: the aggregates added or removed (shared routes: a delta for
   * every node), the Services with an address inside a range or aggregate
   * that was added or removed (or a refused address whose rejection reason
   * lists a changed range list, or a community annotation when the named
   * communities changed), pod CIDRs when advertisePodCIDRs flipped, and the
   * routes whose prefixAdvertisements communities changed. Only a node-level
   * field (local_asn, listen_port) makes it a snapshot for every node.
   */
  private reconfigure(set: ChangeSet, services: Set<string>): void {
    const previous = this.config;
    this.config = new ConfigView(this.model.configuration(DEFAULT_BGP_CONFIGURATION));
    this.soleRoutes = new WeakMap();
    const diff = this.config.diff(previous);
    if (diff.nodeFields) set.snapshotAll = true;
    const aggregates = new Map<string, Contribution>();
    for (const aggregate of this.config.aggregates) {
      // Ranges are named by the BGPConfiguration they come from.
      const c: Contribution = { prefix: aggregate.cidr.text, kind: aggregate.kind, source: DEFAULT_BGP_CONFIGURATION, communities: [], largeCommunities: [], localPref: undefined };
      aggregates.set(contributionKey(c), c);
    }
    for (const [k, c] of this.aggregateContributions) if (!aggregates.has(k)) this.setShared(k, c.prefix, undefined, set);
    for (const [k, c] of aggregates) if (!this.aggregateContributions.has(k)) this.setShared(k, c.prefix, c, set);
    this.aggregateContributions = aggregates;
    for (const key of this.servicesAffectedBy(diff)) services.add(key);
    this.updateServices(services, set);
    if (diff.advertisePodCIDRs) for (const name of this.nodeViews.keys()) this.updatePodCIDRs(name, set);
    if (diff.prefixAdvertisements) this.recommunity(previous, set);
  }

  /** Services whose evaluation may differ under the new config (see reconfigure); a superset is fine. */
  private servicesAffectedBy(diff: ConfigDiff): string[] {
    const out: string[] = [];
    const anyRanges = diff.aggregates.length > 0 || Object.values(diff.ranges).some((r) => r.length > 0) || Object.values(diff.rangeLists).some(Boolean);
    if (!anyRanges && !diff.namedCommunities) return out;
    for (const [key, evaluation] of this.evaluations) {
      if (diff.namedCommunities && this.model.services.get(key)?.metadata?.annotations?.[COMMUNITIES_ANNOTATION] !== undefined) {
        out.push(key);
        continue;
      }
      if (!anyRanges) continue;
      for (const decision of evaluation.decisions) {
        // Ineligible and invalid addresses do not depend on the config.
        if (decision.mode === "ineligible" || decision.mode === "invalid" || !decision.parsed) continue;
        if (
          (decision.mode === "rejected" && diff.rangeLists[decision.kind]) ||
          inAny(diff.ranges[decision.kind], decision.parsed) ||
          inAny(diff.aggregates, decision.parsed)
        ) {
          out.push(key);
          break;
        }
      }
    }
    return out;
  }

  /** prefixAdvertisements changed: report every advertised prefix whose communities differ. */
  private recommunity(previous: ConfigView, set: ChangeSet): void {
    const differs = (prefix: string) => !sameCommunitySet(previous.communitiesFor(prefix), this.config.communitiesFor(prefix));
    for (const prefix of this.table.sharedPrefixes()) {
      if (!differs(prefix)) continue;
      this.sharedRouteCache.delete(prefix);
      set.sharedPrefix(prefix);
    }
    for (const node of this.table.localNodes()) for (const prefix of this.table.localPrefixes(node)) if (differs(prefix)) set.localPrefix(node, prefix);
  }

  private secretReferenced(secretKey: string): boolean {
    return this.peerValues.some((peer) => peer.password && `${this.secretNamespace}/${peer.password.secretName}` === secretKey);
  }

  private passwordIssues(): ConfigIssueRecord[] {
    const out: ConfigIssueRecord[] = [];
    for (const state of this.passwords.values()) if (state.issue) out.push(state.issue);
    return out;
  }

  private refreshPasswords(set: ChangeSet): void {
    const before = this.passwordIssues();
    this.peerValues = this.model.bgpPeers();
    const passwords = new Map<string, PasswordState>();
    for (const peer of this.peerValues) {
      const state = resolvePassword(peer, this.model.secrets, this.secretNamespace, this.keepLastPasswords ? this.passwords.get(peer.name) : undefined);
      if (state) passwords.set(peer.name, state);
    }
    this.passwords = passwords;
    const after = this.passwordIssues();
    const seen = new Set(before.map((issue) => JSON.stringify(issue)));
    const raised = after.filter((issue) => !seen.has(JSON.stringify(issue)));
    set.issues.push(...raised);
    if (raised.length > 0 || before.length !== after.length) set.issuesChanged = true;
  }

  private refreshPeers(set: ChangeSet): void {
    for (const [name, view] of this.nodeViews) {
      const next = nodePeers(view, this.peerValues, this.passwords);
      const previous = this.peersByNode.get(name) ?? new Map<string, Peer>();
      for (const key of previous.keys()) if (!next.has(key)) set.peer(name, key);
      for (const [key, peer] of next) {
        const old = previous.get(key);
        if (!old || !equals(PeerSchema, old, peer)) set.peer(name, key);
      }
      this.peersByNode.set(name, next);
    }
  }

  // ---- materialisation ----

  private sortedShared(): string[] {
    this.sharedSorted ??= [...this.table.sharedPrefixes()].sort();
    return this.sharedSorted;
  }

  private sharedRoute(prefix: string): Route {
    let route = this.sharedRouteCache.get(prefix);
    if (!route) {
      route = this.buildRoute(prefix, this.table.sharedContributions(prefix));
      this.sharedRouteCache.set(prefix, route);
    }
    return route;
  }

  private buildRoute(prefix: string, contributions: Iterable<Contribution>): Route {
    const advertised = this.config.communitiesFor(prefix);
    const communities = new Set(advertised.standard);
    const largeCommunities = new Set(advertised.large);
    const reasons = new Map<string, RouteReason>();
    let localPref: number | undefined;
    for (const c of contributions) {
      const reasonKey = `${c.source}\u0000${c.kind}`;
      if (!reasons.has(reasonKey)) reasons.set(reasonKey, { $typeName: ROUTE_REASON, source: c.source, kind: c.kind });
      for (const value of c.communities) communities.add(value);
      for (const value of c.largeCommunities) largeCommunities.add(value);
      // Several Services sharing an IP may ask for different preferences:
      // the highest wins, so one Service cannot demote another's route.
      if (c.localPref !== undefined && (localPref === undefined || c.localPref > localPref)) localPref = c.localPref;
    }
    // A plain message, as create(RouteSchema, …) builds it: local_pref (explicit presence) only when set.
    const route: Route = {
      $typeName: ROUTE,
      prefix,
      nextHop: "",
      communities: communities.size === 0 ? [] : [...communities].sort(compareCommunity),
      largeCommunities: largeCommunities.size === 0 ? [] : [...largeCommunities].sort(compareCommunity),
      reasons: reasons.size === 1 ? [...reasons.values()] : [...reasons.values()].sort((a, b) => byString(a.source, b.source) || a.kind - b.kind),
    };
    if (localPref !== undefined) route.localPref = localPref;
    return route;
  }
}
