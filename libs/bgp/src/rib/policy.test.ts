import { describe, expect, it } from "vitest";
import { buildAttributes, buildDesired, formatCommunity, parseCommunity, parseLargeCommunity, type SessionFacts } from "./policy.js";

const IBGP: SessionFacts = { ibgp: true, localAsn: 64512, localAddress: { ipv4: "192.168.1.10", ipv6: "2001:db8::10" }, fourOctetAs: true };
const EBGP: SessionFacts = { ...IBGP, ibgp: false, localAsn: 65010 };

describe("communities", () => {
  it("parses standard, well-known and large communities", () => {
    expect(parseCommunity("65000:100")).toBe(0xfde80064);
    expect(parseCommunity("no-export")).toBe(0xffffff01);
    expect(parseCommunity("no-advertise")).toBe(0xffffff02);
    expect(parseCommunity("no-export-subconfed")).toBe(0xffffff03);
    expect(parseCommunity("no-peer")).toBe(0xffffff04);
    expect(parseCommunity("65536:1")).toBeUndefined();
    expect(parseCommunity("1:2:3")).toBeUndefined();
    expect(parseLargeCommunity("4200000000:1:2")).toEqual([4200000000, 1, 2]);
    expect(parseLargeCommunity("4294967296:1:2")).toBeUndefined();
    expect(formatCommunity(0xfde80064)).toBe("65000:100");
    expect(formatCommunity(0xffffff01)).toBe("no-export");
  });
});

describe("buildAttributes", () => {
  it("iBGP IPv4: ORIGIN IGP, empty AS_PATH, next-hop self, LOCAL_PREF 100", () => {
    expect(buildAttributes({ prefix: "10.49.0.0/16" }, IBGP)).toEqual({
      ok: true,
      attributes: { origin: 0, asPath: [], nextHop: "192.168.1.10", localPref: 100 },
    });
  });

  it("eBGP: our AS prepended, no LOCAL_PREF even when the route has one", () => {
    const r = buildAttributes({ prefix: "10.49.0.0/16", localPref: 200 }, EBGP);
    expect(r).toEqual({ ok: true, attributes: { origin: 0, asPath: [{ type: 2, asns: [65010] }], nextHop: "192.168.1.10" } });
  });

  it("an explicit next hop and local preference win", () => {
    const r = buildAttributes({ prefix: "10.49.0.0/16", nextHop: "192.0.2.1", localPref: 300 }, IBGP);
    expect(r).toMatchObject({ ok: true, attributes: { nextHop: "192.0.2.1", localPref: 300 } });
  });

  it("IPv6: next hop in MP_REACH (global, plus link-local when known), no IPv4 NEXT_HOP", () => {
    const r = buildAttributes({ prefix: "2001:db8:1::/48" }, { ...IBGP, localAddress: { ...IBGP.localAddress, ipv6LinkLocal: "fe80::1" } });
    expect(r).toEqual({
      ok: true,
      attributes: { origin: 0, asPath: [], localPref: 100, mpReach: { afi: 2, safi: 1, nextHops: ["2001:db8::10", "fe80::1"], nlri: [] } },
    });
  });

  it("communities sorted and de-duplicated so equal intent interns equally", () => {
    const a = buildAttributes({ prefix: "10.0.0.0/8", communities: ["no-export", "65000:100", "65000:100"], largeCommunities: ["2:2:2", "1:1:1"] }, IBGP);
    const b = buildAttributes({ prefix: "10.0.0.0/8", communities: ["65000:100", "no-export"], largeCommunities: ["1:1:1", "2:2:2", "1:1:1"] }, IBGP);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ attributes: { communities: [0xfde80064, 0xffffff01], largeCommunities: [[1, 1, 1], [2, 2, 2]] } });
  });

  it("reports what cannot be exported", () => {
    expect(buildAttributes({ prefix: "10.0.0.0/33" }, IBGP).ok).toBe(false);
    expect(buildAttributes({ prefix: "10.0.0.0/8", communities: ["bogus"] }, IBGP).ok).toBe(false);
    expect(buildAttributes({ prefix: "10.0.0.0/8", largeCommunities: ["1:2"] }, IBGP).ok).toBe(false);
    expect(buildAttributes({ prefix: "2001:db8::/32" }, { ...IBGP, localAddress: { ipv4: "192.168.1.10" } })).toMatchObject({ ok: false });
    expect(buildAttributes({ prefix: "10.0.0.0/8", nextHop: "2001:db8::1" }, IBGP)).toMatchObject({ ok: false });
  });
});

describe("buildDesired", () => {
  it("canonical prefixes; errors and duplicates reported without affecting the rest", () => {
    const { routes, errors } = buildDesired(
      [{ prefix: "10.49.0.0/16" }, { prefix: "10.49.1.1/16" }, { prefix: "bad" }, { prefix: "2001:DB8::/32" }],
      IBGP,
    );
    expect([...routes.keys()]).toEqual(["10.49.0.0/16", "2001:db8::/32"]);
    expect(errors.map((e) => e.prefix)).toEqual(["10.49.1.1/16", "bad"]);
  });
});
