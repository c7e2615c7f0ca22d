/**
 * BGPPeer: Calico's projectcalico.org/v3 spec for peers outside the cluster
 * (peerIP), plus the svcbgp extension `holdTime`. Calico's node-to-node
 * `peerSelector` is refused: svcbgp only peers with routers.
 */
import { z } from "zod";
import { durationToSeconds } from "./duration.js";
import { parseIp, type IpAddress } from "./prefix.js";
import { asNumber, CONFIG_API_VERSIONS, describe, durationString, ignored, integer, metadata, selectorString } from "./schema-common.js";
import { parseSelector, type Selector } from "./selector.js";

export interface PeerAddress {
  readonly ip: IpAddress;
  /** 0 when no port was given (BGP's 179). */
  readonly port: number;
}

/** Parses "ip", "ip:port", "v6" or "[v6]:port". */
export function parsePeerAddress(text: string): { ok: true; value: PeerAddress } | { ok: false; reason: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  let host = text;
  let portText: string | undefined;
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2];
  } else if (!parseIp(text)) {
    const colon = text.lastIndexOf(":");
    // More than one colon without brackets is an IPv6 address, not host:port.
    if (colon > 0 && text.indexOf(":") === colon) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
  }
  const ip = parseIp(host);
  if (!ip) return { ok: false, reason: `"${text}" is not an IP address or IP:port (IPv6 with a port is written [addr]:port)` };
  if (bracketed && ip.family !== 6) return { ok: false, reason: `"${text}": brackets are only for IPv6 addresses` };
  let port = 0;
  if (portText !== undefined) {
    port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) return { ok: false, reason: `"${text}": port must be 1..65535` };
  }
  return { ok: true, value: { ip, port } };
}

const sourceAddress = z.string({ error: (issue) => `must be "UseNodeIP", "None" or an IP address, got ${describe(issue.input)}` }).superRefine((value, ctx) => {
  if (value !== "UseNodeIP" && value !== "None" && !parseIp(value)) {
    ctx.addIssue({ code: "custom", message: `must be "UseNodeIP", "None" or an IP address, got "${value}"` });
  }
});

const bgpPeerSpec = z
  .strictObject({
    peerIP: z.string({ error: (issue) => `peerIP is required (an IP, IP:port or [IPv6]:port), got ${describe(issue.input)}` }).superRefine((value, ctx) => {
      const result = parsePeerAddress(value);
      if (!result.ok) ctx.addIssue({ code: "custom", message: result.reason });
    }),
    asNumber,
    localASNumber: asNumber.optional(),
    node: z.string().min(1, { error: "node must not be empty" }).optional(),
    nodeSelector: selectorString.optional(),
    password: z
      .strictObject({
        secretKeyRef: z.strictObject({
          name: z.string().min(1, { error: "secret name must not be empty" }),
          key: z.string().min(1, { error: "secret key must not be empty" }),
          optional: z.boolean().optional(),
        }),
      })
      .optional(),
    sourceAddress: sourceAddress.optional(),
    keepaliveTime: durationString.optional(),
    maxRestartTime: durationString.optional(),
    holdTime: durationString
      .superRefine((value, ctx) => {
        const seconds = durationToSeconds(value);
        if (seconds === 1 || seconds === 2) ctx.addIssue({ code: "custom", message: `"${value}": a hold time must be 0 or at least 3 seconds (RFC 4271)` });
      })
      .optional(),
    ttlSecurity: integer(0, 255, "ttlSecurity").optional(),
    numAllowedLocalASNumbers: integer(0, 255, "numAllowedLocalASNumbers").optional(),
    peerSelector: z.unknown().optional(),
    ...ignored(["failureDetectionMode", "restartMode", "birdGatewayMode", "keepOriginalNextHop", "filters", "reachableBy", "nextHopMode"]),
  })
  .superRefine((spec, ctx) => {
    if (spec.peerSelector !== undefined) {
      ctx.addIssue({ code: "custom", path: ["peerSelector"], message: "peerSelector (node-to-node peering) is not supported: svcbgp peers with routers given by peerIP" });
    }
    if (spec.node !== undefined && spec.nodeSelector !== undefined && spec.nodeSelector.trim() !== "") {
      ctx.addIssue({ code: "custom", path: ["nodeSelector"], message: "node and nodeSelector cannot both be set" });
    }
  });

export const bgpPeerSchema = z.strictObject({
  apiVersion: z.enum(CONFIG_API_VERSIONS, { error: (issue) => `must be one of ${CONFIG_API_VERSIONS.join(", ")}, got ${describe(issue.input)}` }),
  kind: z.literal("BGPPeer"),
  metadata,
  spec: bgpPeerSpec,
  status: z.unknown().optional(),
});

export type SourceAddressMode = { mode: "UseNodeIP" } | { mode: "None" } | { mode: "Address"; ip: IpAddress };

/** A validated BGPPeer with every value parsed. */
export interface BGPPeerValue {
  readonly kind: "BGPPeer";
  readonly apiVersion: string;
  readonly name: string;
  readonly peer: PeerAddress;
  readonly asNumber: number;
  readonly localASNumber: number | undefined;
  readonly node: string | undefined;
  /** Undefined when the peer applies to every node (no node, no or empty selector). */
  readonly nodeSelector: Selector | undefined;
  readonly password: { readonly secretName: string; readonly key: string } | undefined;
  readonly sourceAddress: SourceAddressMode;
  readonly keepaliveSeconds: number | undefined;
  readonly maxRestartSeconds: number | undefined;
  readonly holdSeconds: number | undefined;
  readonly ttlSecurity: number | undefined;
  readonly numAllowedLocalASNumbers: number | undefined;
}

type ParsedBgpPeer = z.output<typeof bgpPeerSchema>;

function seconds(text: string | undefined): number | undefined {
  return text === undefined ? undefined : durationToSeconds(text);
}

export function toBgpPeerValue(parsed: ParsedBgpPeer): BGPPeerValue {
  const spec = parsed.spec;
  const peer = parsePeerAddress(spec.peerIP);
  if (!peer.ok) throw new Error(peer.reason); // unreachable: validated
  const selector = spec.nodeSelector && spec.nodeSelector.trim() !== "" ? parseSelector(spec.nodeSelector) : undefined;
  let source: SourceAddressMode = { mode: "UseNodeIP" };
  if (spec.sourceAddress === "None") source = { mode: "None" };
  else if (spec.sourceAddress !== undefined && spec.sourceAddress !== "UseNodeIP") source = { mode: "Address", ip: parseIp(spec.sourceAddress) as IpAddress };
  return {
    kind: "BGPPeer",
    apiVersion: parsed.apiVersion,
    name: parsed.metadata.name,
    peer: peer.value,
    asNumber: spec.asNumber,
    localASNumber: spec.localASNumber,
    node: spec.node,
    nodeSelector: selector?.ok ? selector.selector : undefined,
    password: spec.password ? { secretName: spec.password.secretKeyRef.name, key: spec.password.secretKeyRef.key } : undefined,
    sourceAddress: source,
    keepaliveSeconds: seconds(spec.keepaliveTime),
    maxRestartSeconds: seconds(spec.maxRestartTime),
    holdSeconds: seconds(spec.holdTime),
    ttlSecurity: spec.ttlSecurity,
    numAllowedLocalASNumbers: spec.numAllowedLocalASNumbers,
  };
}

