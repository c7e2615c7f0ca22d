/**
 * One TCP connection of a session: framing in, encoding out, message
 * counters. It knows nothing about the FSM; the session wires the two.
 */
import type { Socket } from "node:net";
import { MessageFramer } from "../codec/header.js";
import { decodeMessage, encodeMessage, type DecodeResult } from "../codec/message.js";
import { BgpError } from "../codec/errors.js";
import { DEFAULT_CODEC_CONTEXT, type BgpMessage, type CodecContext } from "../codec/types.js";
import type { MessageCounts } from "./types.js";

const COUNTER_BY_TYPE: Record<number, keyof MessageCounts> = { 1: "opens", 2: "updates", 3: "notifications", 4: "keepalives", 5: "routeRefreshes" };

export function emptyCounts(): MessageCounts {
  return { opens: 0, updates: 0, notifications: 0, keepalives: 0, routeRefreshes: 0 };
}

export type Inbound = { kind: "message"; result: DecodeResult } | { kind: "framing-error"; error: BgpError };

export class Connection {
  private readonly framer = new MessageFramer();
  private context: CodecContext = DEFAULT_CODEC_CONTEXT;
  closed = false;

  constructor(
    readonly socket: Socket,
    private readonly sent: MessageCounts,
    private readonly received: MessageCounts,
  ) {}

  setContext(context: CodecContext): void {
    this.context = context;
    this.framer.setMaxLength(context.extendedMessage ? 65535 : 4096);
  }

  /** Splits received bytes into decoded messages (or a framing error, after which nothing more is read). */
  *receive(chunk: Uint8Array): Generator<Inbound> {
    this.framer.push(chunk);
    for (;;) {
      const next = this.framer.next();
      if (next === undefined) return;
      if (next instanceof BgpError) {
        yield { kind: "framing-error", error: next };
        return;
      }
      const result = decodeMessage(next, this.context);
      const type = result.ok ? result.message.type : next[18];
      const counter = COUNTER_BY_TYPE[type];
      if (counter) this.received[counter]++;
      yield { kind: "message", result };
    }
  }

  send(message: BgpMessage): void {
    this.write(encodeMessage(message, this.context), message.type);
  }

  /** Writes already-encoded messages of one type (UPDATEs from packUpdates). */
  write(bytes: Uint8Array, type: number): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(bytes);
    const counter = COUNTER_BY_TYPE[type];
    if (counter) this.sent[counter]++;
  }

  get codecContext(): CodecContext {
    return this.context;
  }

  /** Closes after flushing what was written (a NOTIFICATION must reach the peer). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Closes at once, sending nothing more: how a graceful-restart speaker goes away. */
  abort(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
