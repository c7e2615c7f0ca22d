import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { create, equals, type MessageInitShape } from "@bufbuild/protobuf";
import { NodeIntentSchema, RouteKind, applyDelta, diffIntents, isEmptyDelta, peerKey, type NodeIntent } from "./index.js";

const baseInit: MessageInitShape<typeof NodeIntentSchema> = {
  nodeName: "node-1",
  routerId: "192.168.1.10",
  localAsn: 64512,
  peers: [{ address: "192.168.1.1", asn: 64512 }],
  routes: [
    { prefix: "10.49.0.0/16", reasons: [{ source: "default", kind: RouteKind.CLUSTER_IP_RANGE }] },
    { prefix: "10.49.62.131/32", reasons: [{ source: "default/nginx", kind: RouteKind.CLUSTER_IP }] },
  ],
};
const base = create(NodeIntentSchema, baseInit);

describe("diffIntents", () => {
  it("is empty between equal intents", () => {
    const delta = diffIntents(base, create(NodeIntentSchema, base));
    expect(delta && isEmptyDelta(delta)).toBe(true);
  });

  it("carries only the changed routes and peers", () => {
    const next = create(NodeIntentSchema, {
      ...baseInit,
      peers: [{ address: "192.168.1.1", asn: 64512, holdTime: 9 }, { address: "fd00::1", port: 1179, asn: 65000 }],
      routes: [baseInit.routes![0], { prefix: "192.168.3.0/24", reasons: [{ source: "default", kind: RouteKind.EXTERNAL_IP_RANGE }] }],
    });
    const delta = diffIntents(base, next, 4n)!;
    expect(delta.baseRevision).toBe(4n);
    expect(delta.upsertedRoutes.map((r) => r.prefix)).toEqual(["192.168.3.0/24"]);
    expect(delta.withdrawnPrefixes).toEqual(["10.49.62.131/32"]);
    expect(delta.upsertedPeers.map(peerKey)).toEqual(["192.168.1.1", "[fd00::1]:1179"]);
    expect(delta.removedPeers).toEqual([]);
  });

  it("asks for a snapshot when a node-level field changes", () => {
    expect(diffIntents(base, create(NodeIntentSchema, { ...baseInit, localAsn: 65001 }))).toBeUndefined();
  });

  it("applyDelta(a, diff(a, b)) equals b for any route and peer sets", () => {
    const routeArb = fc.record({ prefix: fc.constantFrom("10.0.0.0/8", "10.1.0.0/16", "10.49.62.131/32", "fd00::/64"), localPref: fc.option(fc.nat(300), { nil: undefined }) });
    const peerArb = fc.record({ address: fc.constantFrom("192.0.2.1", "192.0.2.2", "fd00::1"), port: fc.constantFrom(0, 1179), asn: fc.integer({ min: 1, max: 70000 }) });
    const intentArb = fc
      .record({ routes: fc.uniqueArray(routeArb, { selector: (r) => r.prefix }), peers: fc.uniqueArray(peerArb, { selector: (p) => peerKey(p) }) })
      .map(({ routes, peers }) => create(NodeIntentSchema, { nodeName: "n", routes: [...routes].sort((a, b) => (a.prefix < b.prefix ? -1 : 1)), peers }));
    const sortPeers = (i: NodeIntent) => create(NodeIntentSchema, { ...i, peers: [...i.peers].sort((a, b) => (peerKey(a) < peerKey(b) ? -1 : 1)) });
    fc.assert(
      fc.property(intentArb, intentArb, (a, b) => {
        const applied = applyDelta(a, diffIntents(a, b)!);
        expect(equals(NodeIntentSchema, sortPeers(applied), sortPeers(b))).toBe(true);
      }),
    );
  });
});
