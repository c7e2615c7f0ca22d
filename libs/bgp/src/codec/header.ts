/**
 * The 19-byte message header (RFC 4271 §4.1) and the framer that cuts a TCP
 * byte stream into whole messages.
 */
import {
  HEADER_LENGTH,
  MARKER_LENGTH,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageHeaderErrorSubcode,
  NotificationCode,
} from "./constants.js";
import { BgpError, u16Data } from "./errors.js";
import type { CodecContext } from "./types.js";

/** The largest message the context allows (RFC 8654). */
export function maxMessageLength(ctx: CodecContext): number {
  return ctx.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}

/** Writes marker, length and type into the first 19 bytes of out. */
export function writeHeader(out: Uint8Array, length: number, type: number): void {
  out.fill(0xff, 0, MARKER_LENGTH);
  out[16] = length >>> 8;
  out[17] = length & 0xff;
  out[18] = type;
}

export function notSynchronized(): BgpError {
  return new BgpError(NotificationCode.MessageHeaderError, MessageHeaderErrorSubcode.ConnectionNotSynchronized);
}

/** Bad Message Length; RFC 4271 §6.1 puts the erroneous length field in the data. */
export function badLength(length: number, detail?: string): BgpError {
  return new BgpError(NotificationCode.MessageHeaderError, MessageHeaderErrorSubcode.BadMessageLength, u16Data(length), detail);
}

const MIN_CHUNK_LIST_COMPACT = 64;

/**
 * Splits a byte stream into whole messages. Chunks are kept in a list and
 * consumed by offset, so a flood of small messages costs O(total bytes):
 * a message inside one chunk is returned as a zero-copy view, one spanning
 * chunks is copied once.
 *
 * After an error the framer is poisoned: the stream cannot be resynchronised,
 * so next() keeps returning that error.
 */
export class MessageFramer {
  private chunks: Uint8Array[] = [];
  private head = 0; // index of the first unconsumed chunk
  private offset = 0; // consumed bytes within chunks[head]
  private buffered = 0;
  private maxLength = MAX_MESSAGE_LENGTH;
  private error: BgpError | undefined;

  /** Bytes received but not yet returned as messages. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  setMaxLength(n: 4096 | 65535): void {
    this.maxLength = n;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.error) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next whole message (header included), an error, or undefined when more bytes are needed. */
  next(): Uint8Array | BgpError | undefined {
    if (this.error) return this.error;
    if (this.buffered < HEADER_LENGTH) return undefined;
    const header = this.peek(HEADER_LENGTH);
    for (let i = 0; i < MARKER_LENGTH; i++) {
      if (header[i] !== 0xff) return (this.error = notSynchronized());
    }
    const length = (header[16] << 8) | header[17];
    if (length < HEADER_LENGTH || length > this.maxLength) {
      return (this.error = badLength(length));
    }
    if (this.buffered < length) return undefined;
    return this.take(length);
  }

  /** The first n buffered bytes without consuming them (a view when contiguous). */
  private peek(n: number): Uint8Array {
    const first = this.chunks[this.head];
    if (first.length - this.offset >= n) return first.subarray(this.offset, this.offset + n);
    return this.copyOut(n, false);
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[this.head];
    const avail = first.length - this.offset;
    if (avail >= n) {
      const view = first.subarray(this.offset, this.offset + n);
      this.offset += n;
      this.buffered -= n;
      if (this.offset === first.length) this.advanceChunk();
      return view;
    }
    return this.copyOut(n, true);
  }

  private copyOut(n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    let idx = this.head;
    let off = this.offset;
    while (filled < n) {
      const c = this.chunks[idx];
      const k = Math.min(c.length - off, n - filled);
      out.set(c.subarray(off, off + k), filled);
      filled += k;
      off += k;
      if (off === c.length) {
        idx++;
        off = 0;
      }
    }
    if (consume) {
      // Drop fully consumed chunks in one step.
      while (this.head < idx) this.chunks[this.head++] = EMPTY_CHUNK;
      this.offset = off;
      this.buffered -= n;
      this.compact();
    }
    return out;
  }

  private advanceChunk(): void {
    this.chunks[this.head++] = EMPTY_CHUNK;
    this.offset = 0;
    this.compact();
  }

  /** Releases consumed chunk slots so the list does not grow without bound. */
  private compact(): void {
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= MIN_CHUNK_LIST_COMPACT && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY_CHUNK = new Uint8Array(0);
