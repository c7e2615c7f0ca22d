/**
 * Adj-RIB-Out: what we advertise to one peer, and the minimal change between
 * that and a new desired set.
 *
 * The table persists across session flaps: it is "what the peer should have
 * while the session is up". While the session is down the session layer still
 * calls setDesired (and discards the changes); on Established it sends
 * fullTable() and then End-of-RIB per negotiated family, and on ROUTE-REFRESH
 * fullTable(afi) again.
 *
 * Change sets are lists of groups for the codec's packUpdates:
 * announcements grouped by identical (interned) attribute sets, withdrawals
 * batched per family. Within a change set a prefix appears at most once, and
 * announcements come before withdrawals (make before break).
 *
 * IPv6 groups carry `mpReach` with the next hops and an empty `nlri`: it is a
 * template; the group's `nlri` lists the prefixes to put into it.
 */
import type { PathAttributes } from "../codec/types.js";
import { AttributeTable, attributeKey } from "./attributes.js";
import { Ipv4Table } from "./ipv4-table.js";
import { KeyedDesired, type KeyedRoutes } from "./policy.js";
import { compareKeys, ipv4Key, keyToPrefix, prefixToKey, type PrefixKey } from "./prefix.js";
import type { WithdrawnKeys } from "./wanted-routes.js";

export interface RibOutRoute {
  attributes: PathAttributes;
}

export interface AnnounceGroup {
  attributes: PathAttributes;
  nlri: string[];
}

export interface WithdrawGroup {
  withdrawn: string[];
  afi: number;
}

export type UpdateGroup = AnnounceGroup | WithdrawGroup;

export function isWithdrawGroup(group: UpdateGroup): group is WithdrawGroup {
  return "withdrawn" in group;
}

export interface RibOutEntry {
  prefix: string;
  attributes: PathAttributes;
}

/**
 * A change set in keys, as the session sends it: IPv4 keys (`address * 64 +
 * length`) in a Float64Array, IPv6 keys as strings; each list sorted.
 * Announcements have `attributes`; withdrawals have none.
 */
export interface KeyedGroup {
  afi: 1 | 2;
  attributes: PathAttributes | undefined;
  ipv4: Float64Array;
  ipv6: string[];
}

const NO_IPV4 = new Float64Array(0);

/**
 * Keys put (changed) and removed during one change, append-only, duplicates
 * allowed. What is finally announced is the put keys still in the table, and
 * withdrawn the removed keys no longer in it — the net effect, whatever the
 * order of puts and removes.
 */
class ChangeSet {
  put4: number[] = [];
  put6: string[] = [];
  removed4: number[] = [];
  removed6: string[] = [];
}

function mustKey(prefix: string): PrefixKey {
  const key = prefixToKey(prefix);
  if (key === undefined) throw new RangeError(`not a prefix: ${JSON.stringify(prefix)}`);
  return key;
}

/** Sorted, without duplicates; sorts only when the keys are not already in strictly ascending order. */
function sortedUnique4(keys: number[]): Float64Array {
  const out = Float64Array.from(keys);
  let ordered = true;
  for (let i = 1; i < out.length; i++) {
    if (out[i] <= out[i - 1]) {
      ordered = false;
      break;
    }
  }
  if (ordered) return out;
  out.sort();
  let n = 0;
  for (let i = 0; i < out.length; i++) if (i === 0 || out[i] !== out[n - 1]) out[n++] = out[i];
  return n === out.length ? out : out.slice(0, n);
}

/** Sorts unique keys, unless they are already ascending (withdrawals usually come in the order they were announced). */
function sortInPlace(keys: Float64Array): Float64Array {
  for (let i = 1; i < keys.length; i++) if (keys[i] < keys[i - 1]) return keys.sort();
  return keys;
}

function sortedUnique6(keys: string[]): string[] {
  return [...new Set(keys)].sort();
}

function stringGroups(groups: KeyedGroup[]): UpdateGroup[] {
  return groups.map((g) => {
    const prefixes = g.afi === 1 ? Array.from(g.ipv4, keyToPrefix) : g.ipv6.map(keyToPrefix);
    return g.attributes ? { attributes: g.attributes, nlri: prefixes } : { withdrawn: prefixes, afi: g.afi };
  });
}

/** The prefix text of every key of a keyed group. */
export function keyedGroupPrefixes(group: KeyedGroup): string[] {
  return group.afi === 1 ? Array.from(group.ipv4, keyToPrefix) : group.ipv6.map(keyToPrefix);
}

export class AdjRibOut {
  private readonly attributes = new AttributeTable();
  /** IPv4 routes: address, length → attribute set id (typed arrays: no per-route objects, no boxed keys). */
  private readonly routes4 = new Ipv4Table();
  private readonly routes6 = new Map<string, number>();
  /** The last attributes object put, and its key (attribute objects are never mutated once built). */
  private lastAttributes: PathAttributes | undefined;
  private lastAttributeKey = "";

  /** Routes held (advertised while the session is up), for one family or all. */
  count(afi?: number): number {
    if (afi === undefined) return this.size;
    return afi === 1 ? this.routes4.size : afi === 2 ? this.routes6.size : 0;
  }

  get size(): number {
    return this.routes4.size + this.routes6.size;
  }

  /** Distinct attribute sets in use. */
  get attributeSetCount(): number {
    return this.attributes.size;
  }

  get(prefix: string): PathAttributes | undefined {
    const key = prefixToKey(prefix);
    const id = key === undefined ? undefined : this.idOf(key);
    return id === undefined ? undefined : this.attributes.get(id);
  }

  has(prefix: string): boolean {
    return this.get(prefix) !== undefined;
  }

  /**
   * Replaces the whole table. Prefixes are canonicalised (host bits cleared);
   * throws RangeError on a string that is not a prefix.
   */
  setDesired(routes: ReadonlyMap<string, RibOutRoute>): UpdateGroup[] {
    const desired = new KeyedDesired();
    for (const [prefix, route] of routes) desired.add(mustKey(prefix), route.attributes);
    return stringGroups(this.setDesiredKeyed(desired));
  }

  /** setDesired from buildDesiredKeyed's table, as keyed groups. */
  setDesiredKeyed(desired: KeyedDesired): KeyedGroup[] {
    const changes = new ChangeSet();
    this.putAll(desired, changes);
    const gone4: number[] = [];
    this.routes4.forEach((address, length) => {
      const key = ipv4Key(address, length);
      if (!desired.has(key)) gone4.push(key);
    });
    for (const key of gone4) this.remove(key, changes);
    for (const key of [...this.routes6.keys()]) if (!desired.has(key)) this.remove(key, changes);
    return this.groups(changes);
  }

  /** Applies many upserts and withdrawals as one change set, so they pack into as few UPDATEs as possible. */
  change(upserts: ReadonlyMap<string, RibOutRoute>, withdrawals: Iterable<string>): UpdateGroup[] {
    const changes = new ChangeSet();
    for (const prefix of withdrawals) this.remove(mustKey(prefix), changes);
    for (const [prefix, route] of upserts) this.put(mustKey(prefix), route.attributes, changes);
    return stringGroups(this.groups(changes));
  }

  /** Makes room for `count` more IPv4 routes at once (before a large change applied in slices). */
  reserve(count: number): void {
    this.routes4.reserve(this.routes4.size + count);
  }

  /** change() in keys: withdrawals already parsed (the session parses them once, for its wanted set too). */
  changeKeys(upserts: KeyedRoutes, withdrawals: readonly PrefixKey[]): KeyedGroup[] {
    const changes = new ChangeSet();
    for (const key of withdrawals) this.remove(key, changes);
    this.putAll(upserts, changes);
    return this.groups(changes);
  }

  /**
   * Removes the keys (any order, repeats allowed) and returns the withdrawal
   * groups for those it held, sorted: changeKeys without upserts, in one pass
   * (no change set to re-check against the table, since nothing is put back).
   */
  withdrawKeys(keys: WithdrawnKeys): KeyedGroup[] {
    const out: KeyedGroup[] = [];
    const ipv4 = new Float64Array(keys.ipv4.length);
    let n = 0;
    for (const key of keys.ipv4) {
      const length = key % 64;
      const old = this.routes4.delete((key - length) / 64, length);
      if (old === undefined) continue; // absent, or a repeat already removed: each key is kept once
      this.attributes.release(old);
      ipv4[n++] = key;
    }
    if (n > 0) out.push({ afi: 1, attributes: undefined, ipv4: sortInPlace(n === ipv4.length ? ipv4 : ipv4.subarray(0, n)), ipv6: [] });
    const ipv6: string[] = [];
    for (const key of keys.ipv6) {
      const old = this.routes6.get(key);
      if (old === undefined) continue;
      this.routes6.delete(key);
      this.attributes.release(old);
      ipv6.push(key);
    }
    if (ipv6.length > 0) out.push({ afi: 2, attributes: undefined, ipv4: NO_IPV4, ipv6: ipv6.sort() });
    return out;
  }

  upsert(prefix: string, route: RibOutRoute): UpdateGroup[] {
    const changes = new ChangeSet();
    this.put(mustKey(prefix), route.attributes, changes);
    return stringGroups(this.groups(changes));
  }

  withdraw(prefix: string): UpdateGroup[] {
    const changes = new ChangeSet();
    this.remove(mustKey(prefix), changes);
    return stringGroups(this.groups(changes));
  }

  /** Withdraws everything (e.g. the peer is being removed but the session lingers). */
  withdrawAll(): UpdateGroup[] {
    const changes = new ChangeSet();
    const all4: number[] = [];
    this.routes4.forEach((address, length) => all4.push(ipv4Key(address, length)));
    for (const key of all4) this.remove(key, changes);
    for (const key of [...this.routes6.keys()]) this.remove(key, changes);
    return stringGroups(this.groups(changes));
  }

  /** The whole table as announcement groups, for one family or all. */
  fullTable(afi?: number): AnnounceGroup[] {
    return stringGroups(this.fullTableKeyed(afi)) as AnnounceGroup[];
  }

  fullTableKeyed(afi?: number): KeyedGroup[] {
    const changes = new ChangeSet();
    if (afi === undefined || afi === 1) this.routes4.forEach((address, length) => changes.put4.push(ipv4Key(address, length)));
    if (afi === undefined || afi === 2) for (const key of this.routes6.keys()) changes.put6.push(key);
    return this.groups(changes);
  }

  /** Routes in prefix order (IPv4 first). */
  *entries(afi?: number): IterableIterator<RibOutEntry> {
    if (afi === undefined || afi === 1) {
      for (const key of this.routes4.sortedKeys()) yield { prefix: keyToPrefix(key), attributes: this.attributes.get(this.idOf(key)!) };
    }
    if (afi === undefined || afi === 2) {
      for (const key of [...this.routes6.keys()].sort(compareKeys)) yield { prefix: keyToPrefix(key), attributes: this.attributes.get(this.routes6.get(key)!) };
    }
  }

  /** Forgets everything without producing withdrawals. */
  clear(): void {
    this.routes4.clear();
    this.routes6.clear();
    this.attributes.clear();
  }

  private idOf(key: PrefixKey): number | undefined {
    if (typeof key === "string") return this.routes6.get(key);
    const length = key % 64;
    return this.routes4.get((key - length) / 64, length);
  }

  private putAll(desired: KeyedRoutes, changes: ChangeSet): void {
    const { ipv4, ipv4Attributes, ipv6, ipv6Attributes } = desired;
    this.routes4.reserve(this.routes4.size + ipv4.length);
    for (let i = 0; i < ipv4.length; i++) this.put(ipv4[i], ipv4Attributes[i], changes);
    for (let i = 0; i < ipv6.length; i++) this.put(ipv6[i], ipv6Attributes[i], changes);
  }

  private put(key: PrefixKey, attributes: PathAttributes, changes: ChangeSet): void {
    // Routes of one change usually share one attributes object (buildDesired builds one per distinct route shape): key it once.
    if (attributes !== this.lastAttributes) {
      this.lastAttributes = attributes;
      this.lastAttributeKey = attributeKey(attributes);
    }
    const id = this.attributes.intern(attributes, this.lastAttributeKey);
    let old: number | undefined;
    if (typeof key === "string") {
      old = this.routes6.get(key);
      if (old === id) {
        this.attributes.release(id); // unchanged: drop the reference intern just took
        return;
      }
      this.routes6.set(key, id);
      changes.put6.push(key);
    } else {
      const length = key % 64;
      old = this.routes4.set((key - length) / 64, length, id);
      if (old === id) {
        this.attributes.release(id);
        return;
      }
      changes.put4.push(key);
    }
    if (old !== undefined) this.attributes.release(old);
  }

  private remove(key: PrefixKey, changes: ChangeSet): void {
    let old: number | undefined;
    if (typeof key === "string") {
      old = this.routes6.get(key);
      if (old === undefined) return;
      this.routes6.delete(key);
      changes.removed6.push(key);
    } else {
      const length = key % 64;
      old = this.routes4.delete((key - length) / 64, length);
      if (old === undefined) return;
      changes.removed4.push(key);
    }
    this.attributes.release(old);
  }

  /**
   * Announcement groups by attribute set, ordered by their first prefix, each
   * sorted; then the withdrawals of each family, sorted.
   */
  private groups(changes: ChangeSet): KeyedGroup[] {
    const out: KeyedGroup[] = [];
    const byAttributes4 = new Map<number, number[]>();
    const put4 = sortedUnique4(changes.put4);
    let lastId = -1;
    let last: number[] = [];
    for (let i = 0; i < put4.length; i++) {
      const key = put4[i];
      const length = key % 64;
      const id = this.routes4.get((key - length) / 64, length);
      if (id === undefined) continue;
      if (id !== lastId) {
        let keys = byAttributes4.get(id);
        if (!keys) byAttributes4.set(id, (keys = []));
        last = keys;
        lastId = id;
      }
      last.push(key);
    }
    // Groups were created in key order, so they are ordered by their first prefix.
    for (const [id, keys] of byAttributes4) out.push({ afi: 1, attributes: this.attributes.get(id), ipv4: Float64Array.from(keys), ipv6: [] });
    const byAttributes6 = new Map<number, string[]>();
    for (const key of sortedUnique6(changes.put6)) {
      const id = this.routes6.get(key);
      if (id === undefined) continue;
      let keys = byAttributes6.get(id);
      if (!keys) byAttributes6.set(id, (keys = []));
      keys.push(key);
    }
    for (const [id, keys] of byAttributes6) out.push({ afi: 2, attributes: this.attributes.get(id), ipv4: NO_IPV4, ipv6: keys });
    const removed4 = sortedUnique4(changes.removed4);
    let n = 0;
    for (let i = 0; i < removed4.length; i++) {
      const key = removed4[i];
      const length = key % 64;
      if (this.routes4.get((key - length) / 64, length) === undefined) removed4[n++] = key;
    }
    if (n > 0) out.push({ afi: 1, attributes: undefined, ipv4: n === removed4.length ? removed4 : removed4.slice(0, n), ipv6: [] });
    const removed6 = sortedUnique6(changes.removed6).filter((key) => !this.routes6.has(key));
    if (removed6.length > 0) out.push({ afi: 2, attributes: undefined, ipv4: NO_IPV4, ipv6: removed6 });
    return out;
  }
}
