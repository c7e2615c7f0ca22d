/**
 * Decoder fuzz suite: random bytes and mutations of valid messages (bit flips,
 * truncation, length-field tampering, attribute splicing...). Bounded to
 * ~200k inputs per run and deterministic per seed (FUZZ_SEED=n to vary it;
 * a failure prints the seed and the input's hex).
 *
 * Properties: decodeMessage never throws and never hits its internal safety
 * net; every rejection is a NOTIFICATION code 1..7 with a subcode and data that
 * can be sent; every accepted message re-encodes and decodes to the same value;
 * the framer never throws.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BgpError,
  MessageFramer,
  decodeMessage,
  encodeMessage,
  toNotification,
  type CodecContext,
  type DecodeResult,
} from "../../libs/bgp/src/codec/index.js";
import { messageArb, updateArb } from "./bgp-arbitraries.js";

const SEED = Number(process.env.FUZZ_SEED ?? 20240607) >>> 0;
const CORPUS_SIZE = 400;
const RANDOM_ITERATIONS = 40_000;
const STRUCTURED_RANDOM_ITERATIONS = 40_000;
const MUTATION_ITERATIONS = 100_000;
const SPLICE_ITERATIONS = 15_000;
const FRAMER_ITERATIONS = 5_000;

const CONTEXTS: CodecContext[] = [
  { fourOctetAs: false, extendedMessage: false },
  { fourOctetAs: true, extendedMessage: false },
  { fourOctetAs: false, extendedMessage: true },
  { fourOctetAs: true, extendedMessage: true },
];
const INTERESTING_U8 = [0, 1, 2, 3, 4, 5, 0x0f, 0x10, 0x20, 0x40, 0x7f, 0x80, 0xc0, 0xd0, 0xe0, 0xfe, 0xff];
const INTERESTING_U16 = [0, 1, 2, 3, 4, 18, 19, 20, 23, 29, 255, 256, 4095, 4096, 4097, 0x7fff, 0x8000, 0xfffe, 0xffff];

/** mulberry32: small, fast and deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** The valid messages mutations start from, with the context they were encoded for. */
function buildCorpus(): Array<{ bytes: Uint8Array; ctx: CodecContext }> {
  const rng = new Rng(SEED ^ 0x5eed);
  const out: Array<{ bytes: Uint8Array; ctx: CodecContext }> = [];
  const messages = [
    ...fc.sample(messageArb, { numRuns: CORPUS_SIZE / 2, seed: SEED }),
    ...fc.sample(updateArb, { numRuns: CORPUS_SIZE / 2, seed: SEED + 1 }),
  ];
  for (const m of messages) {
    const ctx = rng.pick(CONTEXTS);
    out.push({ bytes: encodeMessage(m, ctx), ctx });
  }
  return out;
}

const corpus = buildCorpus();
const updates = corpus.filter((c) => c.bytes[18] === 2);

function setLength(b: Uint8Array): Uint8Array {
  if (b.length >= 18) {
    const n = Math.min(b.length, 0xffff);
    b[16] = n >> 8;
    b[17] = n & 0xff;
  }
  return b;
}

function splice(b: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length - remove + insert.length);
  out.set(b.subarray(0, at));
  out.set(insert, at);
  out.set(b.subarray(at + remove), at + insert.length);
  return out;
}

/** One random structural mutation. */
function mutate(rng: Rng, input: Uint8Array): Uint8Array {
  const b = input.slice();
  if (b.length === 0) return rng.bytes(rng.int(40));
  switch (rng.int(9)) {
    case 0: {
      // bit flips, biased past the marker
      const flips = 1 + rng.int(4);
      for (let k = 0; k < flips; k++) {
        const i = rng.chance(0.9) && b.length > 19 ? 16 + rng.int(b.length - 16) : rng.int(b.length);
        b[i] ^= 1 << rng.int(8);
      }
      return b;
    }
    case 1:
      b[rng.int(b.length)] = rng.pick(INTERESTING_U8);
      return b;
    case 2: {
      // 2-byte length-like field tampering at a random offset
      if (b.length < 2) return b;
      const i = rng.int(b.length - 1);
      const v = rng.chance(0.7) ? rng.pick(INTERESTING_U16) : rng.int(0x10000);
      b[i] = v >> 8;
      b[i + 1] = v & 0xff;
      return b;
    }
    case 3:
      return b.subarray(0, rng.int(b.length)); // truncation
    case 4:
      return splice(b, b.length, 0, rng.bytes(1 + rng.int(64))); // trailing garbage
    case 5: {
      const at = rng.int(b.length);
      return splice(b, at, Math.min(b.length - at, 1 + rng.int(8)), new Uint8Array(0)); // deletion
    }
    case 6: {
      const at = rng.int(b.length);
      const len = Math.min(b.length - at, 1 + rng.int(16));
      return splice(b, rng.int(b.length), 0, b.slice(at, at + len)); // duplicate a region
    }
    case 7: {
      const at = rng.int(b.length);
      return splice(b, at, 0, rng.bytes(1 + rng.int(8))); // insertion
    }
    default: {
      // single-byte length fields (attribute and capability lengths) off by a little
      const i = 19 + rng.int(Math.max(1, b.length - 19));
      if (i < b.length) b[i] = (b[i] + rng.pick([-2, -1, 1, 2, 128])) & 0xff;
      return b;
    }
  }
}

/** Attribute boundaries [start, end) of a well-formed UPDATE, or undefined. */
function attributeSpans(b: Uint8Array): { attrLenAt: number; spans: Array<[number, number]> } | undefined {
  if (b.length < 23) return undefined;
  const wl = (b[19] << 8) | b[20];
  const attrLenAt = 21 + wl;
  if (attrLenAt + 2 > b.length) return undefined;
  const al = (b[attrLenAt] << 8) | b[attrLenAt + 1];
  const end = attrLenAt + 2 + al;
  if (end > b.length) return undefined;
  const spans: Array<[number, number]> = [];
  let i = attrLenAt + 2;
  while (i + 3 <= end) {
    const ext = (b[i] & 0x10) !== 0;
    const len = ext ? (b[i + 2] << 8) | b[i + 3] : b[i + 2];
    const e = i + (ext ? 4 : 3) + len;
    if (e > end) break;
    spans.push([i, e]);
    i = e;
  }
  return { attrLenAt, spans };
}

/** Moves an attribute from a donor UPDATE (possibly itself) into the target, fixing the lengths so the decoder looks deeper. */
function spliceAttribute(rng: Rng, target: Uint8Array, donor: Uint8Array): Uint8Array {
  const t = attributeSpans(target);
  const d = attributeSpans(donor);
  if (!t || !d || d.spans.length === 0) return mutate(rng, target);
  const [ds, de] = rng.pick(d.spans);
  let attr: Uint8Array = donor.slice(ds, de);
  if (rng.chance(0.3)) attr = mutate(rng, attr);
  const at = t.spans.length > 0 && rng.chance(0.8) ? rng.pick(t.spans)[rng.int(2)] : t.attrLenAt + 2;
  const out = splice(target, at, 0, attr);
  const al = ((out[t.attrLenAt] << 8) | out[t.attrLenAt + 1]) + attr.length;
  out[t.attrLenAt] = (al >> 8) & 0xff;
  out[t.attrLenAt + 1] = al & 0xff;
  return setLength(out);
}

let decodes = 0;

/** Decodes and checks every property; returns the result for further checks. */
function check(bytes: Uint8Array, ctx: CodecContext): DecodeResult {
  decodes++;
  let r: DecodeResult;
  try {
    r = decodeMessage(bytes, ctx);
  } catch (e) {
    throw new Error(`decodeMessage threw (seed ${SEED}): ${String(e)}\ninput: ${hex(bytes)}`);
  }
  const fail = (why: string) => new Error(`${why} (seed ${SEED}, ctx ${JSON.stringify(ctx)})\ninput: ${hex(bytes)}`);
  if (!r.ok) {
    const { code, subcode, data } = r.error;
    if (!(r.error instanceof BgpError)) throw fail("error is not a BgpError");
    if (!Number.isInteger(code) || code < 1 || code > 7) throw fail(`bad code ${code}`);
    if (!Number.isInteger(subcode) || subcode < 0 || subcode > 255) throw fail(`bad subcode ${subcode}`);
    if (!(data instanceof Uint8Array)) throw fail("data is not bytes");
    if (r.error.message.includes("internal decoder error")) throw fail(r.error.message);
    encodeMessage(toNotification(r.error)); // the NOTIFICATION must be sendable
    return r;
  }
  // Accepted: re-encoding must work (or refuse only for size) and be stable.
  let again: Uint8Array;
  try {
    again = encodeMessage(r.message, ctx);
  } catch (e) {
    if (e instanceof RangeError && /exceeds/.test(e.message)) return r;
    throw fail(`re-encoding a decoded message threw: ${String(e)}`);
  }
  const r2 = decodeMessage(again, ctx);
  if (!r2.ok) throw fail(`re-encoded message does not decode: ${r2.error.message}`);
  expectSame(r2.message, r.message, fail);
  return r;
}

/** Structural equality of decoded values (plain objects, arrays, bytes); much cheaper than expect().toEqual in a hot loop. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((v, i) => v === b[i]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => same(v, b[i]));
  }
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function expectSame(a: unknown, b: unknown, fail: (why: string) => Error): void {
  if (!same(a, b)) {
    const show = (v: unknown) => JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? hex(x) : x));
    throw fail(`decode(encode(decoded)) differs:\n${show(a)}\n${show(b)}`);
  }
}

describe(`BGP decoder fuzz (seed ${SEED})`, () => {
  it("has a corpus of valid messages that all decode", () => {
    for (const { bytes, ctx } of corpus) {
      const r = check(bytes, ctx);
      expect(r.ok).toBe(true);
    }
    expect(updates.length).toBeGreaterThan(CORPUS_SIZE / 4);
  });

  it("survives random bytes", () => {
    const rng = new Rng(SEED + 1);
    for (let i = 0; i < RANDOM_ITERATIONS; i++) {
      check(rng.bytes(rng.int(80)), rng.pick(CONTEXTS));
    }
  });

  it("survives random bodies behind a valid header", () => {
    const rng = new Rng(SEED + 2);
    let accepted = 0;
    for (let i = 0; i < STRUCTURED_RANDOM_ITERATIONS; i++) {
      const body = rng.bytes(rng.int(rng.chance(0.1) ? 600 : 60));
      const b = new Uint8Array(19 + body.length);
      b.fill(0xff, 0, 16);
      b[18] = rng.chance(0.95) ? 1 + rng.int(5) : rng.int(256);
      b.set(body, 19);
      if (check(setLength(b), rng.pick(CONTEXTS)).ok) accepted++;
    }
    expect(accepted).toBeGreaterThan(0);
  });

  it("survives mutated valid messages", () => {
    const rng = new Rng(SEED + 3);
    const outcomes = { ok: 0, withdraw: 0, discard: 0, error: 0 };
    for (let i = 0; i < MUTATION_ITERATIONS; i++) {
      const { bytes, ctx } = rng.pick(corpus);
      let b = bytes;
      const rounds = 1 + rng.int(3);
      for (let k = 0; k < rounds; k++) b = mutate(rng, b);
      if (rng.chance(0.8)) b = setLength(b.slice());
      const r = check(b, rng.chance(0.9) ? ctx : rng.pick(CONTEXTS));
      if (!r.ok) outcomes.error++;
      else if (r.action === "treat-as-withdraw") outcomes.withdraw++;
      else if (r.action === "attribute-discard") outcomes.discard++;
      else outcomes.ok++;
    }
    // The mutations reach every outcome class, so the suite exercises RFC 7606 paths.
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.withdraw).toBeGreaterThan(0);
    expect(outcomes.discard).toBeGreaterThan(0);
    expect(outcomes.error).toBeGreaterThan(0);
  });

  it("survives attribute splicing between UPDATEs", () => {
    const rng = new Rng(SEED + 4);
    for (let i = 0; i < SPLICE_ITERATIONS; i++) {
      const target = rng.pick(updates);
      const donor = rng.chance(0.3) ? target : rng.pick(updates);
      check(spliceAttribute(rng, target.bytes, donor.bytes), target.ctx);
    }
  });

  it("the framer never throws and recovers whole messages from any chunking", () => {
    const rng = new Rng(SEED + 5);
    for (let i = 0; i < FRAMER_ITERATIONS; i++) {
      const picks = Array.from({ length: 1 + rng.int(6) }, () => rng.pick(corpus).bytes);
      const corrupt = rng.chance(0.3);
      const parts = picks.map((p) => (corrupt && rng.chance(0.3) ? mutate(rng, p) : p));
      const total = parts.reduce((n, p) => n + p.length, 0);
      const stream = new Uint8Array(total);
      let at = 0;
      for (const p of parts) {
        stream.set(p, at);
        at += p.length;
      }
      const f = new MessageFramer();
      if (rng.chance(0.5)) f.setMaxLength(65535);
      const got: Uint8Array[] = [];
      let error: BgpError | undefined;
      try {
        for (let pos = 0; pos < stream.length && !error; ) {
          const n = 1 + rng.int(rng.chance(0.5) ? 8 : 600);
          f.push(stream.subarray(pos, pos + n));
          pos += n;
          for (let m = f.next(); m !== undefined; m = f.next()) {
            if (m instanceof BgpError) {
              error = m;
              break;
            }
            got.push(m);
          }
        }
      } catch (e) {
        throw new Error(`framer threw (seed ${SEED}): ${String(e)}\nstream: ${hex(stream)}`);
      }
      if (error) {
        expect(error.code).toBe(1);
        expect([1, 2]).toContain(error.subcode);
      }
      if (!corrupt) {
        expect(error).toBeUndefined();
        expect(got.map(hex)).toEqual(parts.map(hex));
      }
      for (const m of got) check(m, CONTEXTS[3]);
    }
  });

  it("ran the planned number of decodes", () => {
    expect(decodes).toBeGreaterThan(190_000);
  });
});
