/**
 * UPDATE and path attributes: byte-exact vectors written from RFC 4271 §4.3,
 * RFC 4760, RFC 6793, RFC 1997 and RFC 8092 layouts; RFC 7606 error handling.
 */
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "./bytes.js";
import {
  decodeMessage,
  encodeMessage,
  endOfRib,
  endOfRibFamily,
  type CodecContext,
  type DecodeResult,
  type PathAttributes,
  type UpdateMessage,
} from "./index.js";

const MARKER = "ff".repeat(16);
const AS2: CodecContext = { fourOctetAs: false, extendedMessage: false };
const AS4: CodecContext = { fourOctetAs: true, extendedMessage: false };

/** A whole UPDATE from hand-written withdrawn, attribute and NLRI hex; only the framing lengths are computed. */
function update(withdrawnHex: string, attrsHex: string, nlriHex = ""): Uint8Array {
  const w = fromHex(withdrawnHex);
  const a = fromHex(attrsHex);
  const n = fromHex(nlriHex);
  const len = 23 + w.length + a.length + n.length;
  const h = (v: number) => v.toString(16).padStart(4, "0");
  return fromHex(`${MARKER} ${h(len)} 02 ${h(w.length)} ${withdrawnHex} ${h(a.length)} ${attrsHex} ${nlriHex}`);
}

function upd(attributes: PathAttributes, nlri: string[] = [], withdrawn: string[] = []): UpdateMessage {
  return { type: 2, withdrawn, attributes, nlri };
}

function ok(r: DecodeResult): Extract<DecodeResult, { ok: true }> & { message: UpdateMessage } {
  if (!r.ok) throw new Error(`unexpected error: ${r.error.message}`);
  if (r.message.type !== 2) throw new Error("not an UPDATE");
  return r as Extract<DecodeResult, { ok: true }> & { message: UpdateMessage };
}

function expectError(r: DecodeResult, code: number, subcode: number, dataHex?: string): void {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.message)}`);
  expect([r.error.code, r.error.subcode]).toEqual([code, subcode]);
  if (dataHex !== undefined) expect(toHex(r.error.data)).toBe(dataHex.replace(/\s+/g, ""));
}

const ORIGIN_IGP = "40 01 01 00";
const EMPTY_AS_PATH = "40 02 00";
const NH_NODE = "40 03 04 c0a8010a"; // 192.168.1.10
const BASE = `${ORIGIN_IGP} ${EMPTY_AS_PATH} ${NH_NODE}`;
const BASE_ATTRS: PathAttributes = { origin: 0, asPath: [], nextHop: "192.168.1.10" };

describe("UPDATE vectors", () => {
  it("the seed announcement: 10.49.0.0/16 over iBGP", () => {
    const m = upd({ ...BASE_ATTRS, localPref: 100 }, ["10.49.0.0/16"]);
    const hex = `${MARKER} 002f 02 0000 0015 ${BASE} 40 05 04 00000064 10 0a31`;
    expect(toHex(encodeMessage(m))).toBe(toHex(fromHex(hex)));
    expect(decodeMessage(fromHex(hex))).toEqual({ ok: true, message: m });
  });

  it("withdrawn routes only", () => {
    const m = upd({}, [], ["10.49.62.131/32", "192.168.3.0/24"]);
    const hex = `${MARKER} 0020 02 0009 20 0a313e83 18 c0a803 0000`;
    expect(toHex(encodeMessage(m))).toBe(toHex(fromHex(hex)));
    expect(decodeMessage(fromHex(hex))).toEqual({ ok: true, message: m });
  });

  it("prefix lengths 0, 1, 25 and 32 use 0 to 4 address bytes", () => {
    const m = upd(BASE_ATTRS, ["0.0.0.0/0", "128.0.0.0/1", "10.0.0.128/25", "192.0.2.1/32"]);
    const bytes = encodeMessage(m);
    expect(toHex(bytes.subarray(bytes.length - 13))).toBe("00" + "0180" + "190a000080" + "20c0000201");
    expect(decodeMessage(bytes)).toEqual({ ok: true, message: m });
  });

  it("host bits in received NLRI are zeroed", () => {
    const r = ok(decodeMessage(update("", BASE, "17 0a0003")));
    expect(r.message.nlri).toEqual(["10.0.2.0/23"]);
  });

  const attributeVectors: Array<[string, PathAttributes, string, CodecContext?]> = [
    ["ORIGIN INCOMPLETE", { origin: 2 }, "40 01 01 02"],
    ["AS_PATH, 2-octet", { asPath: [{ type: 2, asns: [65001, 65002] }, { type: 1, asns: [1, 2] }] }, "40 02 0c 02 02 fde9 fdea 01 02 0001 0002", AS2],
    [
      "AS_PATH, 4-octet",
      { asPath: [{ type: 2, asns: [65001, 65002] }, { type: 1, asns: [1, 2] }] },
      "40 02 14 02 02 0000fde9 0000fdea 01 02 00000001 00000002",
      AS4,
    ],
    [
      "AS_PATH with confederation segments",
      { asPath: [{ type: 3, asns: [65010] }, { type: 4, asns: [65011] }, { type: 2, asns: [65001] }] },
      "40 02 0c 03 01 fdf2 04 01 fdf3 02 01 fde9",
      AS2,
    ],
    [
      "AS_PATH toward a 2-octet peer: AS_TRANS plus AS4_PATH",
      { asPath: [{ type: 2, asns: [64512, 4200000000] }] },
      "40 02 06 02 02 fc00 5ba0 c0 11 0a 02 02 0000fc00 fa56ea00",
      AS2,
    ],
    ["NEXT_HOP", { nextHop: "192.168.1.10" }, "40 03 04 c0a8010a"],
    ["MULTI_EXIT_DISC", { med: 50 }, "80 04 04 00000032"],
    ["LOCAL_PREF", { localPref: 200 }, "40 05 04 000000c8"],
    ["ATOMIC_AGGREGATE", { atomicAggregate: true }, "40 06 00"],
    ["AGGREGATOR, 2-octet", { aggregator: { asn: 65000, address: "1.2.3.4" } }, "c0 07 06 fde8 01020304", AS2],
    ["AGGREGATOR, 4-octet", { aggregator: { asn: 65000, address: "1.2.3.4" } }, "c0 07 08 0000fde8 01020304", AS4],
    [
      "AGGREGATOR toward a 2-octet peer: AS_TRANS plus AS4_AGGREGATOR",
      { aggregator: { asn: 4200000000, address: "1.2.3.4" } },
      "c0 07 06 5ba0 01020304 c0 12 08 fa56ea00 01020304",
      AS2,
    ],
    ["COMMUNITIES", { communities: [0xffffff01, 0xfc000064] }, "c0 08 08 ffffff01 fc000064"],
    ["LARGE_COMMUNITY", { largeCommunities: [[64512, 1, 2]] }, "c0 20 0c 0000fc00 00000001 00000002"],
    [
      "MP_REACH_NLRI IPv6, 16-byte next hop",
      { mpReach: { afi: 2, safi: 1, nextHops: ["2001:db8::10"], nlri: ["2001:db8:10::/48"] }, origin: 0, asPath: [] },
      "80 0e 1c 0002 01 10 20010db8000000000000000000000010 00 30 20010db80010 40 01 01 00 40 02 00",
    ],
    [
      "MP_REACH_NLRI IPv6, 32-byte next hop (global + link-local)",
      { mpReach: { afi: 2, safi: 1, nextHops: ["2001:db8::10", "fe80::1"], nlri: ["2001:db8:10::/48", "::/0"] }, origin: 0, asPath: [] },
      "80 0e 2d 0002 01 20 20010db8000000000000000000000010 fe800000000000000000000000000001 00 30 20010db80010 00 40 01 01 00 40 02 00",
    ],
    [
      "MP_REACH_NLRI IPv4, 4-byte next hop",
      { mpReach: { afi: 1, safi: 1, nextHops: ["192.168.1.10"], nlri: ["10.49.0.0/16"] }, origin: 0, asPath: [] },
      "80 0e 0c 0001 01 04 c0a8010a 00 10 0a31 40 01 01 00 40 02 00",
    ],
    [
      "MP_UNREACH_NLRI IPv6",
      { mpUnreach: { afi: 2, safi: 1, withdrawn: ["2001:db8:10::/48", "2001:db8::1/128"] } },
      "80 0f 1b 0002 01 30 20010db80010 80 20010db8000000000000000000000001",
    ],
    [
      "unknown optional transitive attributes, flags as received",
      {
        unknown: [
          { flags: 0xc0, typeCode: 0x63, data: Uint8Array.of(1, 2) },
          { flags: 0xe0, typeCode: 0x10, data: Uint8Array.of(0, 2, 0xfc, 0, 0, 0, 0, 1) },
        ],
      },
      "c0 63 02 0102 e0 10 08 0002fc0000000001",
    ],
  ];

  for (const [name, attributes, hex, ctx = AS4] of attributeVectors) {
    it(`attribute: ${name}`, () => {
      const m = upd(attributes);
      const expected = update("", hex);
      expect(toHex(encodeMessage(m, ctx))).toBe(toHex(expected));
      expect(decodeMessage(expected, ctx)).toEqual({ ok: true, message: m });
    });
  }

  it("attributes are ordered: MP attributes first, then by type code, unknown last", () => {
    const m = upd({
      largeCommunities: [[1, 2, 3]],
      communities: [1],
      med: 1,
      origin: 0,
      mpUnreach: { afi: 2, safi: 1, withdrawn: [] },
      unknown: [{ flags: 0xc0, typeCode: 99, data: new Uint8Array(0) }],
    });
    const expected = update("", "80 0f 03 000201 40 01 01 00 80 04 04 00000001 c0 08 04 00000001 c0 20 0c 000000010000000200000003 c0 63 00");
    expect(toHex(encodeMessage(m, AS4))).toBe(toHex(expected));
  });

  it("splits AS_SEQUENCEs longer than 255 ASNs into several segments", () => {
    const asns = Array.from({ length: 300 }, (_, i) => 64512 + i);
    const bytes = encodeMessage(upd({ asPath: [{ type: 2, asns }] }), AS2);
    // flags 0x50 (extended length), type 2, length 2+510 + 2+90 = 604; first segment: AS_SEQUENCE of 255
    expect(toHex(bytes.subarray(23, 29))).toBe("5002025c02ff");
    expect(ok(decodeMessage(bytes, AS2)).message.attributes.asPath).toEqual([
      { type: 2, asns: asns.slice(0, 255) },
      { type: 2, asns: asns.slice(255) },
    ]);
    expect(() => encodeMessage(upd({ asPath: [{ type: 1, asns }] }))).toThrow(RangeError);
  });

  it("uses the extended length flag above 255 bytes, and accepts it on short attributes", () => {
    const communities = Array.from({ length: 70 }, (_, i) => i);
    const bytes = encodeMessage(upd({ communities }), AS4);
    expect(toHex(bytes.subarray(23, 27))).toBe("d0080118"); // flags 0xd0, type 8, length 280
    expect(ok(decodeMessage(bytes, AS4)).message.attributes.communities).toEqual(communities);
    const r = decodeMessage(update("", "50 01 0001 01"), AS4);
    expect(r).toEqual({ ok: true, message: upd({ origin: 1 }) });
  });
});

describe("AS4_PATH / AS4_AGGREGATOR reconciliation (RFC 6793 §4.2.3)", () => {
  it("merges an AS4_PATH shorter than AS_PATH (a 2-octet speaker prepended)", () => {
    const r = ok(decodeMessage(update("", "40 02 08 02 03 0064 5ba0 00c8 c0 11 0a 02 02 00011170 000000c8"), AS2));
    expect(r.message.attributes.asPath).toEqual([{ type: 2, asns: [100, 70000, 200] }]);
  });

  it("ignores an AS4_PATH longer than AS_PATH", () => {
    const r = ok(decodeMessage(update("", "40 02 04 02 01 5ba0 c0 11 0a 02 02 00011170 000000c8"), AS2));
    expect(r.message.attributes.asPath).toEqual([{ type: 2, asns: [23456] }]);
  });

  it("drops confederation segments from AS4_PATH and keeps leading ones of AS_PATH", () => {
    const r = ok(decodeMessage(update("", "40 02 08 03 01 fdf2 02 01 5ba0 c0 11 0c 03 01 0000fdf2 02 01 00011170"), AS2));
    expect(r.message.attributes.asPath).toEqual([
      { type: 3, asns: [65010] },
      { type: 2, asns: [70000] },
    ]);
  });

  it("puts confederation segments back where they were", () => {
    const asPath = [
      { type: 2 as const, asns: [70000, 1] },
      { type: 3 as const, asns: [65010] },
      { type: 2 as const, asns: [2, 80000] },
      { type: 4 as const, asns: [65011] },
    ];
    const bytes = encodeMessage(upd({ asPath }), AS2);
    // AS_PATH with AS_TRANS, then AS4_PATH without the confederation segments
    expect(toHex(bytes.subarray(23))).toBe(
      toHex(fromHex("40 02 14 02 02 5ba0 0001 03 01 fdf2 02 02 0002 5ba0 04 01 fdf3 c0 11 14 02 02 00011170 00000001 02 02 00000002 00013880")),
    );
    expect(ok(decodeMessage(bytes, AS2)).message.attributes.asPath).toEqual(asPath);
  });

  it("uses AS4_AGGREGATOR when AGGREGATOR is AS_TRANS, and ignores both AS4 attributes otherwise", () => {
    const as4 = "c0 11 06 02 01 00011170 c0 12 08 00011170 01020304";
    const a = ok(decodeMessage(update("", `40 02 04 02 01 5ba0 c0 07 06 5ba0 01020304 ${as4}`), AS2));
    expect(a.message.attributes.aggregator).toEqual({ asn: 70000, address: "1.2.3.4" });
    expect(a.message.attributes.asPath).toEqual([{ type: 2, asns: [70000] }]);
    const b = ok(decodeMessage(update("", `40 02 04 02 01 5ba0 c0 07 06 0064 01020304 ${as4}`), AS2));
    expect(b.message.attributes.aggregator).toEqual({ asn: 100, address: "1.2.3.4" });
    expect(b.message.attributes.asPath).toEqual([{ type: 2, asns: [23456] }]);
  });

  it("ignores AS4 attributes on a 4-octet session", () => {
    const r = ok(decodeMessage(update("", "40 02 06 02 01 00011170 c0 11 06 02 01 00000001"), AS4));
    expect(r.message.attributes.asPath).toEqual([{ type: 2, asns: [70000] }]);
    expect(r.action).toBeUndefined();
    expect(r.warnings?.length).toBe(1);
  });
});

describe("RFC 7606 error handling", () => {
  const NLRI = "10 0a31";
  const twa = (attrs: string, ctx = AS2) => {
    const r = ok(decodeMessage(update("", attrs, NLRI), ctx));
    expect(r.action).toBe("treat-as-withdraw");
    expect(r.message.nlri).toEqual(["10.49.0.0/16"]); // still there, to be withdrawn
    return r;
  };
  const discard = (attrs: string, type: number, ctx = AS2) => {
    const r = ok(decodeMessage(update("", attrs, NLRI), ctx));
    expect(r.action).toBe("attribute-discard");
    expect(r.discarded).toEqual([type]);
    return r;
  };

  it("treat-as-withdraw for malformed ORIGIN (value, length, flags)", () => {
    expect(twa(`40 01 01 03 ${EMPTY_AS_PATH} ${NH_NODE}`).message.attributes.origin).toBeUndefined();
    twa(`40 01 02 0000 ${EMPTY_AS_PATH} ${NH_NODE}`);
    twa(`c0 01 01 00 ${EMPTY_AS_PATH} ${NH_NODE}`);
  });

  it("treat-as-withdraw for malformed AS_PATH (overrun, bad segment type, empty segment)", () => {
    twa(`${ORIGIN_IGP} 40 02 04 02 02 fde9 ${NH_NODE}`);
    twa(`${ORIGIN_IGP} 40 02 04 05 01 fde9 ${NH_NODE}`);
    twa(`${ORIGIN_IGP} 40 02 02 02 00 ${NH_NODE}`);
    twa(`${ORIGIN_IGP} 40 02 06 02 01 0000fde9 ${NH_NODE}`); // 4-octet path on a 2-octet session
  });

  it("treat-as-withdraw for malformed NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES, LARGE_COMMUNITY", () => {
    twa(`${ORIGIN_IGP} ${EMPTY_AS_PATH} 40 03 05 c0a8010a00`);
    twa(`${BASE} 80 04 03 000001`);
    twa(`${BASE} 40 04 04 00000001`); // MED with well-known flags
    twa(`${BASE} 40 05 02 0064`);
    twa(`${BASE} c0 08 05 0000000001`);
    twa(`${BASE} c0 08 00`);
    twa(`${BASE} c0 20 0d 00000000000000000000000000`);
  });

  it("attribute-discard for malformed ATOMIC_AGGREGATE, AGGREGATOR, AS4_PATH and AS4_AGGREGATOR", () => {
    expect(discard(`${BASE} 40 06 01 00`, 6).message.attributes.atomicAggregate).toBeUndefined();
    discard(`${BASE} c0 07 07 fde8 0102030400`, 7);
    discard(`${BASE} c0 07 06 fde8 01020304`, 7, AS4); // 2-octet form on a 4-octet session
    discard(`${BASE} c0 11 02 02 00`, 17);
    discard(`${BASE} c0 12 06 00011170 0102`, 18);
    const r = discard(`${BASE} 80 07 06 fde8 01020304`, 7); // AGGREGATOR with optional non-transitive flags
    expect(r.message.attributes).toEqual(BASE_ATTRS);
  });

  it("reports the strongest action when several errors occur, with every discarded type", () => {
    const r = twa(`${BASE} 40 06 01 00 40 01 01 02 c0 08 03 000000`);
    expect(r.discarded).toEqual([6, 1]);
    expect(r.warnings).toHaveLength(3);
  });

  it("keeps the first of duplicated attributes", () => {
    const r = discard(`${BASE} 40 01 01 02`, 1);
    expect(r.message.attributes.origin).toBe(0);
  });

  it("treat-as-withdraw when mandatory attributes are missing with NLRI", () => {
    expect(twa(`${ORIGIN_IGP} ${EMPTY_AS_PATH}`).warnings?.join()).toContain("NEXT_HOP");
    twa(`${EMPTY_AS_PATH} ${NH_NODE}`);
    const mp = "80 0e 1c 0002 01 10 20010db8000000000000000000000010 00 30 20010db80010";
    const r = ok(decodeMessage(update("", `${mp} ${ORIGIN_IGP}`)));
    expect(r.action).toBe("treat-as-withdraw");
    expect(r.message.attributes.mpReach?.nlri).toEqual(["2001:db8:10::/48"]);
    // NEXT_HOP is not required with MP_REACH_NLRI only.
    expect(ok(decodeMessage(update("", `${mp} ${ORIGIN_IGP} ${EMPTY_AS_PATH}`))).action).toBeUndefined();
    // Nothing is required without NLRI.
    expect(ok(decodeMessage(update("", "80 04 04 00000001"))).action).toBeUndefined();
  });

  it("treat-as-withdraw when an attribute overruns the attribute field", () => {
    twa(`${BASE} c0 08 08 00000001`);
    twa(`${BASE} c0 08`);
    twa(`${BASE} d0 08 00`);
  });

  it("session reset for an unrecognized well-known attribute, with the attribute as data", () => {
    expectError(decodeMessage(update("", `${BASE} 40 63 02 0102`, NLRI)), 3, 2, "40 63 02 0102");
  });

  it("session reset for malformed MP_REACH_NLRI / MP_UNREACH_NLRI", () => {
    const nh = "20010db8000000000000000000000010";
    expectError(decodeMessage(update("", `80 0e 0b 0002 01 05 0000000000 00 00`)), 3, 9); // next hop length 5
    expectError(decodeMessage(update("", `80 0e 04 0002 01 10`)), 3, 9); // too short for its next hop
    expectError(decodeMessage(update("", `80 0e 15 0002 01 04 c0a8010a 00 81 ${"00".repeat(11)}`)), 3, 9); // 4-byte NH for IPv6
    expectError(decodeMessage(update("", `80 0e 16 0002 01 10 ${nh} 00 81`)), 3, 10); // /129
    expectError(decodeMessage(update("", `80 0e 18 0002 01 10 ${nh} 00 30 2001`)), 3, 10); // truncated prefix
    expectError(decodeMessage(update("", `80 0f 02 0002`)), 3, 9);
    expectError(decodeMessage(update("", `80 0f 04 0002 01 30`)), 3, 10);
    expectError(decodeMessage(update("", `c0 0e 03 000201`)), 3, 4); // flags
    expectError(decodeMessage(update("", `80 0f 03 000201 80 0f 03 000201`)), 3, 1); // duplicate
  });

  it("keeps MP attributes of families it does not parse as raw attributes", () => {
    const r = ok(decodeMessage(update("", "80 0e 11 0001 80 0c 000000000000000000000000 00")));
    expect(r.message.attributes.unknown).toEqual([{ flags: 0x80, typeCode: 14, data: fromHex("0001 80 0c 000000000000000000000000 00") }]);
    expect(r.warnings?.length).toBe(1);
  });

  it("session reset for inconsistent field lengths and malformed NLRI", () => {
    expectError(decodeMessage(fromHex(`${MARKER} 0017 02 0001 0000`)), 3, 1); // withdrawn length overruns
    expectError(decodeMessage(fromHex(`${MARKER} 0018 02 0000 0002 00`)), 3, 1); // attribute length overruns
    expectError(decodeMessage(update("", BASE, "21 0a000000 00")), 3, 10); // /33
    expectError(decodeMessage(update("", BASE, "18 0a00")), 3, 10); // truncated
    expectError(decodeMessage(update("21 0a00000000", "")), 3, 10);
    expectError(decodeMessage(fromHex(`${MARKER} 0016 02 0000 00`)), 1, 2, "0016");
  });
});

describe("End-of-RIB", () => {
  it("IPv4 unicast is an empty UPDATE", () => {
    const eor = endOfRib(1, 1);
    expect(toHex(encodeMessage(eor))).toBe(toHex(fromHex(`${MARKER} 0017 02 0000 0000`)));
    expect(endOfRibFamily(eor)).toEqual({ afi: 1, safi: 1 });
  });

  it("IPv6 unicast is an empty MP_UNREACH_NLRI", () => {
    const eor = endOfRib(2, 1);
    const hex = `${MARKER} 001d 02 0000 0006 80 0f 03 0002 01`;
    expect(toHex(encodeMessage(eor))).toBe(toHex(fromHex(hex)));
    const r = ok(decodeMessage(fromHex(hex)));
    expect(endOfRibFamily(r.message)).toEqual({ afi: 2, safi: 1 });
  });

  it("recognises EoR of families the codec does not parse, and nothing else", () => {
    expect(endOfRibFamily(ok(decodeMessage(update("", "80 0f 03 0001 80"))).message)).toEqual({ afi: 1, safi: 128 });
    expect(endOfRibFamily(upd({}, ["10.0.0.0/8"]))).toBeUndefined();
    expect(endOfRibFamily(upd({ origin: 0 }))).toBeUndefined();
    expect(endOfRibFamily(upd({ mpUnreach: { afi: 2, safi: 1, withdrawn: ["::/0"] } }))).toBeUndefined();
  });
});

describe("UPDATE encoding errors (programmer errors)", () => {
  it("throws on invalid or wrong-family prefixes and next hops", () => {
    expect(() => encodeMessage(upd(BASE_ATTRS, ["10.0.0.0/33"]))).toThrow(TypeError);
    expect(() => encodeMessage(upd(BASE_ATTRS, ["2001:db8::/32"]))).toThrow(TypeError);
    expect(() => encodeMessage(upd({ nextHop: "2001:db8::1" }))).toThrow(TypeError);
    expect(() => encodeMessage(upd({ mpReach: { afi: 2, safi: 1, nextHops: [], nlri: [] } }))).toThrow(RangeError);
  });

  it("throws when the message exceeds the negotiated size", () => {
    const nlri = Array.from({ length: 1100 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    expect(() => encodeMessage(upd(BASE_ATTRS, nlri))).toThrow(RangeError);
    const bytes = encodeMessage(upd(BASE_ATTRS, nlri), { fourOctetAs: false, extendedMessage: true });
    expect(ok(decodeMessage(bytes, { fourOctetAs: false, extendedMessage: true })).message.nlri).toEqual(nlri);
    expect(decodeMessage(bytes).ok).toBe(false);
  });
});
