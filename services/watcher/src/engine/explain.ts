/**
 * ExplainService: for each IP of one Service and each node, the prefix the
 * node advertises that covers the IP (if any) and the rule that decided it,
 * in words. Computed on demand from the same pure rules as the intents.
 */
import { create } from "@bufbuild/protobuf";
import {
  ConfigIssueSchema,
  ExplainServiceResponseSchema,
  IpExplanationSchema,
  NodeDecisionSchema,
  RouteKind,
  type ExplainServiceResponse,
  type NodeDecision,
  type Route,
} from "@svcbgp/api";
import { cidrContains, hostPrefix, isHostCidr, type ConfigIssueRecord, type IpAddress } from "@svcbgp/config";
import type { ConfigView } from "./config-view.js";
import { usability, type EndpointIndex } from "./endpoints.js";
import { EXCLUDE_LABEL, readService, serviceKey, type NodeView } from "./kube.js";
import type { ClusterModel } from "./model.js";
import { evaluateService, type IpDecision } from "./service-routes.js";

export interface ExplainContext {
  readonly model: ClusterModel;
  readonly config: ConfigView;
  readonly endpoints: EndpointIndex;
  readonly nodes: ReadonlyMap<string, NodeView>;
  route(node: string, prefix: string): Route | undefined;
  /** Issues that affect every Service's routes (rejected BGPConfigurations). */
  configIssues(): ConfigIssueRecord[];
}

/** The most specific prefix `node` advertises that covers `ip`. */
function coveringPrefix(ctx: ExplainContext, node: NodeView, ip: IpAddress): string {
  const host = hostPrefix(ip) as string;
  if (ctx.route(node.name, host)) return host;
  let best: { text: string; length: number } | undefined;
  const consider = (text: string, length: number) => {
    if (!best || length > best.length) best = { text, length };
  };
  for (const aggregate of ctx.config.aggregates) {
    if (cidrContains(aggregate.cidr, ip) && ctx.route(node.name, aggregate.cidr.text)) consider(aggregate.cidr.text, aggregate.cidr.length);
  }
  for (const cidr of node.podCIDRs) if (cidrContains(cidr, ip) && ctx.route(node.name, cidr.text)) consider(cidr.text, cidr.length);
  return best?.text ?? "";
}

function ruleReason(ctx: ExplainContext, key: string, decision: IpDecision, node: NodeView): { reason: string; contributes: boolean } {
  switch (decision.mode) {
    case "ineligible":
    case "invalid":
    case "rejected":
      return { reason: decision.rejectedReason ?? "not advertised", contributes: false };
    case "covered":
      return { reason: `covered by ${decision.coveredBy?.text}`, contributes: false };
    case "noEndpoints":
      return { reason: "no usable endpoint in the cluster", contributes: false };
    case "everywhere": {
      let why = "host route from every node";
      if (decision.allowedBy && isHostCidr(decision.allowedBy)) why += `: single-IP range ${decision.allowedBy.text}`;
      else if (decision.kind === RouteKind.LOAD_BALANCER_IP && !ctx.config.aggregation) why += ": serviceLoadBalancerAggregation Disabled";
      if (decision.cluster === "servingTerminating") why += " (no ready endpoint; serving-and-terminating endpoints count)";
      return { reason: why, contributes: true };
    }
    case "local": {
      const family = decision.parsed?.family ?? 4;
      const local = usability(ctx.endpoints.get(key)?.family(family)?.node(node.name));
      const policy = `${decision.policy} Local`;
      if (local === "ready") return { reason: `${policy}: local ready endpoint`, contributes: true };
      if (local === "servingTerminating") return { reason: `${policy}: no local ready endpoint; a local serving-and-terminating endpoint counts`, contributes: true };
      return { reason: `${policy}: no local ready endpoint`, contributes: false };
    }
  }
}

function nodeDecision(ctx: ExplainContext, key: string, decision: IpDecision, node: NodeView): NodeDecision {
  if (node.excluded) return create(NodeDecisionSchema, { nodeName: node.name, advertisedPrefix: "", reason: `node excluded (label ${EXCLUDE_LABEL})` });
  const advertisedPrefix = decision.parsed ? coveringPrefix(ctx, node, decision.parsed) : "";
  const rule = ruleReason(ctx, key, decision, node);
  let reason = rule.reason;
  if (advertisedPrefix !== "" && decision.mode !== "covered") {
    if (advertisedPrefix === hostPrefix(decision.parsed as IpAddress)) {
      if (!rule.contributes) reason += "; advertised for another Service sharing the IP";
    } else reason += `; covered by ${advertisedPrefix}`;
  }
  return create(NodeDecisionSchema, { nodeName: node.name, advertisedPrefix, reason });
}

export function explainService(ctx: ExplainContext, namespace: string, name: string): ExplainServiceResponse {
  const key = serviceKey(namespace, name);
  const object = ctx.model.services.get(key);
  if (!object) return create(ExplainServiceResponseSchema, { found: false });
  const svc = readService(object);
  const evaluation = evaluateService(svc, ctx.endpoints.get(key), ctx.config);
  const nodes = [...ctx.nodes.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const ips = evaluation.decisions.map((decision) =>
    create(IpExplanationSchema, {
      ip: decision.ip,
      kind: decision.kind,
      allowedBy: decision.allowedBy?.text ?? "",
      rejectedReason: decision.mode === "rejected" || decision.mode === "invalid" || decision.mode === "ineligible" ? (decision.rejectedReason ?? "") : "",
      nodes: nodes.map((node) => nodeDecision(ctx, key, decision, node)),
    }),
  );
  const issues = [
    ...ctx.configIssues(),
    ...evaluation.rejections.filter((r) => r.kind === RouteKind.UNSPECIFIED).map((r) => ({ resource: `Service/${key}`, field: r.field, reason: r.reason })),
  ];
  return create(ExplainServiceResponseSchema, { found: true, ips, configIssues: issues.map((issue) => create(ConfigIssueSchema, issue)) });
}
