/**
 * Validation entry point: turns a plain Kubernetes JSON object into a parsed
 * config value, or into issues naming the resource, the field and the reason
 * in words an operator can act on.
 */
import type { z } from "zod";
import { bgpConfigurationSchema, toBgpConfigurationValue, type BGPConfigurationValue } from "./bgp-configuration.js";
import { bgpPeerSchema, toBgpPeerValue, type BGPPeerValue } from "./bgp-peer.js";
import { describe } from "./schema-common.js";

/** Same shape as svcbgp.v1.ConfigIssue. */
export interface ConfigIssueRecord {
  /** "Kind/name", e.g. "BGPPeer/tor-a". */
  readonly resource: string;
  /** Field path, e.g. "spec.serviceClusterIPs[0].cidr". */
  readonly field: string;
  readonly reason: string;
}

export type ConfigResource = BGPConfigurationValue | BGPPeerValue;
export type ConfigKind = ConfigResource["kind"];

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ConfigIssueRecord[] };

type Issue = z.core.$ZodIssue;

// Field names of every config schema, for "did you mean" on unknown fields.
const KNOWN_FIELDS = [
  "apiVersion", "kind", "metadata", "spec", "asNumber", "serviceClusterIPs", "serviceExternalIPs", "serviceLoadBalancerIPs",
  "serviceLoadBalancerAggregation", "communities", "prefixAdvertisements", "listenPort", "advertisePodCIDRs", "cidr", "name",
  "value", "peerIP", "localASNumber", "node", "nodeSelector", "password", "secretKeyRef", "key", "sourceAddress",
  "keepaliveTime", "maxRestartTime", "holdTime", "ttlSecurity", "numAllowedLocalASNumbers",
];

/** "spec.serviceClusterIPs[0].cidr" from ["spec", "serviceClusterIPs", 0, "cidr"]. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length];
}

function suggestField(name: string): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of KNOWN_FIELDS) {
    const distance = editDistance(name, known);
    if (distance < bestDistance) {
      best = known;
      bestDistance = distance;
    }
  }
  return best ? `; did you mean "${best}"?` : "";
}

function toIssues(resource: string, input: unknown, issues: readonly Issue[]): ConfigIssueRecord[] {
  const out: ConfigIssueRecord[] = [];
  for (const issue of issues) {
    const path = issue.path as PropertyKey[];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({ resource, field: formatPath([...path, key]), reason: `unknown field "${key}"${suggestField(key)}` });
      }
      continue;
    }
    const value = valueAt(input, path);
    let reason = issue.message;
    if (issue.code === "invalid_type" && value === undefined) reason = "is required";
    else if (issue.code === "invalid_type" && reason.startsWith("Invalid input")) reason = `expected ${issue.expected}, got ${describe(value)}`;
    else if (issue.code === "invalid_value" && reason.startsWith("Invalid input")) {
      reason = `must be ${issue.values.map((v) => JSON.stringify(v)).join(" or ")}, got ${describe(value)}`;
    }
    out.push({ resource, field: formatPath(path), reason });
  }
  return out;
}

function resourceName(input: unknown, kind: string): string {
  const name = valueAt(input, ["metadata", "name"]);
  return `${kind}/${typeof name === "string" && name !== "" ? name : "<unnamed>"}`;
}

export function validateBgpConfiguration(input: unknown): ValidationResult<BGPConfigurationValue> {
  const result = bgpConfigurationSchema.safeParse(input);
  if (!result.success) return { ok: false, issues: toIssues(resourceName(input, "BGPConfiguration"), input, result.error.issues) };
  return { ok: true, value: toBgpConfigurationValue(result.data) };
}

export function validateBgpPeer(input: unknown): ValidationResult<BGPPeerValue> {
  const result = bgpPeerSchema.safeParse(input);
  if (!result.success) return { ok: false, issues: toIssues(resourceName(input, "BGPPeer"), input, result.error.issues) };
  return { ok: true, value: toBgpPeerValue(result.data) };
}

/** Validates a BGPConfiguration or BGPPeer (under projectcalico.org/v3 or svcbgp.io/v1). */
export function validateResource(input: unknown): ValidationResult<ConfigResource> {
  const kind = valueAt(input, ["kind"]);
  if (kind === "BGPConfiguration") return validateBgpConfiguration(input);
  if (kind === "BGPPeer") return validateBgpPeer(input);
  const resource = resourceName(input, typeof kind === "string" ? kind : "<unknown>");
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    return { ok: false, issues: [{ resource, field: "", reason: `expected a resource object, got ${describe(input)}` }] };
  }
  return { ok: false, issues: [{ resource, field: "kind", reason: `expected BGPConfiguration or BGPPeer, got ${describe(kind)}` }] };
}

/** One line for logs: `BGPPeer/tor spec.peerIP: "x" is not an IP address`. */
export function formatIssue(issue: ConfigIssueRecord): string {
  return issue.field ? `${issue.resource} ${issue.field}: ${issue.reason}` : `${issue.resource}: ${issue.reason}`;
}
