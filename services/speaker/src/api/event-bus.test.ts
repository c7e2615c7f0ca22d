import { describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { EventBus } from "./event-bus.js";

describe("EventBus", () => {
  it("delivers events published after subscribing, in order", async () => {
    const bus = new EventBus<number>(10);
    const sub = bus.subscribe();
    bus.publish(1);
    bus.publish(2);
    const it = sub[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 1, done: false });
    expect(await it.next()).toEqual({ value: 2, done: false });
    const pending = it.next();
    bus.publish(3);
    expect(await pending).toEqual({ value: 3, done: false });
    sub.close();
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(bus.subscriberCount).toBe(0);
  });

  it("drops a subscriber that falls behind with RESOURCE_EXHAUSTED, leaving others alone", async () => {
    const bus = new EventBus<number>(3);
    const slow = bus.subscribe();
    const fast = bus.subscribe();
    const fastSeen: number[] = [];
    const consuming = (async () => {
      for await (const n of fast) {
        fastSeen.push(n);
        if (n === 5) break;
      }
    })();
    for (let i = 1; i <= 5; i++) {
      bus.publish(i);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await consuming;
    expect(fastSeen).toEqual([1, 2, 3, 4, 5]);
    const it = slow[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    expect(bus.subscriberCount).toBe(0);
  });

  it("ends a subscription when its signal aborts", async () => {
    const bus = new EventBus<number>();
    const controller = new AbortController();
    const sub = bus.subscribe(controller.signal);
    const next = sub[Symbol.asyncIterator]().next();
    controller.abort();
    expect(await next).toEqual({ value: undefined, done: true });
  });

  it("reports the subscriber count as subscribers arrive and leave", async () => {
    const counts: number[] = [];
    const bus = new EventBus<number>(10, (n) => counts.push(n));
    const a = bus.subscribe();
    const controller = new AbortController();
    bus.subscribe(controller.signal);
    a.close();
    a.close();
    controller.abort();
    expect(counts).toEqual([1, 2, 1, 0]);
  });
});
