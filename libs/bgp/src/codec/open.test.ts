/** OPEN and capabilities: byte-exact vectors written from the RFC 4271 §4.2 / RFC 5492 layouts, and OPEN errors. */
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "./bytes.js";
import { decodeMessage, encodeMessage, type Capability, type DecodeResult, type OpenMessage } from "./index.js";

const MARKER = "ff".repeat(16);

function expectError(r: DecodeResult, code: number, subcode: number, dataHex = ""): void {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.message)}`);
  expect([r.error.code, r.error.subcode, toHex(r.error.data)]).toEqual([code, subcode, dataHex]);
}

const minimal: OpenMessage = { type: 1, version: 4, myAsn: 64512, holdTime: 90, routerId: "192.168.1.10", capabilities: [] };
// marker | len 29 | type 1 | version 4 | AS 64512 | hold 90 | id 192.168.1.10 | opt len 0
const minimalHex = `${MARKER} 001d 01 04 fc00 005a c0a8010a 00`;

const fullCaps: Capability[] = [
  { code: 1, kind: "multiprotocol", afi: 1, safi: 1 },
  { code: 1, kind: "multiprotocol", afi: 2, safi: 1 },
  { code: 2, kind: "route-refresh" },
  { code: 6, kind: "extended-message" },
  { code: 65, kind: "four-octet-as", asn: 4200000000 },
  {
    code: 64,
    kind: "graceful-restart",
    value: {
      restarting: false,
      notification: true,
      restartTime: 120,
      families: [
        { afi: 1, safi: 1, forwardingPreserved: true },
        { afi: 2, safi: 1, forwardingPreserved: false },
      ],
    },
  },
  { code: 73, kind: "unknown", data: Uint8Array.of(1, 2) },
];
const full: OpenMessage = { type: 1, version: 4, myAsn: 23456, holdTime: 9, routerId: "10.0.0.1", capabilities: fullCaps };
const fullHex = [
  `${MARKER} 0045 01`, // length 69
  "04 5ba0 0009 0a000001", // version, AS_TRANS, hold 9, id
  "28", // optional parameters length 40
  "02 26", // parameter: capabilities, 38 bytes
  "01 04 0001 00 01", // MP IPv4 unicast
  "01 04 0002 00 01", // MP IPv6 unicast
  "02 00", // route refresh
  "06 00", // extended message
  "41 04 fa56ea00", // 4-octet AS 4200000000
  "40 0a 4078 0001 01 80 0002 01 00", // GR: N bit, 120 s; IPv4 F=1, IPv6 F=0
  "49 02 0102", // unknown capability 73
].join(" ");

describe("OPEN vectors", () => {
  it("encodes and decodes a minimal OPEN", () => {
    expect(toHex(encodeMessage(minimal))).toBe(toHex(fromHex(minimalHex)));
    expect(decodeMessage(fromHex(minimalHex))).toEqual({ ok: true, message: minimal });
  });

  it("encodes and decodes every capability kind", () => {
    expect(toHex(encodeMessage(full))).toBe(toHex(fromHex(fullHex)));
    expect(decodeMessage(fromHex(fullHex))).toEqual({ ok: true, message: full });
  });

  it("encodes graceful restart with the R bit", () => {
    const m: OpenMessage = {
      ...minimal,
      capabilities: [{ code: 64, kind: "graceful-restart", value: { restarting: true, notification: false, restartTime: 4095, families: [] } }],
    };
    expect(toHex(encodeMessage(m))).toBe(toHex(fromHex(`${MARKER} 0023 01 04 fc00 005a c0a8010a 06 02 04 40 02 8fff`)));
  });

  it("accepts capabilities spread over several optional parameters (as GoBGP sends them)", () => {
    const hex = `${MARKER} 0029 01 04 fc00 005a c0a8010a 0c 02 06 01040001 0001 02 02 0200`;
    const r = decodeMessage(fromHex(hex));
    expect(r).toEqual({
      ok: true,
      message: { ...minimal, capabilities: [{ code: 1, kind: "multiprotocol", afi: 1, safi: 1 }, { code: 2, kind: "route-refresh" }] },
    });
  });

  it("decodes RFC 9072 extended optional parameters", () => {
    // opt len 255, type 255, extended length 7, then param type 2 with a 2-byte length 4
    const hex = `${MARKER} 0027 01 04 fc00 005a c0a8010a ff ff 0007 02 0004 0200 0600`;
    const r = decodeMessage(fromHex(hex));
    expect(r).toEqual({
      ok: true,
      message: { ...minimal, capabilities: [{ code: 2, kind: "route-refresh" }, { code: 6, kind: "extended-message" }] },
    });
  });

  it("encodes more than 255 bytes of capabilities with RFC 9072 lengths", () => {
    const caps: Capability[] = Array.from({ length: 130 }, () => ({ code: 2, kind: "route-refresh" }));
    const bytes = encodeMessage({ ...minimal, capabilities: caps });
    expect(toHex(bytes.subarray(28, 34))).toBe("ffff01070201"); // 255, 255, ext len 263, type 2, len 0x0104...
    expect(bytes[34]).toBe(0x04);
    expect(decodeMessage(bytes)).toEqual({ ok: true, message: { ...minimal, capabilities: caps } });
  });

  it("rejects a 4-octet value in the 2-octet My AS field (programmer error)", () => {
    expect(() => encodeMessage({ ...minimal, myAsn: 70000 })).toThrow(RangeError);
    expect(() => encodeMessage({ ...minimal, routerId: "not-an-ip" })).toThrow(TypeError);
  });
});

describe("OPEN errors", () => {
  const withBody = (body: string, len: number) => fromHex(`${MARKER} ${len.toString(16).padStart(4, "0")} 01 ${body}`);

  it("Unsupported Version Number carries the version we support (4)", () => {
    expectError(decodeMessage(withBody("03 fc00 005a c0a8010a 00", 29)), 2, 1, "0004");
  });

  it("rejects hold times of 1 and 2 seconds, accepts 0 and 3", () => {
    expectError(decodeMessage(withBody("04 fc00 0001 c0a8010a 00", 29)), 2, 6);
    expectError(decodeMessage(withBody("04 fc00 0002 c0a8010a 00", 29)), 2, 6);
    expect(decodeMessage(withBody("04 fc00 0000 c0a8010a 00", 29)).ok).toBe(true);
    expect(decodeMessage(withBody("04 fc00 0003 c0a8010a 00", 29)).ok).toBe(true);
  });

  it("rejects BGP identifier 0.0.0.0", () => {
    expectError(decodeMessage(withBody("04 fc00 005a 00000000 00", 29)), 2, 3);
  });

  it("rejects optional parameters other than capabilities", () => {
    expectError(decodeMessage(withBody("04 fc00 005a c0a8010a 04 01 02 0000", 33)), 2, 4);
  });

  it("rejects an optional parameters length that disagrees with the message length", () => {
    expectError(decodeMessage(withBody("04 fc00 005a c0a8010a 05 02 02 0200", 33)), 1, 2, "0021");
  });

  it("rejects truncated or malformed capabilities", () => {
    expectError(decodeMessage(withBody("04 fc00 005a c0a8010a 03 02 01 02", 32)), 2, 0);
    expectError(decodeMessage(withBody("04 fc00 005a c0a8010a 04 02 02 0201", 33)), 2, 0);
    expectError(decodeMessage(withBody("04 fc00 005a c0a8010a 07 02 05 0103000100", 36)), 2, 0, "0103000100");
    expectError(decodeMessage(withBody("04 fc00 005a c0a8010a 05 02 03 410100", 34)), 2, 0, "410100");
    expectError(decodeMessage(withBody("04 fc00 005a c0a8010a 07 02 05 4003007800", 36)), 2, 0, "4003007800");
    expectError(decodeMessage(withBody("04 fc00 005a c0a8010a 05 02 03 020100", 34)), 2, 0, "020100");
  });

  it("rejects an OPEN shorter than 29 bytes with Bad Message Length", () => {
    expectError(decodeMessage(withBody("04 fc00 005a c0a801", 27)), 1, 2, "001b");
  });

  it("never accepts an OPEN over 4096 bytes, even with extended messages", () => {
    const caps = "4900".repeat(2100);
    const bytes = fromHex(`${MARKER} 108b 01 04 fc00 005a c0a8010a ff ff 106b 02 1068 ${caps}`);
    expectError(decodeMessage(bytes, { fourOctetAs: true, extendedMessage: true }), 1, 2, "108b");
  });
});
