/**
 * Which BGP sessions a node holds: every BGPPeer whose node / nodeSelector
 * selects it, turned into svcbgp.v1.Peer with the node's own source address.
 * Passwords come from Secrets in the watcher's namespace (Calico reads them
 * from its own namespace, calico-system, the same way).
 */
import { GracefulRestartSchema, PeerSchema, peerKey as apiPeerKey, type GracefulRestart, type Peer } from "@svcbgp/api";
import type { BGPPeerValue, ConfigIssueRecord } from "@svcbgp/config";
import { readSecretValue, type NodeView } from "./kube.js";
import type { KubeObject } from "../sources/source.js";

/** The watcher's namespace, where peer password Secrets live, unless configured otherwise. */
export const DEFAULT_SECRET_NAMESPACE = "svcbgp-system";

/**
 * Key of a peer within a node's intent: "address", or "address:port" ("[v6]:port").
 * The same key as @svcbgp/api's peerKey, which the speaker applies removed_peers
 * with: port 179 is BGP's default and keys as the bare address.
 */
export function peerKey(address: string, port: number): string {
  return apiPeerKey({ address, port });
}

const PEER = PeerSchema.typeName as Peer["$typeName"];
const GRACEFUL_RESTART = GracefulRestartSchema.typeName as GracefulRestart["$typeName"];

/**
 * A peer's password: read from its Secret; or, when the Secret cannot be read,
 * an issue, with the password last read for the peer if it had one (kept, so
 * a rotation to a Secret not created yet does not take the sessions down).
 */
export type PasswordState = { readonly password: string; readonly issue?: ConfigIssueRecord } | { readonly issue: ConfigIssueRecord };

/**
 * Resolves a peer's password Secret; undefined when the peer has none.
 * `previous`: the peer's state before this change, whose password is kept
 * while the Secret cannot be read.
 */
export function resolvePassword(peer: BGPPeerValue, secrets: ReadonlyMap<string, KubeObject>, namespace: string, previous?: PasswordState): PasswordState | undefined {
  if (!peer.password) return undefined;
  const { secretName, key } = peer.password;
  const secret = secrets.get(`${namespace}/${secretName}`);
  const value = secret ? readSecretValue(secret, key) : undefined;
  if (value !== undefined && value !== "") return { password: value };
  const cause = secret ? `Secret ${namespace}/${secretName} has no key "${key}"` : `Secret ${namespace}/${secretName} not found`;
  const issue = (reason: string): ConfigIssueRecord => ({ resource: `BGPPeer/${peer.name}`, field: "spec.password.secretKeyRef", reason });
  if (previous && "password" in previous) return { password: previous.password, issue: issue(`${cause}; the peer keeps the password it had until the Secret can be read`) };
  return { issue: issue(`${cause}; the peer is not configured until it can be read (sessions never start without their password)`) };
}

export function peerSelectsNode(peer: BGPPeerValue, node: NodeView): boolean {
  if (peer.node !== undefined) return peer.node === node.name;
  if (peer.nodeSelector) return peer.nodeSelector.matches(node.labels);
  return true;
}

/**
 * The node's peers keyed by peerKey. `peers` must be sorted by name: when two
 * BGPPeers name the same address and port for one node, the first wins, so
 * the result does not depend on arrival order.
 */
export function nodePeers(node: NodeView, peers: readonly BGPPeerValue[], passwords: ReadonlyMap<string, PasswordState>): Map<string, Peer> {
  const out = new Map<string, Peer>();
  for (const peer of peers) {
    if (!peerSelectsNode(peer, node)) continue;
    const address = peer.peer.ip.text;
    // Never peer a node with itself (a global BGPPeer naming a node's IP).
    if (node.addresses.includes(address)) continue;
    const password = passwords.get(peer.name);
    if (password && !("password" in password)) continue;
    const key = peerKey(address, peer.peer.port);
    if (out.has(key)) continue;
    let sourceAddress = "";
    if (peer.sourceAddress.mode === "UseNodeIP") sourceAddress = (peer.peer.ip.family === 4 ? node.internalIPv4 : node.internalIPv6) ?? "";
    else if (peer.sourceAddress.mode === "Address") sourceAddress = peer.sourceAddress.ip.text;
    // A plain message, as create(PeerSchema, …) builds it (one per node: its generic initialiser shows at 5,000 nodes).
    out.set(key, {
      $typeName: PEER,
      address,
      port: peer.peer.port,
      asn: peer.asNumber,
      localAsn: peer.localASNumber ?? 0,
      sourceAddress,
      holdTime: peer.holdSeconds ?? 0,
      keepalive: peer.keepaliveSeconds ?? 0,
      ttlSecurity: peer.ttlSecurity ?? 0,
      password: password && "password" in password ? password.password : "",
      passive: false,
      name: peer.name,
      numAllowedLocalAsNumbers: peer.numAllowedLocalASNumbers ?? 0,
      gracefulRestart: { $typeName: GRACEFUL_RESTART, enabled: true, restartTime: peer.maxRestartSeconds ?? 0 },
    });
  }
  return out;
}
