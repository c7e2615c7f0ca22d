/**
 * Zod building blocks shared by the BGPConfiguration and BGPPeer schemas.
 * Each check carries a human-readable message; validate.ts turns zod issues
 * into ConfigIssue-shaped records.
 */
import { z } from "zod";
import { durationToSeconds } from "./duration.js";
import { parseCidrStrict, parseIp } from "./prefix.js";
import { parseSelector } from "./selector.js";

/** API versions the watcher accepts for its config kinds. */
export const CALICO_API_VERSION = "projectcalico.org/v3";
export const SVCBGP_API_VERSION = "svcbgp.io/v1";
export const CONFIG_API_VERSIONS = [CALICO_API_VERSION, SVCBGP_API_VERSION] as const;

export const MAX_ASN = 4294967295;

/** A 4-byte AS number. Calico also takes "64512" strings and asdot; we take numbers only. */
export const asNumber = z
  .number({ error: (issue) => `must be an AS number (integer 1..${MAX_ASN}), got ${describe(issue.input)}` })
  .int({ error: (issue) => `must be an AS number (integer 1..${MAX_ASN}), got ${describe(issue.input)}` })
  .min(1, { error: (issue) => `AS number must be 1..${MAX_ASN}, got ${describe(issue.input)}` })
  .max(MAX_ASN, { error: (issue) => `AS number must be 1..${MAX_ASN}, got ${describe(issue.input)}` });

export function integer(min: number, max: number, what: string) {
  const message = (input: unknown) => `${what} must be an integer ${min}..${max}, got ${describe(input)}`;
  return z
    .number({ error: (issue) => message(issue.input) })
    .int({ error: (issue) => message(issue.input) })
    .min(min, { error: (issue) => message(issue.input) })
    .max(max, { error: (issue) => message(issue.input) });
}

export const cidrString = z.string({ error: (issue) => `must be a CIDR string, got ${describe(issue.input)}` }).superRefine((value, ctx) => {
  const result = parseCidrStrict(value);
  if (!result.ok) ctx.addIssue({ code: "custom", message: result.reason });
});

export const ipString = z.string({ error: (issue) => `must be an IP address string, got ${describe(issue.input)}` }).superRefine((value, ctx) => {
  if (!parseIp(value)) ctx.addIssue({ code: "custom", message: `"${value}" is not an IP address` });
});

export const durationString = z
  .string({ error: (issue) => `must be a duration such as "30s" or "2m", got ${describe(issue.input)}` })
  .superRefine((value, ctx) => {
    const seconds = durationToSeconds(value);
    if (seconds === undefined) ctx.addIssue({ code: "custom", message: `"${value}" is not a duration (use Go syntax, e.g. "30s", "2m", "1h30m")` });
    else if (seconds > 65535) ctx.addIssue({ code: "custom", message: `"${value}" is too long: BGP timers are at most 65535 seconds` });
  });

export const selectorString = z.string({ error: (issue) => `must be a selector string, got ${describe(issue.input)}` }).superRefine((value, ctx) => {
  const result = parseSelector(value);
  if (!result.ok) ctx.addIssue({ code: "custom", message: result.reason });
});

/**
 * Metadata is Kubernetes-managed and grows fields over time (managedFields,
 * finalizers, ...), so only the name is checked and the rest passes through.
 */
export const metadata = z.looseObject({
  name: z.string({ error: "metadata.name is required" }).min(1, { error: "metadata.name must not be empty" }),
});

/** Fields of Calico's spec we accept so Calico manifests load, but do not act on. */
export function ignored(names: readonly string[]): Record<string, z.ZodOptional<z.ZodUnknown>> {
  return Object.fromEntries(names.map((name) => [name, z.unknown().optional()]));
}

/** Short rendering of a value for messages. */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return String(value);
}
