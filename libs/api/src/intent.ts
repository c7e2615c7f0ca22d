/**
 * Intent arithmetic shared by the watcher (which sends deltas) and the
 * speaker (which applies them, and diffs snapshots after a reconnect so
 * nothing is withdrawn and re-announced).
 */
import { create, equals } from "@bufbuild/protobuf";
import { IntentDeltaSchema, type IntentDelta } from "./gen/svcbgp/v1/intent_service_pb.js";
import { NodeIntentSchema, PeerSchema, RouteSchema, type NodeIntent, type Peer, type Route } from "./gen/svcbgp/v1/route_pb.js";

const DEFAULT_BGP_PORT = 179;

/** The key a peer is known by: "address" on port 179, else "address:port" ("[v6]:port"). */
export function peerKey(peer: Pick<Peer, "address" | "port">): string {
  const port = peer.port || DEFAULT_BGP_PORT;
  if (port === DEFAULT_BGP_PORT) return peer.address;
  return peer.address.includes(":") ? `[${peer.address}]:${port}` : `${peer.address}:${port}`;
}

/** True when two intents differ in a node-level field, which a delta cannot carry. */
export function nodeFieldsDiffer(a: NodeIntent, b: NodeIntent): boolean {
  return a.nodeName !== b.nodeName || a.routerId !== b.routerId || a.localAsn !== b.localAsn || a.listenPort !== b.listenPort;
}

/**
 * The delta that turns `from` into `to`, or undefined when node-level fields
 * changed and only a snapshot will do.
 */
export function diffIntents(from: NodeIntent, to: NodeIntent, baseRevision = 0n): IntentDelta | undefined {
  if (nodeFieldsDiffer(from, to)) return undefined;
  const delta = create(IntentDeltaSchema, { baseRevision });
  const oldRoutes = new Map(from.routes.map((r) => [r.prefix, r]));
  for (const route of to.routes) {
    const old = oldRoutes.get(route.prefix);
    if (!old || !equals(RouteSchema, old, route)) delta.upsertedRoutes.push(route);
    oldRoutes.delete(route.prefix);
  }
  delta.withdrawnPrefixes.push(...oldRoutes.keys());
  const oldPeers = new Map(from.peers.map((p) => [peerKey(p), p]));
  for (const peer of to.peers) {
    const key = peerKey(peer);
    const old = oldPeers.get(key);
    if (!old || !equals(PeerSchema, old, peer)) delta.upsertedPeers.push(peer);
    oldPeers.delete(key);
  }
  delta.removedPeers.push(...oldPeers.keys());
  return delta;
}

export function isEmptyDelta(delta: IntentDelta): boolean {
  return !delta.upsertedRoutes.length && !delta.withdrawnPrefixes.length && !delta.upsertedPeers.length && !delta.removedPeers.length;
}

function comparePrefixKeys(a: Route, b: Route): number {
  return a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0;
}

/** Applies a delta, returning a new intent (routes kept sorted by prefix string). */
export function applyDelta(intent: NodeIntent, delta: IntentDelta): NodeIntent {
  const routes = new Map(intent.routes.map((r) => [r.prefix, r]));
  for (const prefix of delta.withdrawnPrefixes) routes.delete(prefix);
  for (const route of delta.upsertedRoutes) routes.set(route.prefix, route);
  const peers = new Map(intent.peers.map((p) => [peerKey(p), p]));
  for (const key of delta.removedPeers) peers.delete(key);
  for (const peer of delta.upsertedPeers) peers.set(peerKey(peer), peer);
  return create(NodeIntentSchema, {
    ...intent,
    routes: [...routes.values()].sort(comparePrefixKeys),
    peers: [...peers.values()],
  });
}
