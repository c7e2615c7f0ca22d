#!/usr/bin/env node
/**
 * Generates the svcbgp.io/v1 CRDs in this directory. The schemas' IP, CIDR,
 * port, community and duration patterns are long regular expressions (RE2 and
 * JavaScript compatible, no lookarounds); edit them here, then run
 *   node deploy/kubernetes/crds/generate.mjs
 * test/packaging/crd-schema.test.ts fails when the YAML is not what this writes,
 * and checks the schemas against libs/config's validation.
 */
import { writeFileSync } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";

const outDir = process.argv[2] ?? dirname(fileURLToPath(import.meta.url));

const OCT = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
const V4 = `(${OCT}\\.){3}${OCT}`;
const H = "[0-9a-fA-F]{1,4}";
const V6 = [
  `(${H}:){7}${H}`,
  `(${H}:){1,7}:`,
  `(${H}:){1,6}:${H}`,
  `(${H}:){1,5}(:${H}){1,2}`,
  `(${H}:){1,4}(:${H}){1,3}`,
  `(${H}:){1,3}(:${H}){1,4}`,
  `(${H}:){1,2}(:${H}){1,5}`,
  `${H}:(:${H}){1,6}`,
  `:((:${H}){1,7}|:)`,
  `(${H}:){6}${V4}`,
  `(${H}:){1,5}:${V4}`,
  `::(ffff(:0{1,4})?:)?${V4}`,
].join("|");
const P4 = "(3[0-2]|[12]?[0-9])";
const P6 = "(12[0-8]|1[01][0-9]|[1-9]?[0-9])";
const PORT = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})";
const U16 = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}|0)";
const U32 = "(429496729[0-5]|42949672[0-8][0-9]|4294967[01][0-9]{2}|429496[0-6][0-9]{3}|42949[0-5][0-9]{4}|4294[0-8][0-9]{5}|429[0-3][0-9]{6}|42[0-8][0-9]{7}|4[01][0-9]{8}|[1-3][0-9]{9}|[1-9][0-9]{0,8}|0)";

const patterns = {
  cidr: `^(${V4}/${P4}|(${V6})/${P6})$`,
  ip: `^(${V4}|${V6})$`,
  peerIP: `^(${V4}(:${PORT})?|(${V6})|\\[(${V6})\\](:${PORT})?)$`,
  community: `^(${U16}:${U16}|${U32}:${U32}:${U32}|no-export|no-advertise|no-export-subconfed|no-peer)$`,
  duration: "^(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$",
};

const ASN = (what) => ({ type: "integer", format: "int64", minimum: 1, maximum: 4294967295, description: what });
const duration = (what) => ({ type: "string", pattern: patterns.duration, maxLength: 64, description: `${what} A Go duration: 90s, 1m30s, 500ms (at most 65535s).` });
const cidrBlocks = (what) => ({
  type: "array",
  description: what,
  maxItems: 256,
  items: {
    type: "object",
    required: ["cidr"],
    properties: { cidr: { type: "string", pattern: patterns.cidr, maxLength: 64, description: "An IPv4 or IPv6 CIDR, e.g. 10.49.0.0/16 or fd00:49::/112. A /32 or /128 is a single-IP range." } },
  },
});

const IGNORED = "A Calico field, accepted so Calico manifests apply unchanged; svcbgp ignores it.";
const ignoredString = { type: "string", description: IGNORED };
const secretRef = {
  type: "object",
  required: ["name", "key"],
  properties: {
    name: { type: "string", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", description: "The Secret's name, in svcbgp-system." },
    key: { type: "string", maxLength: 253, pattern: "^[-._a-zA-Z0-9]+$", description: "The key in the Secret's data." },
    optional: { type: "boolean", description: "Whether the Secret or key may be missing." },
  },
};

const configSpec = {
  type: "object",
  description: "Cluster-wide BGP settings: which Service IP ranges every node advertises. svcbgp reads the resource named `default`; the spec has the shape of Calico's projectcalico.org/v3 BGPConfiguration.",
  properties: {
    asNumber: ASN("The nodes' AS number when a peer does not set localASNumber. Default 64512."),
    serviceClusterIPs: cidrBlocks("Service cluster-IP ranges to advertise from every node. Cluster IPs of Services with a Local traffic policy are also advertised as /32 or /128 host routes from the nodes with a local endpoint."),
    serviceExternalIPs: cidrBlocks("Ranges that Service spec.externalIPs may use. External IPs outside every range are never advertised."),
    serviceLoadBalancerIPs: cidrBlocks("Ranges that Service status.loadBalancer.ingress IPs may use."),
    serviceLoadBalancerAggregation: { type: "string", enum: ["Enabled", "Disabled"], description: "Enabled (the default) advertises the serviceLoadBalancerIPs CIDRs themselves from every node; Disabled advertises only host routes for assigned IPs." },
    communities: {
      type: "array",
      maxItems: 256,
      description: "Named BGP communities that prefixAdvertisements may refer to.",
      items: {
        type: "object",
        required: ["name", "value"],
        properties: {
          name: { type: "string", minLength: 1, maxLength: 128, description: "The name prefixAdvertisements use." },
          value: { type: "string", pattern: patterns.community, description: "A standard community (aa:nn, 16-bit parts), a large community (aa:nn:mm, 32-bit parts) or a well-known name (no-export, no-advertise, no-export-subconfed, no-peer)." },
        },
      },
    },
    prefixAdvertisements: {
      type: "array",
      maxItems: 256,
      description: "Communities to attach to routes inside a CIDR; the most specific matching entry wins.",
      items: {
        type: "object",
        required: ["cidr"],
        properties: {
          cidr: { type: "string", pattern: patterns.cidr, maxLength: 64, description: "The CIDR whose routes (itself and anything inside it) get these communities." },
          communities: {
            type: "array",
            maxItems: 32,
            description: "Community names from spec.communities, or literal values (aa:nn or aa:nn:mm).",
            items: { type: "string", minLength: 1, maxLength: 128 },
          },
        },
      },
    },
    listenPort: { type: "integer", minimum: 1, maximum: 65535, description: "When set, speakers also accept incoming BGP connections on this port (port 179 needs NET_BIND_SERVICE). Unset: speakers only dial out." },
    advertisePodCIDRs: { type: "boolean", description: "svcbgp extension: each node also advertises its spec.podCIDRs." },
    nodeToNodeMeshEnabled: { type: "boolean", description: IGNORED },
    logSeverityScreen: ignoredString,
    bindMode: ignoredString,
    ignoredInterfaces: { type: "array", items: { type: "string" }, description: IGNORED },
    nodeMeshPassword: { type: "object", description: IGNORED, properties: { secretKeyRef: secretRef } },
    nodeMeshMaxRestartTime: ignoredString,
    localWorkloadPeeringIPV4: ignoredString,
    localWorkloadPeeringIPV6: ignoredString,
  },
};

const peerSpec = {
  type: "object",
  "x-kubernetes-validations": [{ rule: "!(has(self.node) && has(self.nodeSelector))", message: "node and nodeSelector are mutually exclusive" }],
  description: "A BGP peer (a ToR router) that every node, one node or the nodes matching a selector peer with. The spec has the shape of Calico's projectcalico.org/v3 BGPPeer.",
  required: ["peerIP", "asNumber"],
  properties: {
    peerIP: { type: "string", pattern: patterns.peerIP, maxLength: 64, description: "The peer's IP address, optionally with a port: 192.168.1.1, 192.168.1.1:1790, fd00::1, [fd00::1]:1790." },
    asNumber: ASN("The peer's AS number. Equal to the local AS: iBGP; different: eBGP."),
    localASNumber: ASN("The AS number the nodes use towards this peer, overriding BGPConfiguration asNumber."),
    node: { type: "string", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", description: "Only this node peers (mutually exclusive with nodeSelector). Unset with no nodeSelector: every node peers." },
    nodeSelector: { type: "string", maxLength: 1024, description: "Only nodes whose labels match this selector peer, e.g. \"rack == 'r1'\" or \"all()\"." },
    password: {
      type: "object",
      description: "TCP-MD5 (RFC 2385) password. The Secret must be in the watcher's namespace (svcbgp-system).",
      required: ["secretKeyRef"],
      properties: {
        secretKeyRef: secretRef,
      },
    },
    sourceAddress: { type: "string", pattern: `^(UseNodeIP|None|${patterns.ip.slice(2, -2)})$`, maxLength: 64, description: "UseNodeIP (the default) binds the session to the node's IP; None lets the kernel choose; or an IP address." },
    keepaliveTime: duration("Keepalive interval; the hold time is three times this."),
    maxRestartTime: duration("Graceful restart: how long the peer keeps our routes while the speaker restarts."),
    holdTime: duration("svcbgp extension: the hold time to offer (0, or at least 3s)."),
    ttlSecurity: { type: "integer", minimum: 0, maximum: 255, description: "GTSM (RFC 5082): the number of hops the peer may be away; 0 disables." },
    numAllowedLocalASNumbers: { type: "integer", minimum: 0, maximum: 255, description: "How many times the local AS may appear in a received AS path." },
    failureDetectionMode: ignoredString,
    restartMode: ignoredString,
    birdGatewayMode: ignoredString,
    keepOriginalNextHop: { type: "boolean", description: IGNORED },
    filters: { type: "array", items: { type: "string" }, description: IGNORED },
    reachableBy: ignoredString,
    nextHopMode: ignoredString,
  },
};

function crd(kind, plural, spec, columns) {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.svcbgp.io`, labels: { "app.kubernetes.io/name": "svcbgp", "app.kubernetes.io/part-of": "svcbgp" } },
    spec: {
      group: "svcbgp.io",
      scope: "Cluster",
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), categories: ["svcbgp"] },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          additionalPrinterColumns: columns,
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: `${kind} (svcbgp.io/v1). Unknown fields are not part of the schema: the API server prunes them, and rejects them under strict field validation (kubectl's default).`,
              required: kind === "BGPPeer" ? ["spec"] : undefined,
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec,
              },
            },
          },
        },
      ],
    },
  };
}

writeFileSync(`${outDir}/svcbgp.io_bgpconfigurations.yaml`, "# svcbgp.io/v1 BGPConfiguration: the same spec shape as Calico's projectcalico.org/v3 BGPConfiguration.\n# Generated by generate.mjs in this directory: edit that, not this.\n" + stringify(crd("BGPConfiguration", "bgpconfigurations", configSpec, [
  { name: "ASN", type: "integer", jsonPath: ".spec.asNumber" },
  { name: "Cluster IPs", type: "string", jsonPath: ".spec.serviceClusterIPs[*].cidr" },
  { name: "External IPs", type: "string", jsonPath: ".spec.serviceExternalIPs[*].cidr" },
  { name: "LB IPs", type: "string", jsonPath: ".spec.serviceLoadBalancerIPs[*].cidr" },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
]), { lineWidth: 0, aliasDuplicateObjects: false }));
writeFileSync(`${outDir}/svcbgp.io_bgppeers.yaml`, "# svcbgp.io/v1 BGPPeer: the same spec shape as Calico's projectcalico.org/v3 BGPPeer.\n# Generated by generate.mjs in this directory: edit that, not this.\n" + stringify(crd("BGPPeer", "bgppeers", peerSpec, [
  { name: "Peer IP", type: "string", jsonPath: ".spec.peerIP" },
  { name: "ASN", type: "integer", jsonPath: ".spec.asNumber" },
  { name: "Local ASN", type: "integer", jsonPath: ".spec.localASNumber", priority: 1 },
  { name: "Node", type: "string", jsonPath: ".spec.node" },
  { name: "Node Selector", type: "string", jsonPath: ".spec.nodeSelector" },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
]), { lineWidth: 0, aliasDuplicateObjects: false }));
