/** MessageFramer: stream splitting at every boundary, marker and length errors, and floods. */
import { describe, expect, it } from "vitest";
import { toHex } from "./bytes.js";
import { BgpError, MessageFramer, encodeMessage, packUpdates, shutdownNotification, type BgpMessage } from "./index.js";

const MESSAGES: BgpMessage[] = [
  { type: 1, version: 4, myAsn: 64512, holdTime: 9, routerId: "192.168.1.10", capabilities: [{ code: 2, kind: "route-refresh" }] },
  { type: 4 },
  { type: 2, withdrawn: [], attributes: { origin: 0, asPath: [], nextHop: "192.168.1.10" }, nlri: ["10.49.0.0/16"] },
  { type: 5, afi: 1, safi: 1 },
  shutdownNotification("bye"),
];

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function drain(f: MessageFramer): Array<Uint8Array | BgpError> {
  const out: Array<Uint8Array | BgpError> = [];
  for (let m = f.next(); m !== undefined; m = f.next()) {
    out.push(m);
    if (m instanceof BgpError) break;
  }
  return out;
}

const encoded = MESSAGES.map((m) => encodeMessage(m));
const stream = concat(encoded);
const expectedHex = encoded.map(toHex);

describe("MessageFramer", () => {
  it("returns undefined until a whole message is buffered", () => {
    const f = new MessageFramer();
    expect(f.next()).toBeUndefined();
    f.push(encoded[1].subarray(0, 10));
    expect(f.next()).toBeUndefined();
    f.push(encoded[1].subarray(10));
    expect(toHex(f.next() as Uint8Array)).toBe(expectedHex[1]);
    expect(f.next()).toBeUndefined();
    expect(f.bufferedBytes).toBe(0);
  });

  it("splits the stream correctly at every single byte boundary", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const f = new MessageFramer();
      const got: Array<Uint8Array | BgpError> = [];
      f.push(stream.subarray(0, cut));
      got.push(...drain(f));
      f.push(stream.subarray(cut));
      got.push(...drain(f));
      expect(got.map((m) => toHex(m as Uint8Array))).toEqual(expectedHex);
    }
  });

  it("splits correctly at every pair of boundaries", () => {
    for (let a = 0; a <= stream.length; a += 3) {
      for (let b = a; b <= stream.length; b += 5) {
        const f = new MessageFramer();
        const got: Array<Uint8Array | BgpError> = [];
        for (const part of [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]) {
          f.push(part);
          got.push(...drain(f));
        }
        expect(got.map((m) => toHex(m as Uint8Array))).toEqual(expectedHex);
      }
    }
  });

  it("handles one byte per push", () => {
    const f = new MessageFramer();
    const got: Array<Uint8Array | BgpError> = [];
    for (const byte of stream) {
      f.push(Uint8Array.of(byte));
      got.push(...drain(f));
    }
    expect(got.map((m) => toHex(m as Uint8Array))).toEqual(expectedHex);
  });

  it("reports a bad marker as Connection Not Synchronized, and stays failed", () => {
    const bad = stream.slice();
    bad[encoded[0].length + 3] = 0; // marker of the second message
    const f = new MessageFramer();
    f.push(bad);
    const got = drain(f);
    expect(got).toHaveLength(2);
    const err = got[1] as BgpError;
    expect([err.code, err.subcode, err.data.length]).toEqual([1, 1, 0]);
    expect(f.next()).toBe(err);
    f.push(encoded[1]);
    expect(f.next()).toBe(err);
  });

  it("reports lengths below 19 or above the maximum as Bad Message Length with the length", () => {
    for (const [len, max] of [
      [18, 4096],
      [0, 4096],
      [4097, 4096],
    ] as const) {
      const f = new MessageFramer();
      f.setMaxLength(max);
      const header = new Uint8Array(19).fill(0xff);
      header[16] = len >> 8;
      header[17] = len & 0xff;
      header[18] = 2;
      f.push(header);
      const err = f.next() as BgpError;
      expect(err).toBeInstanceOf(BgpError);
      expect([err.code, err.subcode, toHex(err.data)]).toEqual([1, 2, len.toString(16).padStart(4, "0")]);
    }
  });

  it("accepts up to 65535 bytes after setMaxLength(65535)", () => {
    const ctx = { fourOctetAs: true, extendedMessage: true };
    const nlri = Array.from({ length: 5000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    const [big] = packUpdates({ attributes: { origin: 0, asPath: [], nextHop: "192.0.2.1" }, nlri }, ctx);
    expect(big.length).toBeGreaterThan(4096);
    const f = new MessageFramer();
    f.push(big);
    expect(f.next()).toBeInstanceOf(BgpError);
    const g = new MessageFramer();
    g.setMaxLength(65535);
    g.push(big.subarray(0, 100));
    g.push(big.subarray(100));
    expect(toHex(g.next() as Uint8Array)).toBe(toHex(big));
  });

  it("handles a flood of many small messages in small chunks", () => {
    const keepalive = encodeMessage({ type: 4 });
    const count = 200_000;
    const flood = new Uint8Array(count * keepalive.length);
    for (let i = 0; i < count; i++) flood.set(keepalive, i * keepalive.length);
    const f = new MessageFramer();
    let n = 0;
    let errors = 0;
    for (let at = 0; at < flood.length; at += 1000) {
      f.push(flood.subarray(at, at + 1000));
      for (let m = f.next(); m !== undefined; m = f.next()) {
        if (m instanceof BgpError) {
          errors++;
          break;
        }
        n++;
      }
    }
    expect(errors).toBe(0);
    expect(n).toBe(count);
    expect(f.bufferedBytes).toBe(0);
  });
});
