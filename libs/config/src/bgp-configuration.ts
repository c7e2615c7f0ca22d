/**
 * BGPConfiguration: Calico's projectcalico.org/v3 spec (the fields svcbgp
 * acts on) plus the svcbgp extension `advertisePodCIDRs`. Only the resource
 * named `default` is in force.
 */
import { z } from "zod";
import { parseCommunityValue, resolveCommunity, type CommunityValue } from "./community.js";
import { parseCidr, type Cidr } from "./prefix.js";
import { asNumber, cidrString, CONFIG_API_VERSIONS, describe, ignored, integer, metadata } from "./schema-common.js";

/** The BGPConfiguration name that is in force. */
export const DEFAULT_BGP_CONFIGURATION = "default";
/** Calico's default AS number. */
export const DEFAULT_AS_NUMBER = 64512;

const cidrEntry = z.strictObject({ cidr: cidrString });
// `serviceClusterIPs:` with no value is null in YAML; the seed writes exactly that.
const cidrList = z.array(cidrEntry, { error: (issue) => `must be a list of {cidr: ...}, got ${describe(issue.input)}` }).nullish();

const communityName = z.string().min(1, { error: "community name must not be empty" });

const bgpConfigurationSpec = z
  .strictObject({
    asNumber: asNumber.optional(),
    serviceClusterIPs: cidrList,
    serviceExternalIPs: cidrList,
    serviceLoadBalancerIPs: cidrList,
    serviceLoadBalancerAggregation: z
      .enum(["Enabled", "Disabled"], { error: (issue) => `must be "Enabled" or "Disabled", got ${describe(issue.input)}` })
      .optional(),
    communities: z
      .array(
        z.strictObject({
          name: communityName,
          value: z.string().superRefine((value, ctx) => {
            if (!parseCommunityValue(value)) {
              ctx.addIssue({ code: "custom", message: `"${value}" is not a community: use "asn:value" (16-bit each) or "global:local1:local2" (32-bit each)` });
            }
          }),
        }),
      )
      .nullish(),
    prefixAdvertisements: z
      .array(z.strictObject({ cidr: cidrString, communities: z.array(z.string()).nullish() }))
      .nullish(),
    listenPort: integer(1, 65535, "listenPort").optional(),
    advertisePodCIDRs: z.boolean({ error: (issue) => `must be true or false, got ${describe(issue.input)}` }).optional(),
    ...ignored([
      "nodeToNodeMeshEnabled",
      "logSeverityScreen",
      "bindMode",
      "ignoredInterfaces",
      "nodeMeshPassword",
      "nodeMeshMaxRestartTime",
      "localWorkloadPeeringIPV4",
      "localWorkloadPeeringIPV6",
    ]),
  })
  .superRefine((spec, ctx) => {
    const names = new Set<string>();
    spec.communities?.forEach((community, index) => {
      if (names.has(community.name)) ctx.addIssue({ code: "custom", path: ["communities", index, "name"], message: `duplicate community name "${community.name}"` });
      names.add(community.name);
    });
    spec.prefixAdvertisements?.forEach((advertisement, index) => {
      advertisement.communities?.forEach((reference, j) => {
        if (!names.has(reference) && !parseCommunityValue(reference)) {
          ctx.addIssue({
            code: "custom",
            path: ["prefixAdvertisements", index, "communities", j],
            message: `"${reference}" is neither a name in spec.communities nor a community value`,
          });
        }
      });
    });
  });

export const bgpConfigurationSchema = z.strictObject({
  apiVersion: z.enum(CONFIG_API_VERSIONS, { error: (issue) => `must be one of ${CONFIG_API_VERSIONS.join(", ")}, got ${describe(issue.input)}` }),
  kind: z.literal("BGPConfiguration"),
  metadata,
  spec: bgpConfigurationSpec.nullish(),
  // Status is written by controllers, never by users; tolerate it.
  status: z.unknown().optional(),
});

export interface PrefixAdvertisement {
  readonly cidr: Cidr;
  readonly communities: readonly CommunityValue[];
}

/** A validated BGPConfiguration with every value parsed. */
export interface BGPConfigurationValue {
  readonly kind: "BGPConfiguration";
  readonly apiVersion: string;
  readonly name: string;
  readonly asNumber: number | undefined;
  readonly serviceClusterIPs: readonly Cidr[];
  readonly serviceExternalIPs: readonly Cidr[];
  readonly serviceLoadBalancerIPs: readonly Cidr[];
  readonly serviceLoadBalancerAggregation: "Enabled" | "Disabled";
  /** Named communities, in declaration order. */
  readonly communities: ReadonlyMap<string, CommunityValue>;
  readonly prefixAdvertisements: readonly PrefixAdvertisement[];
  readonly listenPort: number | undefined;
  readonly advertisePodCIDRs: boolean;
}

type ParsedBgpConfiguration = z.output<typeof bgpConfigurationSchema>;

function cidrs(entries: readonly { cidr: string }[] | null | undefined): Cidr[] {
  // Validation already proved every entry parses.
  return (entries ?? []).map((entry) => parseCidr(entry.cidr) as Cidr);
}

export function toBgpConfigurationValue(parsed: ParsedBgpConfiguration): BGPConfigurationValue {
  const spec = parsed.spec ?? {};
  const communities = new Map<string, CommunityValue>();
  for (const community of spec.communities ?? []) communities.set(community.name, parseCommunityValue(community.value) as CommunityValue);
  return {
    kind: "BGPConfiguration",
    apiVersion: parsed.apiVersion,
    name: parsed.metadata.name,
    asNumber: spec.asNumber,
    serviceClusterIPs: cidrs(spec.serviceClusterIPs),
    serviceExternalIPs: cidrs(spec.serviceExternalIPs),
    serviceLoadBalancerIPs: cidrs(spec.serviceLoadBalancerIPs),
    serviceLoadBalancerAggregation: spec.serviceLoadBalancerAggregation ?? "Enabled",
    communities,
    prefixAdvertisements: (spec.prefixAdvertisements ?? []).map((advertisement) => ({
      cidr: parseCidr(advertisement.cidr) as Cidr,
      communities: (advertisement.communities ?? []).map((reference) => resolveCommunity(reference, communities) as CommunityValue),
    })),
    listenPort: spec.listenPort,
    advertisePodCIDRs: spec.advertisePodCIDRs ?? false,
  };
}
