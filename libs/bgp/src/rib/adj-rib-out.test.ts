import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { PathAttributes } from "../codec/types.js";
import { AdjRibOut, isWithdrawGroup, type RibOutRoute, type UpdateGroup } from "./adj-rib-out.js";
import { attributeKey } from "./attributes.js";
import { normalizePrefix } from "./prefix.js";

const A: PathAttributes = { origin: 0, asPath: [], nextHop: "192.168.1.10", localPref: 100 };
const B: PathAttributes = { ...A, communities: [0xffffff01] };
const V6: PathAttributes = { origin: 0, asPath: [], localPref: 100, mpReach: { afi: 2, safi: 1, nextHops: ["2001:db8::10"], nlri: [] } };

const route = (attributes: PathAttributes): RibOutRoute => ({ attributes });
const table = (entries: Array<[string, PathAttributes]>) => new Map(entries.map(([p, a]) => [p, route(a)]));

/** The peer's view: what applying the groups in order leaves. */
function apply(peer: Map<string, string>, groups: UpdateGroup[]): Map<string, string> {
  for (const g of groups) {
    if (isWithdrawGroup(g)) for (const p of g.withdrawn) peer.delete(p);
    else for (const p of g.nlri) peer.set(p, attributeKey(g.attributes));
  }
  return peer;
}

function expected(desired: Map<string, RibOutRoute>): Map<string, string> {
  return new Map([...desired].map(([p, r]) => [normalizePrefix(p)!, attributeKey(r.attributes)]));
}

describe("AdjRibOut", () => {
  it("groups announcements by attribute set and batches withdrawals per family", () => {
    const rib = new AdjRibOut();
    const groups = rib.setDesired(table([["10.49.0.0/16", A], ["192.168.3.0/24", A], ["10.49.62.131/32", B], ["2001:db8::/32", V6]]));
    expect(groups).toEqual([
      { attributes: A, nlri: ["10.49.0.0/16", "192.168.3.0/24"] },
      { attributes: B, nlri: ["10.49.62.131/32"] },
      { attributes: V6, nlri: ["2001:db8::/32"] },
    ]);
    expect(rib.setDesired(table([["192.168.3.0/24", A]]))).toEqual([
      { withdrawn: ["10.49.0.0/16", "10.49.62.131/32"], afi: 1 },
      { withdrawn: ["2001:db8::/32"], afi: 2 },
    ]);
  });

  it("produces nothing when nothing changed, even with equal but distinct attribute objects", () => {
    const rib = new AdjRibOut();
    rib.setDesired(table([["10.0.0.0/8", A]]));
    expect(rib.setDesired(table([["10.0.0.0/8", { ...A, asPath: [] }]]))).toEqual([]);
    expect(rib.upsert("10.0.0.0/8", route({ ...A }))).toEqual([]);
    expect(rib.attributeSetCount).toBe(1);
  });

  it("upsert re-announces on an attribute change; withdraw only what is there", () => {
    const rib = new AdjRibOut();
    expect(rib.upsert("10.0.0.0/8", route(A))).toEqual([{ attributes: A, nlri: ["10.0.0.0/8"] }]);
    expect(rib.upsert("10.0.0.0/8", route(B))).toEqual([{ attributes: B, nlri: ["10.0.0.0/8"] }]);
    expect(rib.attributeSetCount).toBe(1); // A released
    expect(rib.withdraw("10.0.0.0/8")).toEqual([{ withdrawn: ["10.0.0.0/8"], afi: 1 }]);
    expect(rib.withdraw("10.0.0.0/8")).toEqual([]);
    expect(rib.attributeSetCount).toBe(0);
  });

  it("fullTable: the whole table, or one family (ROUTE-REFRESH)", () => {
    const rib = new AdjRibOut();
    rib.setDesired(table([["10.0.0.0/8", A], ["2001:db8::/32", V6]]));
    expect(rib.fullTable()).toEqual([{ attributes: A, nlri: ["10.0.0.0/8"] }, { attributes: V6, nlri: ["2001:db8::/32"] }]);
    expect(rib.fullTable(2)).toEqual([{ attributes: V6, nlri: ["2001:db8::/32"] }]);
    expect(rib.count(1)).toBe(1);
    expect([...rib.entries()].map((e) => e.prefix)).toEqual(["10.0.0.0/8", "2001:db8::/32"]);
    expect(rib.withdrawAll()).toEqual([{ withdrawn: ["10.0.0.0/8"], afi: 1 }, { withdrawn: ["2001:db8::/32"], afi: 2 }]);
  });

  it("canonicalises prefixes and rejects non-prefixes", () => {
    const rib = new AdjRibOut();
    rib.upsert("10.1.2.3/8", route(A));
    expect(rib.get("10.0.0.0/8")).toBe(A);
    expect(() => rib.upsert("nonsense", route(A))).toThrow(RangeError);
  });

  it("10,000 prefixes with one attribute set form one group", () => {
    const rib = new AdjRibOut();
    const desired = new Map<string, RibOutRoute>();
    for (let i = 0; i < 10_000; i++) desired.set(`10.${i >> 8}.${i & 255}.0/24`, route({ ...A }));
    const groups = rib.setDesired(desired);
    expect(groups).toHaveLength(1);
    expect((groups[0] as { nlri: string[] }).nlri).toHaveLength(10_000);
  });

  describe("properties", () => {
    const attrs = fc.constantFrom<PathAttributes>(A, B, { ...A, localPref: 200 }, { ...A, communities: [1, 2] }, { ...A, communities: [2, 1] }, V6);
    const v4Prefix = fc.tuple(fc.integer({ min: 0, max: 15 }), fc.constantFrom(16, 24, 32)).map(([n, l]) => `10.${n}.0.0/${l}`);
    const v6Prefix = fc.integer({ min: 0, max: 7 }).map((n) => `2001:db8:${n}::/48`);
    const desiredTable = fc
      .array(fc.oneof(fc.tuple(v4Prefix, attrs.filter((a) => a !== V6)), fc.tuple(v6Prefix, fc.constant(V6))), { maxLength: 30 })
      .map((entries) => table(entries));

    it("applying the change sets to the peer always yields the desired table", () => {
      fc.assert(
        fc.property(fc.array(desiredTable, { minLength: 1, maxLength: 6 }), (tables) => {
          const rib = new AdjRibOut();
          const peer = new Map<string, string>();
          for (const desired of tables) {
            apply(peer, rib.setDesired(desired));
            expect(peer).toEqual(expected(desired));
            // fullTable replayed into an empty peer gives the same table.
            expect(apply(new Map(), rib.fullTable())).toEqual(expected(desired));
          }
        }),
      );
    });

    it("every group has one attribute set, no prefix appears twice, no group is empty, unchanged prefixes are not sent", () => {
      fc.assert(
        fc.property(desiredTable, desiredTable, (first, second) => {
          const rib = new AdjRibOut();
          rib.setDesired(first);
          const before = expected(first);
          const groups = rib.setDesired(second);
          const after = expected(second);
          const seen = new Set<string>();
          const keys = new Set<string>();
          for (const g of groups) {
            const prefixes = isWithdrawGroup(g) ? g.withdrawn : g.nlri;
            expect(prefixes.length).toBeGreaterThan(0);
            for (const p of prefixes) {
              expect(seen.has(p)).toBe(false);
              seen.add(p);
              if (isWithdrawGroup(g)) expect(after.has(p)).toBe(false);
              else {
                expect(after.get(p)).toBe(attributeKey(g.attributes));
                expect(before.get(p)).not.toBe(after.get(p));
              }
            }
            if (!isWithdrawGroup(g)) {
              const key = attributeKey(g.attributes);
              expect(keys.has(key)).toBe(false);
              keys.add(key);
            }
          }
          // Minimality: exactly the prefixes whose state differs are in the change set.
          const differing = new Set([...before.keys(), ...after.keys()].filter((p) => before.get(p) !== after.get(p)));
          expect(seen).toEqual(differing);
        }),
      );
    });

    it("upsert/withdraw sequences agree with a model", () => {
      const op = fc.oneof(
        fc.tuple(fc.constant("upsert" as const), v4Prefix, attrs.filter((a) => a !== V6)),
        fc.tuple(fc.constant("withdraw" as const), v4Prefix, fc.constant(A)),
      );
      fc.assert(
        fc.property(fc.array(op, { maxLength: 50 }), (ops) => {
          const rib = new AdjRibOut();
          const peer = new Map<string, string>();
          const model = new Map<string, string>();
          for (const [kind, prefix, a] of ops) {
            const p = normalizePrefix(prefix)!;
            if (kind === "upsert") {
              apply(peer, rib.upsert(prefix, route(a)));
              model.set(p, attributeKey(a));
            } else {
              apply(peer, rib.withdraw(prefix));
              model.delete(p);
            }
            expect(peer).toEqual(model);
          }
          expect(rib.size).toBe(model.size);
          expect(rib.attributeSetCount).toBe(new Set(model.values()).size);
        }),
      );
    });
  });
});

describe("AdjRibOut.change", () => {
  it("batches many upserts sharing attributes into one group and withdrawals into one", () => {
    const rib = new AdjRibOut();
    const attributes = { origin: 0 as const, asPath: [], nextHop: "192.0.2.1", localPref: 100 };
    const upserts = new Map(Array.from({ length: 50 }, (_, i) => [`10.0.${i}.0/24`, { attributes }] as const));
    const first = rib.change(upserts, []);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ nlri: expect.arrayContaining(["10.0.0.0/24", "10.0.49.0/24"]) });
    const second = rib.change(new Map(), ["10.0.1.0/24", "10.0.2.0/24", "10.9.9.0/24"]);
    expect(second).toEqual([{ withdrawn: ["10.0.1.0/24", "10.0.2.0/24"], afi: 1 }]);
    expect(rib.count()).toBe(48);
  });
});
