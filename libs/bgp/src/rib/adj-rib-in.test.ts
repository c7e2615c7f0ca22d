import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { PathAttributes, UpdateMessage } from "../codec/types.js";
import { AdjRibIn } from "./adj-rib-in.js";
import { attributeKey } from "./attributes.js";
import { Ipv4Table } from "./ipv4-table.js";
import { normalizePrefix } from "./prefix.js";

const A: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: "192.0.2.1" };
const B: PathAttributes = { ...A, med: 10 };

function update(nlri: string[], attributes: PathAttributes = A, withdrawn: string[] = []): UpdateMessage {
  return { type: 2, withdrawn, attributes, nlri };
}

function v6Update(nlri: string[], withdrawn: string[] = []): UpdateMessage {
  return {
    type: 2,
    withdrawn: [],
    nlri: [],
    attributes: {
      origin: 0,
      asPath: [],
      ...(nlri.length ? { mpReach: { afi: 2, safi: 1, nextHops: ["2001:db8::1"], nlri } } : {}),
      ...(withdrawn.length ? { mpUnreach: { afi: 2, safi: 1, withdrawn } } : {}),
    },
  };
}

describe("AdjRibIn", () => {
  it("applies announcements and withdrawals for both families", () => {
    const rib = new AdjRibIn();
    expect(rib.applyUpdate(update(["10.0.0.0/8", "10.1.0.0/16"]))).toEqual({ announced: 2, withdrawn: 0, ignored: 0 });
    expect(rib.applyUpdate(v6Update(["2001:db8::/32"]))).toEqual({ announced: 1, withdrawn: 0, ignored: 0 });
    expect(rib.count()).toBe(3);
    expect(rib.get("2001:db8::/32")).toEqual({
      prefix: "2001:db8::/32",
      attributes: { origin: 0, asPath: [], mpReach: { afi: 2, safi: 1, nextHops: ["2001:db8::1"], nlri: [] } },
      stale: false,
    });
    expect(rib.applyUpdate(update([], A, ["10.1.0.0/16", "10.9.0.0/16"]))).toEqual({ announced: 0, withdrawn: 1, ignored: 0 });
    expect(rib.applyUpdate(v6Update([], ["2001:db8::/32"]))).toEqual({ announced: 0, withdrawn: 1, ignored: 0 });
    expect([...rib.entries()].map((e) => e.prefix)).toEqual(["10.0.0.0/8"]);
  });

  it("stores one attribute set per distinct set, not per prefix or per UPDATE", () => {
    const rib = new AdjRibIn();
    rib.applyUpdate(update(["10.0.0.0/8"], A));
    rib.applyUpdate(update(["11.0.0.0/8"], { ...A }));
    rib.applyUpdate(update(["12.0.0.0/8"], B));
    expect(rib.attributeSetCount).toBe(2);
    expect(rib.get("11.0.0.0/8")!.attributes).toBe(rib.get("10.0.0.0/8")!.attributes);
    rib.applyUpdate(update(["12.0.0.0/8"], A));
    expect(rib.attributeSetCount).toBe(1);
  });

  it("treat-as-withdraw removes the UPDATE's prefixes instead of storing them (RFC 7606)", () => {
    const rib = new AdjRibIn();
    rib.applyUpdate(update(["10.0.0.0/8"]));
    rib.applyUpdate(v6Update(["2001:db8::/32"]));
    expect(rib.applyUpdate(update(["10.0.0.0/8", "11.0.0.0/8"], B), true)).toEqual({ announced: 0, withdrawn: 1, ignored: 0 });
    expect(rib.applyUpdate(v6Update(["2001:db8::/32"]), true).withdrawn).toBe(1);
    expect(rib.count()).toBe(0);
    expect(rib.attributeSetCount).toBe(0);
  });

  it("graceful restart: mark stale, refresh some, sweep the rest, per family", () => {
    const rib = new AdjRibIn();
    rib.applyUpdate(update(["10.0.0.0/8", "11.0.0.0/8", "12.0.0.0/8"]));
    rib.applyUpdate(v6Update(["2001:db8::/32"]));
    expect(rib.markAllStale(1)).toBe(3);
    expect(rib.staleCount()).toBe(3);
    expect(rib.get("10.0.0.0/8")!.stale).toBe(true);
    expect(rib.get("2001:db8::/32")!.stale).toBe(false);
    rib.applyUpdate(update(["11.0.0.0/8"], B));
    expect(rib.get("11.0.0.0/8")).toMatchObject({ stale: false, attributes: B });
    expect(rib.sweepStale(1)).toBe(2);
    expect([...rib.entries(1)].map((e) => e.prefix)).toEqual(["11.0.0.0/8"]);
    expect(rib.markAllStale(2)).toBe(1);
    expect(rib.sweepStale(2)).toBe(1);
    expect(rib.count(2)).toBe(0);
    expect(rib.attributeSetCount).toBe(1);
  });

  it("iterates in prefix order and clears per family or entirely", () => {
    const rib = new AdjRibIn();
    rib.applyUpdate(update(["192.168.0.0/16", "10.0.0.0/8", "10.0.0.0/16", "9.255.0.0/16"]));
    rib.applyUpdate(v6Update(["2001:db8:2::/48", "2001:db8:10::/48", "::/0"]));
    expect([...rib.entries()].map((e) => e.prefix)).toEqual([
      "9.255.0.0/16",
      "10.0.0.0/8",
      "10.0.0.0/16",
      "192.168.0.0/16",
      "::/0",
      "2001:db8:2::/48",
      "2001:db8:10::/48",
    ]);
    rib.clear(2);
    expect(rib.count()).toBe(4);
    rib.clear();
    expect(rib.count()).toBe(0);
    expect(rib.attributeSetCount).toBe(0);
  });

  it("ignores NLRI of other families or SAFIs", () => {
    const rib = new AdjRibIn();
    const r = rib.applyUpdate({ type: 2, withdrawn: [], nlri: [], attributes: { origin: 0, mpReach: { afi: 1, safi: 2, nextHops: ["192.0.2.1"], nlri: ["10.0.0.0/8"] } } });
    expect(r.ignored).toBe(1);
    expect(rib.count()).toBe(0);
  });

  it("agrees with a model under random operations (property)", () => {
    const prefix = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 20 }), fc.constantFrom(8, 16, 24)).map(([n, l]) => `${n}.0.0.0/${l}`),
      fc.integer({ min: 0, max: 10 }).map((n) => `2001:db8:${n}::/48`),
    );
    const attrs = fc.constantFrom(A, B, { ...A, communities: [1] });
    const op = fc.oneof(
      fc.record({ kind: fc.constant("announce" as const), prefixes: fc.array(prefix, { maxLength: 5 }), attributes: attrs, taw: fc.boolean() }),
      fc.record({ kind: fc.constant("withdraw" as const), prefixes: fc.array(prefix, { maxLength: 5 }) }),
      fc.record({ kind: fc.constant("stale" as const), afi: fc.constantFrom(1, 2) }),
      fc.record({ kind: fc.constant("sweep" as const), afi: fc.constantFrom(1, 2) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const rib = new AdjRibIn();
        const model = new Map<string, { key: string; stale: boolean }>();
        const afiOf = (p: string) => (p.includes(":") ? 2 : 1);
        for (const o of ops) {
          if (o.kind === "announce") {
            const v4 = o.prefixes.filter((p) => afiOf(p) === 1);
            const v6 = o.prefixes.filter((p) => afiOf(p) === 2);
            const attributes: PathAttributes = { ...o.attributes, ...(v6.length ? { mpReach: { afi: 2, safi: 1, nextHops: ["2001:db8::1"], nlri: v6 } } : {}) };
            rib.applyUpdate({ type: 2, withdrawn: [], attributes, nlri: v4 }, o.taw);
            for (const p of o.prefixes) {
              const n = normalizePrefix(p)!;
              if (o.taw) model.delete(n);
              else {
                const stored: PathAttributes = { ...o.attributes };
                if (afiOf(p) === 2) {
                  delete stored.nextHop;
                  stored.mpReach = { afi: 2, safi: 1, nextHops: ["2001:db8::1"], nlri: [] };
                }
                model.set(n, { key: attributeKey(stored), stale: false });
              }
            }
          } else if (o.kind === "withdraw") {
            for (const p of o.prefixes) {
              rib.withdraw(p);
              model.delete(normalizePrefix(p)!);
            }
          } else if (o.kind === "stale") {
            rib.markAllStale(o.afi);
            for (const [p, v] of model) if (afiOf(p) === o.afi) v.stale = true;
          } else {
            rib.sweepStale(o.afi);
            for (const [p, v] of [...model]) if (afiOf(p) === o.afi && v.stale) model.delete(p);
          }
          const actual = new Map([...rib.entries()].map((e) => [e.prefix, { key: attributeKey(e.attributes), stale: e.stale }]));
          expect(actual).toEqual(model);
          expect(rib.count()).toBe(model.size);
          expect(rib.staleCount()).toBe([...model.values()].filter((v) => v.stale).length);
          expect(rib.attributeSetCount).toBe(new Set([...model.values()].map((v) => v.key)).size);
        }
      }),
    );
  });

  it("Ipv4Table agrees with a Map through inserts, deletes and growth (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 32 })), { maxLength: 3000 }), (ops) => {
        const t = new Ipv4Table();
        const m = new Map<number, number>();
        ops.forEach(([insert, a, l], i) => {
          const address = (a * 2654435761) >>> 0;
          const key = address * 64 + l;
          if (insert) {
            expect(t.set(address, l, i)).toBe(m.get(key));
            m.set(key, i);
          } else {
            expect(t.delete(address, l)).toBe(m.get(key));
            m.delete(key);
          }
        });
        expect(t.size).toBe(m.size);
        for (const [key, value] of m) expect(t.get(Math.floor(key / 64), key % 64)).toBe(value);
        expect([...t.sortedKeys()]).toEqual([...m.keys()].sort((x, y) => x - y));
      }),
      { numRuns: 50 },
    );
  });

  it("holds 1,000,000 IPv4 prefixes within a small memory budget", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    gc();
    const before = process.memoryUsage();
    const rib = new AdjRibIn();
    const attributeSets: PathAttributes[] = Array.from({ length: 100 }, (_, i) => ({ ...A, med: i }));
    const batch: string[] = [];
    for (let i = 0; i < 1_000_000; i++) {
      // 1M distinct /24s spread over the address space, 100 prefixes an UPDATE.
      const n = i + (1 << 16);
      batch.push(`${n >>> 16}.${(n >>> 8) & 255}.${n & 255}.0/24`);
      if (batch.length === 100) {
        rib.applyUpdate(update(batch.splice(0), attributeSets[(i / 100) % 100 | 0]));
      }
    }
    gc();
    const after = process.memoryUsage();
    // heapUsed is per isolate; arrayBuffers is process-wide (noisy under a parallel runner), so the table's typed arrays are counted exactly instead.
    const heap = after.heapUsed - before.heapUsed;
    expect(rib.count(1)).toBe(1_000_000);
    expect(rib.attributeSetCount).toBe(100);
    expect(heap).toBeLessThan(8 * 1024 * 1024);
    expect(rib.ipv4TableBytes).toBeLessThanOrEqual(19 * 1024 * 1024); // 2^21 slots × 9 bytes
    expect(rib.get("1.0.0.0/24")).toMatchObject({ attributes: { med: 0 } });
    expect(rib.withdraw("2.0.0.0/24")).toBe(true);
    expect(rib.count()).toBe(999_999);
  });
});
