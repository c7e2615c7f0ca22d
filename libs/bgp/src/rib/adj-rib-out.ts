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
import { compareKeys, keyAfi, keyToPrefix, prefixToKey, type PrefixKey } from "./prefix.js";

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

/** Prefixes to announce (with their attributes as the table holds them at the end) and to withdraw. */
class ChangeSet {
  readonly announce = new Set<PrefixKey>();
  readonly withdraw = new Set<PrefixKey>();
}

function mustKey(prefix: string): PrefixKey {
  const key = prefixToKey(prefix);
  if (key === undefined) throw new RangeError(`not a prefix: ${JSON.stringify(prefix)}`);
  return key;
}

export class AdjRibOut {
  private readonly attributes = new AttributeTable();
  private readonly routes = new Map<PrefixKey, number>();
  /** The last attributes object put, and its key (attribute objects are never mutated once built). */
  private lastAttributes: PathAttributes | undefined;
  private lastAttributeKey = "";

  /** Routes held (advertised while the session is up), for one family or all. */
  count(afi?: number): number {
    if (afi === undefined) return this.routes.size;
    let n = 0;
    for (const key of this.routes.keys()) if (keyAfi(key) === afi) n++;
    return n;
  }

  get size(): number {
    return this.routes.size;
  }

  /** Distinct attribute sets in use. */
  get attributeSetCount(): number {
    return this.attributes.size;
  }

  get(prefix: string): PathAttributes | undefined {
    const key = prefixToKey(prefix);
    const id = key === undefined ? undefined : this.routes.get(key);
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
    const changes = new ChangeSet();
    const wanted = new Set<PrefixKey>();
    for (const [prefix, route] of routes) {
      const key = mustKey(prefix);
      wanted.add(key);
      this.put(key, route.attributes, changes);
    }
    for (const key of [...this.routes.keys()]) if (!wanted.has(key)) this.remove(key, changes);
    return this.groups(changes);
  }

  /** Applies many upserts and withdrawals as one change set, so they pack into as few UPDATEs as possible. */
  change(upserts: ReadonlyMap<string, RibOutRoute>, withdrawals: Iterable<string>): UpdateGroup[] {
    const changes = new ChangeSet();
    for (const prefix of withdrawals) this.remove(mustKey(prefix), changes);
    for (const [prefix, route] of upserts) this.put(mustKey(prefix), route.attributes, changes);
    return this.groups(changes);
  }

  upsert(prefix: string, route: RibOutRoute): UpdateGroup[] {
    const changes = new ChangeSet();
    this.put(mustKey(prefix), route.attributes, changes);
    return this.groups(changes);
  }

  withdraw(prefix: string): UpdateGroup[] {
    const changes = new ChangeSet();
    this.remove(mustKey(prefix), changes);
    return this.groups(changes);
  }

  /** Withdraws everything (e.g. the peer is being removed but the session lingers). */
  withdrawAll(): UpdateGroup[] {
    const changes = new ChangeSet();
    for (const key of [...this.routes.keys()]) this.remove(key, changes);
    return this.groups(changes);
  }

  /** The whole table as announcement groups, for one family or all. */
  fullTable(afi?: number): AnnounceGroup[] {
    const changes = new ChangeSet();
    for (const key of this.routes.keys()) if (afi === undefined || keyAfi(key) === afi) changes.announce.add(key);
    return this.groups(changes) as AnnounceGroup[];
  }

  /** Routes in prefix order (IPv4 first). */
  *entries(afi?: number): IterableIterator<RibOutEntry> {
    const keys = [...this.routes.keys()].filter((k) => afi === undefined || keyAfi(k) === afi).sort(compareKeys);
    for (const key of keys) yield { prefix: keyToPrefix(key), attributes: this.attributes.get(this.routes.get(key)!) };
  }

  /** Forgets everything without producing withdrawals. */
  clear(): void {
    this.routes.clear();
    this.attributes.clear();
  }

  private put(key: PrefixKey, attributes: PathAttributes, changes: ChangeSet): void {
    // Routes of one change usually share one attributes object (buildDesired builds one per distinct route shape): key it once.
    if (attributes !== this.lastAttributes) {
      this.lastAttributes = attributes;
      this.lastAttributeKey = attributeKey(attributes);
    }
    const id = this.attributes.intern(attributes, this.lastAttributeKey);
    const old = this.routes.get(key);
    if (old === id) {
      this.attributes.release(id); // unchanged: drop the reference intern just took
      return;
    }
    this.routes.set(key, id);
    if (old !== undefined) this.attributes.release(old);
    changes.withdraw.delete(key);
    changes.announce.add(key);
  }

  private remove(key: PrefixKey, changes: ChangeSet): void {
    const old = this.routes.get(key);
    if (old === undefined) return;
    this.routes.delete(key);
    this.attributes.release(old);
    changes.announce.delete(key);
    changes.withdraw.add(key);
  }

  private groups(changes: ChangeSet): UpdateGroup[] {
    const out: UpdateGroup[] = [];
    const byAttributes = new Map<number, PrefixKey[]>();
    for (const key of changes.announce) {
      const id = this.routes.get(key);
      if (id === undefined) continue;
      let keys = byAttributes.get(id);
      if (!keys) byAttributes.set(id, (keys = []));
      keys.push(key);
    }
    const announceGroups = [...byAttributes].map(([id, keys]) => ({ id, keys: keys.sort(compareKeys) }));
    announceGroups.sort((a, b) => compareKeys(a.keys[0], b.keys[0]));
    for (const { id, keys } of announceGroups) out.push({ attributes: this.attributes.get(id), nlri: keys.map(keyToPrefix) });
    const withdrawn = [...changes.withdraw].sort(compareKeys);
    for (const afi of [1, 2]) {
      const keys = withdrawn.filter((k) => keyAfi(k) === afi);
      if (keys.length > 0) out.push({ withdrawn: keys.map(keyToPrefix), afi });
    }
    return out;
  }
}
