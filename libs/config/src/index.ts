/**
 * @svcbgp/config: resource schemas (BGPConfiguration, BGPPeer), validation
 * with operator-readable issues, prefix utilities and YAML manifest loading.
 */
export * from "./prefix.js";
export * from "./duration.js";
export * from "./selector.js";
export * from "./community.js";
export { CALICO_API_VERSION, SVCBGP_API_VERSION, CONFIG_API_VERSIONS, MAX_ASN } from "./schema-common.js";
export {
  bgpConfigurationSchema,
  DEFAULT_AS_NUMBER,
  DEFAULT_BGP_CONFIGURATION,
  toBgpConfigurationValue,
  type BGPConfigurationValue,
  type PrefixAdvertisement,
} from "./bgp-configuration.js";
export { bgpPeerSchema, parsePeerAddress, toBgpPeerValue, type BGPPeerValue, type PeerAddress, type SourceAddressMode } from "./bgp-peer.js";
export {
  formatIssue,
  formatPath,
  validateBgpConfiguration,
  validateBgpPeer,
  validateResource,
  type ConfigIssueRecord,
  type ConfigKind,
  type ConfigResource,
  type ValidationResult,
} from "./validate.js";
export {
  parseManifests,
  parseManifestValues,
  type ManifestDocument,
  type ManifestError,
  type ManifestObject,
  type ManifestValue,
  type ParsedManifests,
  type ParsedManifestValues,
} from "./manifests.js";
