/** Header checks (RFC 4271 §6.1), KEEPALIVE and ROUTE-REFRESH vectors. */
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "./bytes.js";
import { decodeMessage, encodeMessage, type DecodeResult, type RouteRefreshMessage } from "./index.js";

const MARKER = "ff".repeat(16);
const EXT = { fourOctetAs: true, extendedMessage: true };

function expectError(r: DecodeResult, code: number, subcode: number, dataHex: string): void {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.message)}`);
  expect([r.error.code, r.error.subcode, toHex(r.error.data)]).toEqual([code, subcode, dataHex]);
}

describe("KEEPALIVE", () => {
  it("is a bare 19-byte header", () => {
    const hex = `${MARKER} 0013 04`;
    expect(toHex(encodeMessage({ type: 4 }))).toBe(toHex(fromHex(hex)));
    expect(decodeMessage(fromHex(hex))).toEqual({ ok: true, message: { type: 4 } });
  });

  it("must be exactly 19 bytes", () => {
    expectError(decodeMessage(fromHex(`${MARKER} 0014 04 00`)), 1, 2, "0014");
  });
});

describe("ROUTE-REFRESH", () => {
  const vectors: Array<[string, RouteRefreshMessage, string]> = [
    ["IPv4 unicast", { type: 5, afi: 1, safi: 1 }, `${MARKER} 0017 05 0001 00 01`],
    ["IPv6 unicast", { type: 5, afi: 2, safi: 1 }, `${MARKER} 0017 05 0002 00 01`],
    ["RFC 7313 BoRR", { type: 5, afi: 1, safi: 1, subtype: 1 }, `${MARKER} 0017 05 0001 01 01`],
  ];
  for (const [name, m, hex] of vectors) {
    it(name, () => {
      expect(toHex(encodeMessage(m))).toBe(toHex(fromHex(hex)));
      expect(decodeMessage(fromHex(hex))).toEqual({ ok: true, message: m });
    });
  }

  it("must be exactly 23 bytes", () => {
    expectError(decodeMessage(fromHex(`${MARKER} 0018 05 0001 00 01 00`)), 1, 2, "0018");
    expectError(decodeMessage(fromHex(`${MARKER} 0016 05 0001 00`)), 1, 2, "0016");
  });
});

describe("header errors", () => {
  it("Connection Not Synchronized for a bad marker", () => {
    const b = fromHex(`${MARKER} 0013 04`);
    b[7] = 0xfe;
    expectError(decodeMessage(b), 1, 1, "");
  });

  it("Bad Message Type with the type byte", () => {
    expectError(decodeMessage(fromHex(`${MARKER} 0013 06`)), 1, 3, "06");
    expectError(decodeMessage(fromHex(`${MARKER} 0013 00`)), 1, 3, "00");
  });

  it("Bad Message Length with the length field", () => {
    expectError(decodeMessage(fromHex(`${MARKER} 0012 04`)), 1, 2, "0012"); // below 19 (buffer disagrees too)
    expectError(decodeMessage(fromHex(`${MARKER} 0014 04`)), 1, 2, "0014"); // field says more than the buffer
    expectError(decodeMessage(fromHex(`${MARKER} 00`)), 1, 2, "0011"); // shorter than a header
    expectError(decodeMessage(new Uint8Array(0)), 1, 2, "0000");
  });

  it("allows messages above 4096 bytes only with the extended message capability", () => {
    const len = 5000;
    const b = new Uint8Array(len).fill(0);
    b.fill(0xff, 0, 16);
    b[16] = len >> 8;
    b[17] = len & 0xff;
    b[18] = 3; // NOTIFICATION: any length is valid
    b[19] = 6;
    expectError(decodeMessage(b), 1, 2, "1388");
    const r = decodeMessage(b, EXT);
    expect(r.ok && r.message.type === 3 && r.message.data.length).toBe(len - 21);
    b[18] = 4;
    expectError(decodeMessage(b, EXT), 1, 2, "1388"); // KEEPALIVE is never extended
  });

  it("never throws, even on non-Uint8Array garbage", () => {
    const r = decodeMessage(undefined as unknown as Uint8Array);
    expect(r.ok).toBe(false);
  });
});
