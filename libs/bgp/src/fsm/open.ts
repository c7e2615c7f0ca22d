/**
 * Building our OPEN, the configuration-dependent checks of the peer's OPEN
 * (the codec already did the syntactic ones), and capability negotiation.
 */
import type { AfiSafi, Capability, GracefulRestartCapability, OpenMessage } from "../codec/types.js";
import type { FsmConfig, NegotiatedSession, NotificationError } from "./types.js";

/** The 2-octet "My AS" placeholder for ASNs above 65535 (RFC 6793). */
export const AS_TRANS = 23456;
export const BGP_VERSION = 4;
export const DEFAULT_HOLD_TIME = 90;
/** RFC 4271 §4.2: a non-zero hold time below 3 s is unacceptable. */
export const MIN_HOLD_TIME = 3;
/** Pre-standard route refresh capability code some implementations still send alone. */
const CISCO_ROUTE_REFRESH = 128;
const IPV4_UNICAST: AfiSafi = { afi: 1, safi: 1 };

const OPEN_MESSAGE_ERROR = 2;
const UNSUPPORTED_VERSION = 1;
const BAD_PEER_AS = 2;
const BAD_BGP_IDENTIFIER = 3;
const UNACCEPTABLE_HOLD_TIME = 6;

/** A dotted quad as an unsigned 32-bit integer (RFC 6286 compares identifiers this way). */
export function routerIdToNumber(id: string): number {
  const parts = id.split(".");
  if (parts.length !== 4) return NaN;
  let value = 0;
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) return NaN;
    const octet = Number(part);
    if (octet > 255) return NaN;
    value = value * 256 + octet;
  }
  return value;
}

function families(config: FsmConfig): AfiSafi[] {
  return config.families && config.families.length > 0 ? config.families : [IPV4_UNICAST];
}

/** Our OPEN: every capability we support, the R bit while restarting. */
export function buildOpen(config: FsmConfig, restarting: boolean): OpenMessage {
  const capabilities: Capability[] = families(config).map((f) => ({ code: 1, kind: "multiprotocol", afi: f.afi, safi: f.safi }));
  if (config.routeRefresh ?? true) capabilities.push({ code: 2, kind: "route-refresh" });
  if (config.extendedMessage ?? true) capabilities.push({ code: 6, kind: "extended-message" });
  const gr = config.gracefulRestart;
  if (gr) {
    capabilities.push({
      code: 64,
      kind: "graceful-restart",
      value: {
        restarting,
        notification: gr.notification ?? false,
        restartTime: Math.min(Math.max(0, Math.floor(gr.restartTime)), 0xfff),
        families: families(config).map((f) => ({ afi: f.afi, safi: f.safi, forwardingPreserved: gr.forwardingPreserved ?? false })),
      },
    });
  }
  capabilities.push({ code: 65, kind: "four-octet-as", asn: config.localAsn });
  return {
    type: 1,
    version: BGP_VERSION,
    myAsn: config.localAsn > 0xffff ? AS_TRANS : config.localAsn,
    holdTime: config.holdTime ?? DEFAULT_HOLD_TIME,
    routerId: config.routerId,
    capabilities,
  };
}

/** The peer's real AS: the 4-octet AS capability when present, else the 2-octet field. */
export function peerAsnOf(open: OpenMessage): number {
  const cap = open.capabilities.find((c) => c.kind === "four-octet-as");
  return cap && cap.kind === "four-octet-as" ? cap.asn : open.myAsn;
}

function openError(subcode: number, data: Uint8Array = new Uint8Array(0)): NotificationError {
  return { code: OPEN_MESSAGE_ERROR, subcode, data };
}

/**
 * The checks of RFC 4271 §6.2 that need our configuration. Returns the
 * NOTIFICATION to send, or null when the OPEN is acceptable.
 */
export function validateOpen(open: OpenMessage, config: FsmConfig): NotificationError | null {
  if (open.version !== BGP_VERSION) return openError(UNSUPPORTED_VERSION, Uint8Array.of(0, BGP_VERSION));
  if (open.holdTime !== 0 && open.holdTime < MIN_HOLD_TIME) return openError(UNACCEPTABLE_HOLD_TIME);
  // A peer without the 4-octet capability and an ASN above 65535 sends AS_TRANS, which then mismatches.
  if (peerAsnOf(open) !== config.peerAsn) return openError(BAD_PEER_AS);
  const remoteId = routerIdToNumber(open.routerId);
  if (!Number.isFinite(remoteId) || remoteId === 0) return openError(BAD_BGP_IDENTIFIER);
  // RFC 6286 §2.2: identifiers must differ within an AS; an eBGP peer may share ours.
  if (config.peerAsn === config.localAsn && remoteId === routerIdToNumber(config.routerId)) return openError(BAD_BGP_IDENTIFIER);
  return null;
}

function has(caps: Capability[], kind: Capability["kind"]): boolean {
  return caps.some((c) => c.kind === kind);
}

function mpFamilies(caps: Capability[]): AfiSafi[] {
  const out: AfiSafi[] = [];
  for (const c of caps) if (c.kind === "multiprotocol") out.push({ afi: c.afi, safi: c.safi });
  // RFC 4760 §8: a speaker that sends no multiprotocol capability does IPv4 unicast only.
  return out.length > 0 ? out : [IPV4_UNICAST];
}

/** Negotiated hold time: the smaller of the two; 0 if either side asked for 0. */
export function negotiateHoldTime(ours: number, theirs: number): number {
  return ours === 0 || theirs === 0 ? 0 : Math.min(ours, theirs);
}

/** Keepalive interval: a third of the hold time (at least 1 s), or the configured value if smaller. */
export function keepaliveFor(holdTime: number, configured?: number): number {
  if (holdTime === 0) return 0;
  const third = Math.max(1, Math.floor(holdTime / 3));
  return configured !== undefined && configured > 0 ? Math.min(configured, third) : third;
}

export function negotiate(config: FsmConfig, local: OpenMessage, remote: OpenMessage): NegotiatedSession {
  const ours = local.capabilities;
  const theirs = remote.capabilities;
  const remoteFamilies = mpFamilies(theirs);
  const shared = mpFamilies(ours).filter((f) => remoteFamilies.some((r) => r.afi === f.afi && r.safi === f.safi));
  const holdTime = negotiateHoldTime(local.holdTime, remote.holdTime);
  const grCap = theirs.find((c) => c.kind === "graceful-restart");
  const peerGracefulRestart: GracefulRestartCapability | null = grCap && grCap.kind === "graceful-restart" ? grCap.value : null;
  const fourOctetAs = has(ours, "four-octet-as") && has(theirs, "four-octet-as");
  const extendedMessage = has(ours, "extended-message") && has(theirs, "extended-message");
  const peerRouteRefresh = has(theirs, "route-refresh") || theirs.some((c) => c.code === CISCO_ROUTE_REFRESH);
  return {
    localAsn: config.localAsn,
    peerAsn: peerAsnOf(remote),
    localRouterId: config.routerId,
    peerRouterId: remote.routerId,
    ibgp: config.localAsn === config.peerAsn,
    holdTime,
    keepaliveTime: keepaliveFor(holdTime, config.keepaliveTime),
    families: shared,
    fourOctetAs,
    routeRefresh: has(ours, "route-refresh") && peerRouteRefresh,
    extendedMessage,
    gracefulRestart: has(ours, "graceful-restart") && peerGracefulRestart !== null,
    peerGracefulRestart,
    codec: { fourOctetAs, extendedMessage },
    localOpen: local,
    peerOpen: remote,
    peerCapabilities: theirs,
  };
}
