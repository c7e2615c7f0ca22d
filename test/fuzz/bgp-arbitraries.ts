/**
 * fast-check generators of valid, canonical BGP messages: shared by the codec's
 * round-trip properties and the decoder fuzz suite (which mutates their encodings).
 *
 * "Canonical" means the decoder gives back exactly the generated value:
 * prefixes with host bits zeroed, booleans only when true, non-empty lists
 * only, and confederation segments with 2-octet ASNs (RFC 6793 never carries
 * them in AS4_PATH, so 4-octet confederation members cannot cross a 2-octet session).
 */
import fc from "fast-check";
import {
  canonicalAddress,
  canonicalPrefix,
  type AsPathSegment,
  type Capability,
  type CodecContext,
  type NotificationMessage,
  type OpenMessage,
  type PathAttributes,
  type RouteRefreshMessage,
  type UpdateMessage,
  type BgpMessage,
} from "../../libs/bgp/src/codec/index.js";

const KNOWN_ATTRS = new Set([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 17, 18, 32]);
const KNOWN_CAPS = new Set([1, 2, 6, 64, 65]);

export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });

export const ctxArb: fc.Arbitrary<CodecContext> = fc.record({ fourOctetAs: fc.boolean(), extendedMessage: fc.boolean() });

export const ipv4Arb = fc.tuple(u8, u8, u8, u8).map((o) => o.join("."));
export const nonZeroIpv4Arb = ipv4Arb.filter((a) => a !== "0.0.0.0");

/** IPv6 with zero runs likely, so "::" compression is exercised. */
const word = fc.oneof(fc.constant(0), fc.constant(0), u16);
export const ipv6Arb = fc
  .array(word, { minLength: 8, maxLength: 8 })
  .map((ws) => canonicalAddress(ws.map((w) => w.toString(16)).join(":")));

export const ipv4PrefixArb = fc.tuple(ipv4Arb, fc.integer({ min: 0, max: 32 })).map(([a, l]) => canonicalPrefix(`${a}/${l}`));
export const ipv6PrefixArb = fc.tuple(ipv6Arb, fc.integer({ min: 0, max: 128 })).map(([a, l]) => canonicalPrefix(`${a}/${l}`));

export const asnArb = fc.oneof(fc.integer({ min: 1, max: 65535 }), u32, fc.constant(23456));

const regularSegment: fc.Arbitrary<AsPathSegment> = fc.record({
  type: fc.constantFrom(1 as const, 2 as const),
  asns: fc.array(asnArb, { minLength: 1, maxLength: 8 }),
});
const confedSegment: fc.Arbitrary<AsPathSegment> = fc.record({
  type: fc.constantFrom(3 as const, 4 as const),
  asns: fc.array(fc.integer({ min: 1, max: 65535 }), { minLength: 1, maxLength: 4 }),
});
export const asPathArb: fc.Arbitrary<AsPathSegment[]> = fc.array(fc.oneof({ weight: 4, arbitrary: regularSegment }, { weight: 1, arbitrary: confedSegment }), {
  maxLength: 5,
});

const unknownAttrArb = fc
  .record({
    typeCode: u8.filter((t) => !KNOWN_ATTRS.has(t)),
    flags: fc.constantFrom(0x80, 0xc0, 0xe0, 0x90, 0xd0),
    data: fc.uint8Array({ maxLength: 300 }),
  })
  .map((u) => ({ ...u, flags: u.data.length > 255 ? u.flags | 0x10 : u.flags }));

const mpReachArb = fc.oneof(
  fc.record({
    afi: fc.constant(2),
    safi: fc.constant(1),
    nextHops: fc.oneof(fc.tuple(ipv6Arb), fc.tuple(ipv6Arb, ipv6Arb)),
    nlri: fc.array(ipv6PrefixArb, { maxLength: 15 }),
  }),
  fc.record({
    afi: fc.constant(1),
    safi: fc.constant(1),
    nextHops: fc.tuple(ipv4Arb),
    nlri: fc.array(ipv4PrefixArb, { maxLength: 15 }),
  }),
);

const mpUnreachArb = fc.oneof(
  fc.record({ afi: fc.constant(2), safi: fc.constant(1), withdrawn: fc.array(ipv6PrefixArb, { maxLength: 15 }) }),
  fc.record({ afi: fc.constant(1), safi: fc.constant(1), withdrawn: fc.array(ipv4PrefixArb, { maxLength: 15 }) }),
);

export const attributesArb: fc.Arbitrary<PathAttributes> = fc.record(
  {
    origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
    asPath: asPathArb,
    nextHop: ipv4Arb,
    med: u32,
    localPref: u32,
    atomicAggregate: fc.constant(true),
    aggregator: fc.record({ asn: asnArb, address: ipv4Arb }),
    communities: fc.array(u32, { minLength: 1, maxLength: 10 }),
    largeCommunities: fc.array(fc.tuple(u32, u32, u32), { minLength: 1, maxLength: 5 }),
    mpReach: mpReachArb,
    mpUnreach: mpUnreachArb,
    unknown: fc.uniqueArray(unknownAttrArb, { minLength: 1, maxLength: 3, selector: (u) => u.typeCode }),
  },
  { requiredKeys: [] },
);

export const updateArb: fc.Arbitrary<UpdateMessage> = fc
  .record({
    withdrawn: fc.array(ipv4PrefixArb, { maxLength: 15 }),
    attributes: attributesArb,
    nlri: fc.array(ipv4PrefixArb, { maxLength: 15 }),
  })
  .map(({ withdrawn, attributes, nlri }) => {
    const a = { ...attributes };
    // NLRI needs the mandatory attributes, else the decoder (rightly) says treat-as-withdraw.
    const reach = nlri.length > 0 || (a.mpReach?.nlri.length ?? 0) > 0;
    if (reach) {
      a.origin ??= 0;
      a.asPath ??= [];
    }
    if (nlri.length > 0) a.nextHop ??= "192.0.2.1";
    return { type: 2 as const, withdrawn, attributes: a, nlri };
  });

const gracefulRestartArb = fc.record({
  restarting: fc.boolean(),
  notification: fc.boolean(),
  restartTime: fc.integer({ min: 0, max: 4095 }),
  families: fc.array(fc.record({ afi: u16, safi: u8, forwardingPreserved: fc.boolean() }), { maxLength: 4 }),
});

export const capabilityArb: fc.Arbitrary<Capability> = fc.oneof(
  fc.record({ code: fc.constant(1 as const), kind: fc.constant("multiprotocol" as const), afi: u16, safi: u8 }),
  fc.constant({ code: 2 as const, kind: "route-refresh" as const }),
  fc.constant({ code: 6 as const, kind: "extended-message" as const }),
  fc.record({ code: fc.constant(64 as const), kind: fc.constant("graceful-restart" as const), value: gracefulRestartArb }),
  fc.record({ code: fc.constant(65 as const), kind: fc.constant("four-octet-as" as const), asn: u32 }),
  fc.record({
    code: u8.filter((c) => !KNOWN_CAPS.has(c)),
    kind: fc.constant("unknown" as const),
    data: fc.uint8Array({ maxLength: 24 }),
  }),
);

export const openArb: fc.Arbitrary<OpenMessage> = fc.record({
  type: fc.constant(1 as const),
  version: fc.constant(4),
  myAsn: u16,
  holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
  routerId: nonZeroIpv4Arb,
  // Up to 30 capabilities can exceed 255 bytes, exercising RFC 9072 extended parameters.
  capabilities: fc.array(capabilityArb, { maxLength: 30 }),
});

export const notificationArb: fc.Arbitrary<NotificationMessage> = fc.record({
  type: fc.constant(3 as const),
  code: u8,
  subcode: u8,
  data: fc.uint8Array({ maxLength: 64 }),
});

export const routeRefreshArb: fc.Arbitrary<RouteRefreshMessage> = fc.oneof(
  fc.record({ type: fc.constant(5 as const), afi: u16, safi: u8 }),
  fc.record({ type: fc.constant(5 as const), afi: u16, safi: u8, subtype: fc.integer({ min: 1, max: 255 }) }),
);

export const messageArb: fc.Arbitrary<BgpMessage> = fc.oneof(
  openArb,
  updateArb,
  notificationArb,
  routeRefreshArb,
  fc.constant({ type: 4 as const }),
);
