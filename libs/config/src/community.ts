/**
 * BGP community values: standard (RFC 1997) "asn:value" with 16-bit halves,
 * large (RFC 8092) "global:local1:local2" with 32-bit parts, and the
 * well-known names the speaker understands.
 */

export const WELL_KNOWN_COMMUNITIES: ReadonlySet<string> = new Set(["no-export", "no-advertise", "no-export-subconfed", "no-peer"]);

export interface CommunityValue {
  readonly kind: "standard" | "large";
  /** Canonical text: decimal parts without leading zeros, or a well-known name. */
  readonly text: string;
}

const DECIMAL = /^[0-9]{1,10}$/;

function part(text: string, max: number): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return value <= max ? value : undefined;
}

/** Parses a literal community ("65000:100", "65000:1:2", "no-export"); undefined if it is none. */
export function parseCommunityValue(text: string): CommunityValue | undefined {
  const trimmed = text.trim();
  if (WELL_KNOWN_COMMUNITIES.has(trimmed)) return { kind: "standard", text: trimmed };
  const parts = trimmed.split(":");
  if (parts.length === 2) {
    const values = parts.map((p) => part(p, 0xffff));
    if (values.every((v) => v !== undefined)) return { kind: "standard", text: values.join(":") };
  } else if (parts.length === 3) {
    const values = parts.map((p) => part(p, 0xffffffff));
    if (values.every((v) => v !== undefined)) return { kind: "large", text: values.join(":") };
  }
  return undefined;
}

/**
 * Resolves a community reference: a name from BGPConfiguration.communities
 * first (Calico's precedence), else a literal value.
 */
export function resolveCommunity(reference: string, named: ReadonlyMap<string, CommunityValue>): CommunityValue | undefined {
  return named.get(reference.trim()) ?? parseCommunityValue(reference);
}
