import { describe, expect, it } from "vitest";
import { IntentStore } from "./store.js";
import { delta, intent } from "../testing/fixtures.js";

const peerA = { address: "192.0.2.1", asn: 64512 };
const peerB = { address: "192.0.2.2", asn: 64513 };

describe("IntentStore", () => {
  it("reports everything as new on the first snapshot", () => {
    const store = new IntentStore();
    const change = store.applySnapshot(intent({ peers: [peerA], routes: [{ prefix: "10.49.0.0/16" }, { prefix: "10.0.0.0/8" }] }), 1n);
    expect(change.upsertedRoutes.map((r) => r.prefix)).toEqual(["10.0.0.0/8", "10.49.0.0/16"]);
    expect(change.addedPeers.map((p) => p.address)).toEqual(["192.0.2.1"]);
    expect(change.withdrawnPrefixes).toEqual([]);
    expect(change.nodeChanged).toBe(false);
    expect(store.revision).toBe(1n);
  });

  it("diffs a new snapshot against the current intent: only what differs", () => {
    const store = new IntentStore();
    store.applySnapshot(
      intent({ peers: [peerA, peerB], routes: [{ prefix: "10.49.0.0/16" }, { prefix: "10.49.62.131/32" }, { prefix: "192.168.3.0/24" }] }),
      1n,
    );
    const change = store.applySnapshot(
      intent({
        peers: [peerA, { ...peerB, holdTime: 9 }],
        routes: [{ prefix: "10.49.0.0/16" }, { prefix: "192.168.3.0/24", communities: ["64512:100"] }, { prefix: "fd00::/64" }],
      }),
      7n,
    );
    expect(change.upsertedRoutes.map((r) => r.prefix)).toEqual(["192.168.3.0/24", "fd00::/64"]);
    expect(change.withdrawnPrefixes).toEqual(["10.49.62.131/32"]);
    expect(change.addedPeers).toEqual([]);
    expect(change.changedPeers.map((p) => p.address)).toEqual(["192.0.2.2"]);
    expect(change.removedPeers).toEqual([]);
    expect(store.revision).toBe(7n);
  });

  it("reports an identical snapshot as no change at all", () => {
    const store = new IntentStore();
    const i = intent({ peers: [peerA], routes: [{ prefix: "10.49.0.0/16" }] });
    store.applySnapshot(i, 1n);
    const change = store.applySnapshot(intent({ peers: [peerA], routes: [{ prefix: "10.49.0.0/16" }] }), 2n);
    expect(change).toMatchObject({ upsertedRoutes: [], withdrawnPrefixes: [], addedPeers: [], changedPeers: [], removedPeers: [], nodeChanged: false });
  });

  it("flags node-level changes (router id, local AS)", () => {
    const store = new IntentStore();
    store.applySnapshot(intent({ localAsn: 64512 }), 1n);
    expect(store.applySnapshot(intent({ localAsn: 64513 }), 2n).nodeChanged).toBe(true);
  });

  it("applies deltas on the right base revision and refuses others", () => {
    const store = new IntentStore();
    store.applySnapshot(intent({ peers: [peerA, peerB], routes: [{ prefix: "10.49.0.0/16" }, { prefix: "10.49.1.0/24" }] }), 5n);
    expect(store.applyDelta(delta({ baseRevision: 4n, withdrawnPrefixes: ["10.49.0.0/16"] }), 6n)).toBeUndefined();
    expect(store.revision).toBe(5n);
    const change = store.applyDelta(
      delta({
        baseRevision: 5n,
        upsertedRoutes: [{ prefix: "10.49.1.0/24" }, { prefix: "10.50.0.0/16" }],
        withdrawnPrefixes: ["10.49.0.0/16", "10.99.0.0/16"],
        removedPeers: ["192.0.2.2"],
        upsertedPeers: [{ address: "2001:db8::1", port: 1179, asn: 65000 }],
      }),
      6n,
    )!;
    // 10.49.1.0/24 is unchanged and 10.99.0.0/16 was never there: neither is reported.
    expect(change.upsertedRoutes.map((r) => r.prefix)).toEqual(["10.50.0.0/16"]);
    expect(change.withdrawnPrefixes).toEqual(["10.49.0.0/16"]);
    expect(change.removedPeers).toEqual(["192.0.2.2:179"]);
    expect(change.addedPeers.map((p) => p.address)).toEqual(["2001:db8::1"]);
    expect(store.routes().map((r) => r.prefix)).toEqual(["10.49.1.0/24", "10.50.0.0/16"]);
    expect(store.applyDelta(delta({ baseRevision: 6n, removedPeers: ["[2001:db8::1]:1179"] }), 7n)!.removedPeers).toEqual(["[2001:db8::1]:1179"]);
  });

  it("treats a prefix withdrawn and upserted in one delta as upserted", () => {
    const store = new IntentStore();
    store.applySnapshot(intent({ routes: [{ prefix: "10.49.0.0/16" }] }), 1n);
    const change = store.applyDelta(delta({ baseRevision: 1n, withdrawnPrefixes: ["10.49.0.0/16"], upsertedRoutes: [{ prefix: "10.49.0.0/16" }] }), 2n)!;
    expect(change.withdrawnPrefixes).toEqual([]);
    expect(change.upsertedRoutes).toEqual([]);
    expect(store.routes().map((r) => r.prefix)).toEqual(["10.49.0.0/16"]);
  });
});
