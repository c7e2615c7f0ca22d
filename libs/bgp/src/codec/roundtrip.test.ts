/** Property tests: encode then decode gives back the input, for every message kind and both AS widths. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ctxArb,
  ipv4PrefixArb,
  ipv6PrefixArb,
  messageArb,
  notificationArb,
  openArb,
  routeRefreshArb,
  updateArb,
} from "../../../../test/fuzz/bgp-arbitraries.js";
import { canonicalPrefix, decodeMessage, encodeMessage, type BgpMessage, type CodecContext } from "./index.js";

const RUNS = 300;

function roundTrip(msg: BgpMessage, ctx: CodecContext): void {
  const bytes = encodeMessage(msg, ctx);
  const r = decodeMessage(bytes, ctx);
  if (!r.ok) throw new Error(`decode failed: ${r.error.message}`);
  expect(r.action).toBeUndefined();
  expect(r.message).toEqual(msg);
  // Re-encoding the decoded value is byte-identical.
  expect(encodeMessage(r.message, ctx)).toEqual(bytes);
}

describe("round trips", () => {
  it("OPEN", () => {
    fc.assert(fc.property(openArb, ctxArb, (m, ctx) => roundTrip(m, ctx)), { numRuns: RUNS });
  });

  it("UPDATE with every attribute kind, 2-octet and 4-octet AS sessions", () => {
    fc.assert(fc.property(updateArb, ctxArb, (m, ctx) => roundTrip(m, ctx)), { numRuns: RUNS * 2 });
  });

  it("NOTIFICATION", () => {
    fc.assert(fc.property(notificationArb, ctxArb, (m, ctx) => roundTrip(m, ctx)), { numRuns: RUNS });
  });

  it("ROUTE-REFRESH and KEEPALIVE", () => {
    fc.assert(fc.property(routeRefreshArb, ctxArb, (m, ctx) => roundTrip(m, ctx)), { numRuns: RUNS });
    roundTrip({ type: 4 }, { fourOctetAs: true, extendedMessage: true });
  });

  it("any message", () => {
    fc.assert(fc.property(messageArb, ctxArb, (m, ctx) => roundTrip(m, ctx)), { numRuns: RUNS });
  });

  it("canonical prefixes are fixed points", () => {
    fc.assert(
      fc.property(fc.oneof(ipv4PrefixArb, ipv6PrefixArb), (p) => {
        expect(canonicalPrefix(p)).toBe(p);
      }),
      { numRuns: RUNS },
    );
  });
});
