export { AdjRibIn, type RibInChange, type RibInEntry } from "./adj-rib-in.js";
export {
  AdjRibOut,
  isWithdrawGroup,
  keyedGroupPrefixes,
  type AnnounceGroup,
  type KeyedGroup,
  type RibOutRoute,
  type RibOutEntry,
  type UpdateGroup,
  type WithdrawGroup,
} from "./adj-rib-out.js";
export { AttributeTable, attributeKey, routeAttributes } from "./attributes.js";
export { Ipv4Table } from "./ipv4-table.js";
export { WantedRoutes, type WithdrawnKeys } from "./wanted-routes.js";
export {
  DEFAULT_LOCAL_PREF,
  WELL_KNOWN_COMMUNITIES,
  buildAttributes,
  buildDesired,
  buildDesiredKeyed,
  buildKeyedBatch,
  formatCommunity,
  KeyedDesired,
  parseCommunity,
  parseLargeCommunity,
  type DesiredTable,
  type IntentRoute,
  type KeyedRoutes,
  type PolicyResult,
  type SessionFacts,
} from "./policy.js";
export {
  compareKeys,
  formatIpv4,
  formatIpv6,
  ipv4Key,
  keyAfi,
  keyToPrefix,
  normalizePrefix,
  parseIpv4,
  parseIpv6,
  prefixToKey,
  type PrefixKey,
} from "./prefix.js";
