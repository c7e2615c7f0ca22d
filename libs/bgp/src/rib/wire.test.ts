/**
 * End to end through the real codec: AdjRibOut change sets → packUpdates →
 * decodeMessage → AdjRibIn on the "peer" reproduces the desired table.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeMessage, packUpdates } from "../codec/index.js";
import type { CodecContext } from "../codec/types.js";
import { AdjRibIn } from "./adj-rib-in.js";
import { AdjRibOut } from "./adj-rib-out.js";
import { attributeKey, routeAttributes } from "./attributes.js";
import { buildDesired, type IntentRoute, type SessionFacts } from "./policy.js";

const FACTS: SessionFacts = { ibgp: false, localAsn: 4200000001, localAddress: { ipv4: "192.168.1.10", ipv6: "2001:db8::10" }, fourOctetAs: true };

function transmit(groups: ReturnType<AdjRibOut["setDesired"]>, peer: AdjRibIn, ctx: CodecContext): number {
  let messages = 0;
  for (const group of groups) {
    for (const bytes of packUpdates(group, ctx)) {
      const decoded = decodeMessage(bytes, ctx);
      if (!decoded.ok || decoded.message.type !== 2) throw new Error(`undecodable UPDATE: ${JSON.stringify(decoded)}`);
      peer.applyUpdate(decoded.message, decoded.action === "treat-as-withdraw");
      messages++;
    }
  }
  return messages;
}

const snapshot = (rib: AdjRibIn) => new Map([...rib.entries()].map((e) => [e.prefix, attributeKey(e.attributes)]));

describe("AdjRibOut → codec → AdjRibIn", () => {
  const community = fc.constantFrom("65000:100", "no-export", "65000:200");
  const intent = fc.oneof(
    fc.record({ prefix: fc.tuple(fc.nat(255), fc.constantFrom(16, 24, 32)).map(([n, l]) => `10.${n}.0.0/${l}`), communities: fc.array(community, { maxLength: 2 }) }),
    fc.record({ prefix: fc.nat(255).map((n) => `2001:db8:${n.toString(16)}::/48`), communities: fc.array(community, { maxLength: 2 }) }),
  );

  for (const ctx of [{ fourOctetAs: true, extendedMessage: false }, { fourOctetAs: false, extendedMessage: true }]) {
    it(`the peer ends with the desired table (${JSON.stringify(ctx)})`, () => {
      fc.assert(
        fc.property(fc.array(fc.array(intent, { maxLength: 40 }), { minLength: 1, maxLength: 4 }), (intents: IntentRoute[][]) => {
          const out = new AdjRibOut();
          const peer = new AdjRibIn();
          for (const routes of intents) {
            const { routes: desired } = buildDesired(routes, FACTS);
            transmit(out.setDesired(desired), peer, ctx);
            const want = new Map([...desired].map(([p, r]) => [p, attributeKey(routeAttributes(r.attributes, p.includes(":") ? 2 : 1))]));
            expect(snapshot(peer)).toEqual(want);
          }
        }),
        { numRuns: 40 },
      );
    });
  }

  it("10,000 prefixes with one attribute set fit in a handful of UPDATEs", () => {
    const routes: IntentRoute[] = Array.from({ length: 10_000 }, (_, i) => ({ prefix: `10.${i >> 8}.${i & 255}.0/24` }));
    const out = new AdjRibOut();
    const peer = new AdjRibIn();
    const ctx = { fourOctetAs: true, extendedMessage: false };
    const messages = transmit(out.setDesired(buildDesired(routes, FACTS).routes), peer, ctx);
    expect(peer.count()).toBe(10_000);
    expect(messages).toBeLessThanOrEqual(11); // 4 bytes a /24, ~4 KB a message
    expect(transmit(out.setDesired(new Map()), peer, ctx)).toBeLessThanOrEqual(11);
    expect(peer.count()).toBe(0);
  });
});
