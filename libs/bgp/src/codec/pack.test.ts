/** packUpdates: fewest messages within the size limit, order preserved, every family. */
import { describe, expect, it } from "vitest";
import { canonicalPrefix, decodeMessage, encodeMessage, packUpdates, type CodecContext, type PathAttributes, type UpdateMessage } from "./index.js";

const CTX: CodecContext = { fourOctetAs: true, extendedMessage: false };
const EXT: CodecContext = { fourOctetAs: true, extendedMessage: true };
const ATTRS: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [64512] }], nextHop: "192.168.1.10", communities: [1, 2] };

function v4(n: number, len = 24): string[] {
  return Array.from({ length: n }, (_, i) => `${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/${len}`);
}
function v6(n: number): string[] {
  return Array.from({ length: n }, (_, i) => canonicalPrefix(`2001:db8:${(i >> 8).toString(16)}:${(i & 255).toString(16)}::/64`));
}

function decodeAll(msgs: Uint8Array[], ctx: CodecContext): UpdateMessage[] {
  return msgs.map((b) => {
    const r = decodeMessage(b, ctx);
    if (!r.ok || r.message.type !== 2) throw new Error("bad message");
    expect(r.action).toBeUndefined();
    return r.message;
  });
}

describe("packUpdates", () => {
  it("packs IPv4 NLRI with the attributes, as few messages as fit", () => {
    const nlri = v4(3000);
    const msgs = packUpdates({ attributes: ATTRS, nlri }, CTX);
    const attrLen = encodeMessage({ type: 2, withdrawn: [], attributes: ATTRS, nlri: [] }, CTX).length - 23;
    const perMessage = Math.floor((4096 - 23 - attrLen) / 4); // a /24 takes 4 bytes
    expect(msgs).toHaveLength(Math.ceil(nlri.length / perMessage));
    for (const m of msgs) expect(m.length).toBeLessThanOrEqual(4096);
    expect(msgs[0].length).toBe(4096 - ((4096 - 23 - attrLen) % 4));
    const decoded = decodeAll(msgs, CTX);
    expect(decoded.flatMap((u) => u.nlri)).toEqual(nlri);
    for (const u of decoded) expect(u.attributes).toEqual(ATTRS);
  });

  it("packs mixed prefix lengths in order, canonicalising them", () => {
    const nlri = [...v4(500, 32), ...v4(500, 8), ...v4(500, 17), "0.0.0.0/0"];
    const msgs = packUpdates({ attributes: ATTRS, nlri }, CTX);
    expect(decodeAll(msgs, CTX).flatMap((u) => u.nlri)).toEqual(nlri.map(canonicalPrefix));
  });

  it("packs IPv6 NLRI into MP_REACH_NLRI, using extended messages when negotiated", () => {
    const nlri = v6(2000);
    const attributes: PathAttributes = {
      origin: 0,
      asPath: [],
      mpReach: { afi: 2, safi: 1, nextHops: ["2001:db8::10", "fe80::10"], nlri: [] },
    };
    const small = packUpdates({ attributes, nlri }, CTX);
    const big = packUpdates({ attributes, nlri }, EXT);
    expect(big.length).toBeLessThan(small.length);
    expect(big).toHaveLength(1);
    for (const [msgs, ctx, max] of [
      [small, CTX, 4096],
      [big, EXT, 65535],
    ] as const) {
      for (const m of msgs) expect(m.length).toBeLessThanOrEqual(max);
      const decoded = decodeAll(msgs, ctx);
      expect(decoded.flatMap((u) => u.attributes.mpReach?.nlri ?? [])).toEqual(nlri);
      for (const u of decoded) {
        expect(u.nlri).toEqual([]);
        expect(u.attributes.mpReach?.nextHops).toEqual(["2001:db8::10", "fe80::10"]);
        expect(u.attributes.origin).toBe(0);
      }
    }
    // A /64 takes 9 bytes: messages are full up to one prefix.
    expect(small[0].length).toBeGreaterThan(4096 - 10);
  });

  it("packs IPv4 withdrawals into Withdrawn Routes and IPv6 ones into MP_UNREACH_NLRI", () => {
    const w4 = v4(2000);
    const m4 = packUpdates({ withdrawn: w4, afi: 1 }, CTX);
    expect(m4).toHaveLength(Math.ceil(2000 / Math.floor((4096 - 23) / 4)));
    const d4 = decodeAll(m4, CTX);
    expect(d4.flatMap((u) => u.withdrawn)).toEqual(w4);
    for (const u of d4) expect(u.attributes).toEqual({});

    const w6 = v6(2000);
    const m6 = packUpdates({ withdrawn: w6, afi: 2 }, CTX);
    for (const m of m6) expect(m.length).toBeLessThanOrEqual(4096);
    const d6 = decodeAll(m6, CTX);
    expect(d6.flatMap((u) => u.attributes.mpUnreach?.withdrawn ?? [])).toEqual(w6);
    expect(d6.every((u) => u.attributes.mpUnreach?.afi === 2 && u.attributes.mpUnreach.safi === 1)).toBe(true);
  });

  it("returns no messages for empty input", () => {
    expect(packUpdates({ attributes: ATTRS, nlri: [] }, CTX)).toEqual([]);
    expect(packUpdates({ withdrawn: [], afi: 2 }, CTX)).toEqual([]);
  });

  it("throws on wrong-family or invalid prefixes (programmer errors)", () => {
    expect(() => packUpdates({ attributes: ATTRS, nlri: ["2001:db8::/32"] }, CTX)).toThrow(TypeError);
    expect(() => packUpdates({ withdrawn: ["10.0.0.0/8"], afi: 2 }, CTX)).toThrow(TypeError);
    expect(() => packUpdates({ attributes: ATTRS, nlri: ["nope"] }, CTX)).toThrow(TypeError);
  });

  it("copes with 100k prefixes", () => {
    const nlri = v4(100_000);
    const msgs = packUpdates({ attributes: ATTRS, nlri }, CTX);
    expect(decodeAll(msgs, CTX).reduce((n, u) => n + u.nlri.length, 0)).toBe(100_000);
    const w = packUpdates({ withdrawn: v6(100_000), afi: 2 }, EXT);
    expect(w.length).toBeLessThan(20);
  });
});
