/** Table renderings of svcbgp's messages. */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  RibTable,
  RouteKind,
  SessionState,
  type ExplainServiceResponse,
  type NodeIntent,
  type NodeSummary,
  type PeerStatus,
  type RibRoute,
  type Route,
  type RouteReason,
} from "@svcbgp/api";
import { formatAge, renderTable } from "./table.js";

const NONE = "-";

function enumLabel(values: Record<string | number, string | number>, value: number, prefix: string): string {
  const name = values[value];
  return typeof name === "string" ? name.replace(prefix, "").toLowerCase().replaceAll("_", "-") : String(value);
}

export const routeKindLabel = (kind: RouteKind) => enumLabel(RouteKind, kind, "ROUTE_KIND_") ;
export const sessionStateLabel = (state: SessionState) => {
  const label = enumLabel(SessionState, state, "SESSION_STATE_");
  return { "open-sent": "OpenSent", "open-confirm": "OpenConfirm" }[label] ?? label.charAt(0).toUpperCase() + label.slice(1);
};
export const ribTableLabel = (table: RibTable) => enumLabel(RibTable, table, "RIB_TABLE_");

function reasons(list: RouteReason[]): string {
  return list.length ? list.map((r) => `${routeKindLabel(r.kind)}:${r.source}`).join(",") : NONE;
}

function communities(standard: string[], large: string[]): string {
  const all = [...standard, ...large];
  return all.length ? all.join(",") : NONE;
}

export function routesTable(routes: Route[]): string {
  return renderTable(
    ["PREFIX", "NEXT-HOP", "COMMUNITIES", "LOCAL-PREF", "REASONS"],
    routes.map((r) => [r.prefix, r.nextHop || "self", communities(r.communities, r.largeCommunities), r.localPref?.toString() ?? NONE, reasons(r.reasons)]),
  );
}

export function intentTable(revision: bigint, intent: NodeIntent): string {
  const header = `node ${intent.nodeName}  router-id ${intent.routerId || NONE}  asn ${intent.localAsn}  revision ${revision}\n`;
  const peers = renderTable(
    ["PEER", "PORT", "ASN", "LOCAL-ASN", "SOURCE", "HOLD", "GR", "NAME"],
    intent.peers.map((p) => [
      p.address,
      String(p.port || 179),
      String(p.asn),
      String(p.localAsn || intent.localAsn),
      p.sourceAddress || NONE,
      p.holdTime ? `${p.holdTime}s` : "default",
      p.gracefulRestart?.enabled ? `${p.gracefulRestart.restartTime || 120}s` : "off",
      p.name || NONE,
    ]),
  );
  return [header, peers || "no peers\n", routesTable(intent.routes) || "no routes\n"].join("\n");
}

export function nodesTable(nodes: NodeSummary[]): string {
  return renderTable(
    ["NODE", "REVISION", "ROUTES", "PEERS", "SPEAKERS", "EXCLUDED"],
    nodes.map((n) => [n.nodeName, String(n.revision), String(n.routeCount), String(n.peerCount), String(n.watchers), n.excluded ? "yes" : "no"]),
  );
}

export function explainTable(response: ExplainServiceResponse): string {
  const rows: string[][] = [];
  for (const ip of response.ips) {
    if (ip.rejectedReason) {
      rows.push([ip.ip, routeKindLabel(ip.kind), NONE, "(all)", "no", ip.rejectedReason]);
      continue;
    }
    for (const node of ip.nodes) {
      rows.push([ip.ip, routeKindLabel(ip.kind), ip.allowedBy || NONE, node.nodeName, node.advertisedPrefix || "no", node.reason]);
    }
  }
  const issues = response.configIssues.map((i) => `config: ${i.resource} ${i.field}: ${i.reason}\n`).join("");
  return renderTable(["IP", "KIND", "ALLOWED-BY", "NODE", "ADVERTISED", "REASON"], rows) + issues;
}

export function peersTable(peers: PeerStatus[], now = Date.now()): string {
  return renderTable(
    ["PEER", "ASN", "STATE", "SINCE", "HOLD", "SENT", "RECEIVED", "LAST-ERROR"],
    peers.map((p) => [
      p.port && p.port !== 179 ? `${p.address}:${p.port}` : p.address,
      String(p.asn),
      sessionStateLabel(p.state),
      p.stateSince ? formatAge(now - timestampDate(p.stateSince).getTime()) : NONE,
      p.negotiatedHoldTime ? `${p.negotiatedHoldTime}s` : NONE,
      String(p.prefixesSent),
      String(p.prefixesReceived),
      p.lastError || NONE,
    ]),
  );
}

export function ribTable(routes: RibRoute[]): string {
  return renderTable(
    ["TABLE", "PEER", "PREFIX", "NEXT-HOP", "AS-PATH", "LOCAL-PREF", "COMMUNITIES", "FLAGS"],
    routes.map((r) => [
      ribTableLabel(r.table === RibTable.UNSPECIFIED ? RibTable.INTENT : r.table),
      r.peer || NONE,
      r.prefix,
      r.nextHop || "self",
      r.asPath.length ? r.asPath.join(" ") : NONE,
      r.localPref?.toString() ?? NONE,
      communities(r.communities, r.largeCommunities),
      r.stale ? "stale" : NONE,
    ]),
  );
}
