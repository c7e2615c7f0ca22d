/**
 * Fan-out of speaker events to WatchEvents subscribers. Each subscriber has a
 * bounded queue: one that cannot keep up is dropped with RESOURCE_EXHAUSTED
 * instead of making the speaker's memory grow without bound.
 */
import * as grpc from "@grpc/grpc-js";
import { GrpcError } from "@svcbgp/api";

export const DEFAULT_SUBSCRIBER_BUFFER = 10_000;

export interface Subscription<T> extends AsyncIterable<T> {
  close(): void;
}

export class EventBus<T> {
  private readonly subscribers = new Set<Subscriber<T>>();

  /** onSubscriberCount: called with the new count whenever a subscriber arrives or leaves. */
  constructor(
    private readonly bufferLimit = DEFAULT_SUBSCRIBER_BUFFER,
    private readonly onSubscriberCount?: (count: number) => void,
  ) {}

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  publish(event: T): void {
    for (const s of this.subscribers) s.push(event);
  }

  /** A live subscription; events published before it are not replayed. */
  subscribe(signal?: AbortSignal): Subscription<T> {
    const subscriber = new Subscriber<T>(this.bufferLimit, () => {
      if (this.subscribers.delete(subscriber)) this.onSubscriberCount?.(this.subscribers.size);
    });
    this.subscribers.add(subscriber);
    this.onSubscriberCount?.(this.subscribers.size);
    if (signal) {
      if (signal.aborted) subscriber.close();
      else signal.addEventListener("abort", () => subscriber.close(), { once: true });
    }
    return subscriber;
  }

  /** Ends every subscription (server shutdown). */
  closeAll(): void {
    for (const s of [...this.subscribers]) s.close();
  }
}

class Subscriber<T> implements Subscription<T> {
  private queue: T[] = [];
  private waiting: (() => void) | undefined;
  private closed = false;
  private failure: Error | undefined;

  constructor(
    private readonly limit: number,
    private readonly detach: () => void,
  ) {}

  push(event: T): void {
    if (this.closed) return;
    if (this.queue.length >= this.limit) {
      this.failure = new GrpcError(grpc.status.RESOURCE_EXHAUSTED, `event subscriber fell more than ${this.limit} events behind; resubscribe`);
      this.queue = [];
      this.close();
      return;
    }
    this.queue.push(event);
    this.wake();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        if (this.failure) throw this.failure;
        const next = this.queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (this.closed) return;
        await new Promise<void>((resolve) => (this.waiting = resolve));
      }
    } finally {
      this.close();
    }
  }
}
