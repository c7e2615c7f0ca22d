/** Converts RIB contents to the flat form queries show. */
import type { PathAttributes } from "../codec/types.js";
import { formatCommunity } from "../rib/policy.js";
import type { RibEntry } from "./types.js";

const ORIGINS: RibEntry["origin"][] = ["igp", "egp", "incomplete"];

export function ribEntry(prefix: string, attributes: PathAttributes, stale = false): RibEntry {
  const entry: RibEntry = {
    prefix,
    nextHop: attributes.mpReach?.nextHops[0] ?? attributes.nextHop ?? "",
    asPath: (attributes.asPath ?? []).flatMap((segment) => segment.asns),
    origin: ORIGINS[attributes.origin ?? 0] ?? "incomplete",
    communities: (attributes.communities ?? []).map(formatCommunity),
    largeCommunities: (attributes.largeCommunities ?? []).map((c) => c.join(":")),
    stale,
  };
  if (attributes.med !== undefined) entry.med = attributes.med;
  if (attributes.localPref !== undefined) entry.localPref = attributes.localPref;
  return entry;
}
