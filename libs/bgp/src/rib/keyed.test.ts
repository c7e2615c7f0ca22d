/** The keyed path (buildDesiredKeyed → AdjRibOut keyed methods → packIpv4Updates) gives what the text path gives, byte for byte. */
import { describe, expect, it } from "vitest";
import { packIpv4Updates, packUpdates, type CodecContext } from "../codec/index.js";
import { AdjRibOut, keyedGroupPrefixes, type KeyedGroup, type UpdateGroup } from "./adj-rib-out.js";
import { buildDesired, buildDesiredKeyed, buildKeyedBatch, type IntentRoute, type SessionFacts } from "./policy.js";
import { normalizePrefix, prefixToKey } from "./prefix.js";

const FACTS: SessionFacts = { ibgp: false, localAsn: 64512, localAddress: { ipv4: "192.0.2.1", ipv6: "2001:db8::1" }, fourOctetAs: true };
const CTX: CodecContext = { fourOctetAs: true, extendedMessage: false };

function asText(groups: KeyedGroup[]): UpdateGroup[] {
  return groups.map((g) => (g.attributes ? { attributes: g.attributes, nlri: keyedGroupPrefixes(g) } : { withdrawn: keyedGroupPrefixes(g), afi: g.afi }));
}

function wire(groups: KeyedGroup[]): Uint8Array[] {
  return groups.flatMap((g) =>
    g.afi === 1 ? packIpv4Updates(g.attributes ? { attributes: g.attributes, ipv4: g.ipv4 } : { withdrawn: g.ipv4 }, CTX) : packUpdates(asText([g])[0], CTX),
  );
}

function routes(seed: number, n: number): IntentRoute[] {
  const out: IntentRoute[] = [];
  let x = seed;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < n; i++) {
    const r = next();
    const len = [0, 7, 8, 9, 16, 23, 24, 25, 31, 32][r % 10];
    const prefix = r % 7 === 0 ? `2001:db8:${((r >>> 8) & 0xffff).toString(16)}::/${48 + (r % 80)}` : `${r >>> 24}.${(r >>> 16) & 255}.${(r >>> 8) & 255}.${r & 255}/${len}`;
    out.push({ prefix, communities: r % 3 === 0 ? ["65000:1"] : undefined, med: r % 5 === 0 ? 7 : undefined });
  }
  return out;
}

describe("keyed Adj-RIB-Out path", () => {
  it("matches the text path: groups, errors and UPDATE bytes, across changes", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const text = new AdjRibOut();
      const keyed = new AdjRibOut();
      const all = routes(seed, 3000);
      for (let step = 0; step < 4; step++) {
        const upserts = all.filter((_, i) => (i + step) % (step + 2) === 0);
        const withdrawals = all.filter((_, i) => (i * 7 + step) % 5 === 0).map((r) => r.prefix);
        const a = buildDesired(upserts, FACTS);
        const b = buildDesiredKeyed(upserts, FACTS);
        expect(b.errors).toEqual(a.errors);
        const textGroups = step === 0 ? text.setDesired(a.routes) : text.change(a.routes, withdrawals);
        const keyedGroups = step === 0 ? keyed.setDesiredKeyed(b) : keyed.changeKeys(b, withdrawals.map((prefix) => prefixToKey(prefix)!));
        expect(asText(keyedGroups)).toEqual(textGroups);
        const bytes = wire(keyedGroups);
        expect(bytes).toEqual(textGroups.flatMap((g) => packUpdates(g, CTX)));
        expect([...keyed.entries()]).toEqual([...text.entries()]);
      }
      expect(asText(keyed.fullTableKeyed(1))).toEqual(text.fullTable(1));
      expect(asText(keyed.fullTableKeyed())).toEqual(text.fullTable());
    }
  });

  it("a batch (no duplicate check) sliced into change sets ends in the table a last-wins map gives", () => {
    for (let seed = 1; seed <= 10; seed++) {
      const all = routes(seed, 3000);
      const repeated = [...all, ...all.slice(0, 500).map((r) => ({ ...r, med: 99 }))];
      const batched = new AdjRibOut();
      for (let from = 0; from < repeated.length; from += 700) batched.changeKeys(buildKeyedBatch(repeated.slice(from, from + 700), FACTS), []);
      const lastWins = new Map(repeated.map((r) => [normalizePrefix(r.prefix) ?? r.prefix, r]));
      const expected = new AdjRibOut();
      const built = buildDesired([...lastWins.values()], FACTS);
      expected.setDesired(built.routes);
      expect([...batched.entries()]).toEqual([...expected.entries()]);
      expect(buildKeyedBatch(repeated, FACTS).errors).toEqual(buildDesired(repeated, FACTS).errors.filter((e) => !e.error.startsWith("duplicate")));
    }
  });

  it("withdrawKeys gives what changeKeys gives without upserts: groups and table, with repeats, absent keys and any order", () => {
    const nothing = buildKeyedBatch([], FACTS);
    for (let seed = 1; seed <= 10; seed++) {
      const all = routes(seed, 2000);
      const general = new AdjRibOut();
      const direct = new AdjRibOut();
      general.setDesiredKeyed(buildDesiredKeyed(all, FACTS));
      direct.setDesiredKeyed(buildDesiredKeyed(all, FACTS));
      for (let step = 0; step < 3; step++) {
        const picked = all.filter((_, i) => (i * 13 + seed + step) % 4 === 0).map((r) => r.prefix);
        const withdrawals = [...picked.reverse(), ...picked.slice(0, 50), "203.0.113.0/24", "2001:db8:ffff::/48"];
        const keys = withdrawals.map((prefix) => prefixToKey(prefix)!);
        const expected = general.changeKeys(nothing, keys);
        const got = direct.withdrawKeys({ ipv4: Float64Array.from(keys.filter((k) => typeof k === "number")), ipv6: keys.filter((k) => typeof k === "string") });
        expect(asText(got)).toEqual(asText(expected));
        expect([...direct.entries()]).toEqual([...general.entries()]);
        expect(direct.attributeSetCount).toBe(general.attributeSetCount);
      }
    }
  });

  it("packIpv4Updates rejects what is not an IPv4 key", () => {
    expect(() => packIpv4Updates({ withdrawn: Float64Array.of(10 * 2 ** 24 * 64 + 33) }, CTX)).toThrow(TypeError);
    expect(() => packIpv4Updates({ attributes: { origin: 0, asPath: [], mpReach: { afi: 2, safi: 1, nextHops: ["2001:db8::1"], nlri: [] } }, ipv4: Float64Array.of(64 + 32) }, CTX)).toThrow(TypeError);
  });
});
