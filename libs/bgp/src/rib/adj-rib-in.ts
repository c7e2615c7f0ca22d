/**
 * Adj-RIB-In: the routes one peer sent us, as last received.
 *
 * Built to hold a full table cheaply: IPv4 routes live in a typed-array hash
 * table (prefix → attribute-set id + stale bit), IPv6 routes in a Map keyed
 * by a fixed-width string, and attribute sets are interned once per UPDATE.
 * Prefixes are only turned back into strings when someone iterates.
 */
import type { PathAttributes, UpdateMessage } from "../codec/types.js";
import { AttributeTable, routeAttributes } from "./attributes.js";
import { Ipv4Table } from "./ipv4-table.js";
import { keyToPrefix, prefixToKey, type PrefixKey } from "./prefix.js";

const AFI_IPV4 = 1;
const AFI_IPV6 = 2;
const SAFI_UNICAST = 1;
const IPV4_KEY_FACTOR = 64;
/** IPv6 values pack the attribute id and the stale bit into one number. */
const V6_STALE = 1;

export interface RibInEntry {
  prefix: string;
  attributes: PathAttributes;
  /** Kept from before a graceful restart and not yet refreshed by the peer. */
  stale: boolean;
}

/** What one UPDATE changed. */
export interface RibInChange {
  /** Prefixes added or replaced. */
  announced: number;
  /** Prefixes removed (withdrawals of absent prefixes are not counted). */
  withdrawn: number;
  /** NLRI that were not valid unicast prefixes of a supported family (ignored). */
  ignored: number;
}

function split(key: number): [number, number] {
  const length = key % IPV4_KEY_FACTOR;
  return [(key - length) / IPV4_KEY_FACTOR, length];
}

export class AdjRibIn {
  private readonly attributes = new AttributeTable();
  private readonly v4 = new Ipv4Table();
  private readonly v6 = new Map<string, number>();
  private v6Stale = 0;

  /**
   * Applies an UPDATE: withdrawals (IPv4 and MP_UNREACH) first, then the
   * announcements (IPv4 NLRI and MP_REACH). With `treatAsWithdraw` (RFC 7606)
   * every announced prefix is withdrawn instead.
   */
  applyUpdate(update: UpdateMessage, treatAsWithdraw = false): RibInChange {
    const change: RibInChange = { announced: 0, withdrawn: 0, ignored: 0 };
    const withdraw = (prefixes: readonly string[]) => {
      for (const prefix of prefixes) {
        const key = prefixToKey(prefix);
        if (key === undefined) change.ignored++;
        else if (this.removeKey(key)) change.withdrawn++;
      }
    };
    withdraw(update.withdrawn);
    const { mpReach, mpUnreach } = update.attributes;
    if (mpUnreach && mpUnreach.safi === SAFI_UNICAST) withdraw(mpUnreach.withdrawn);
    if (treatAsWithdraw) {
      withdraw(update.nlri);
      if (mpReach && mpReach.safi === SAFI_UNICAST) withdraw(mpReach.nlri);
      return change;
    }
    if (update.nlri.length > 0) this.announceAll(update.nlri, routeAttributes(update.attributes, AFI_IPV4), AFI_IPV4, change);
    if (mpReach && mpReach.nlri.length > 0) {
      if (mpReach.safi === SAFI_UNICAST && (mpReach.afi === AFI_IPV4 || mpReach.afi === AFI_IPV6)) {
        this.announceAll(mpReach.nlri, routeAttributes(update.attributes, mpReach.afi), mpReach.afi, change);
      } else {
        change.ignored += mpReach.nlri.length;
      }
    }
    return change;
  }

  /** Stores one route; false if the prefix is invalid. */
  announce(prefix: string, attributes: PathAttributes): boolean {
    const key = prefixToKey(prefix);
    if (key === undefined) return false;
    const id = this.attributes.intern(attributes);
    this.storeKey(key, id);
    this.attributes.release(id);
    return true;
  }

  /** Removes one route; false if it was not there. */
  withdraw(prefix: string): boolean {
    const key = prefixToKey(prefix);
    return key !== undefined && this.removeKey(key);
  }

  get(prefix: string): RibInEntry | undefined {
    const key = prefixToKey(prefix);
    return key === undefined ? undefined : this.entryOf(key);
  }

  has(prefix: string): boolean {
    return this.get(prefix) !== undefined;
  }

  /** Routes held, for one family (AFI) or all. */
  count(afi?: number): number {
    if (afi === AFI_IPV4) return this.v4.size;
    if (afi === AFI_IPV6) return this.v6.size;
    return this.v4.size + this.v6.size;
  }

  staleCount(afi?: number): number {
    if (afi === AFI_IPV4) return this.v4.staleCount;
    if (afi === AFI_IPV6) return this.v6Stale;
    return this.v4.staleCount + this.v6Stale;
  }

  /** Distinct attribute sets held (a measure of how well interning works). */
  get attributeSetCount(): number {
    return this.attributes.size;
  }

  /** Bytes held outside the JS heap by the IPv4 table's typed arrays (for metrics and tests). */
  get ipv4TableBytes(): number {
    return this.v4.byteLength;
  }

  /** Graceful restart: the peer's session went down; keep its routes as stale. Returns how many. */
  markAllStale(afi: number): number {
    if (afi === AFI_IPV4) return this.v4.markAllStale();
    if (afi !== AFI_IPV6) return 0;
    for (const [key, value] of this.v6) this.v6.set(key, value | V6_STALE);
    this.v6Stale = this.v6.size;
    return this.v6Stale;
  }

  /** Graceful restart: End-of-RIB (or the stale timer) — drop what was not refreshed. Returns how many. */
  sweepStale(afi: number): number {
    if (afi === AFI_IPV4) return this.v4.sweepStale((id) => this.attributes.release(id));
    if (afi !== AFI_IPV6) return 0;
    let removed = 0;
    for (const [key, value] of this.v6) {
      if ((value & V6_STALE) === 0) continue;
      this.v6.delete(key);
      this.attributes.release(value >>> 1);
      removed++;
    }
    this.v6Stale = 0;
    return removed;
  }

  /** Drops everything (session down without graceful restart), for one family or all. */
  clear(afi?: number): void {
    if (afi === undefined || afi === AFI_IPV4) {
      this.v4.forEach((_a, _l, id) => this.attributes.release(id));
      this.v4.clear();
    }
    if (afi === undefined || afi === AFI_IPV6) {
      for (const value of this.v6.values()) this.attributes.release(value >>> 1);
      this.v6.clear();
      this.v6Stale = 0;
    }
  }

  /** Routes in prefix order (IPv4 first), for one family or all. */
  *entries(afi?: number): IterableIterator<RibInEntry> {
    if (afi === undefined || afi === AFI_IPV4) {
      for (const key of this.v4.sortedKeys()) {
        const entry = this.entryOf(key);
        if (entry) yield entry;
      }
    }
    if (afi === undefined || afi === AFI_IPV6) {
      for (const key of [...this.v6.keys()].sort()) {
        const entry = this.entryOf(key);
        if (entry) yield entry;
      }
    }
  }

  private announceAll(prefixes: readonly string[], attributes: PathAttributes, afi: number, change: RibInChange): void {
    const id = this.attributes.intern(attributes); // one reference held for the duration of the UPDATE
    for (const prefix of prefixes) {
      const key = prefixToKey(prefix);
      if (key === undefined || (typeof key === "number" ? AFI_IPV4 : AFI_IPV6) !== afi) {
        change.ignored++;
        continue;
      }
      this.storeKey(key, id);
      change.announced++;
    }
    this.attributes.release(id);
  }

  private storeKey(key: PrefixKey, id: number): void {
    this.attributes.retain(id);
    let previous: number | undefined;
    if (typeof key === "number") {
      const [address, length] = split(key);
      previous = this.v4.set(address, length, id);
    } else {
      const old = this.v6.get(key);
      if (old !== undefined) {
        previous = old >>> 1;
        if (old & V6_STALE) this.v6Stale--;
      }
      this.v6.set(key, id * 2);
    }
    if (previous !== undefined) this.attributes.release(previous);
  }

  private removeKey(key: PrefixKey): boolean {
    let previous: number | undefined;
    if (typeof key === "number") {
      const [address, length] = split(key);
      previous = this.v4.delete(address, length);
    } else {
      const old = this.v6.get(key);
      if (old !== undefined) {
        this.v6.delete(key);
        if (old & V6_STALE) this.v6Stale--;
        previous = old >>> 1;
      }
    }
    if (previous === undefined) return false;
    this.attributes.release(previous);
    return true;
  }

  private entryOf(key: PrefixKey): RibInEntry | undefined {
    if (typeof key === "number") {
      const [address, length] = split(key);
      const id = this.v4.get(address, length);
      if (id === undefined) return undefined;
      return { prefix: keyToPrefix(key), attributes: this.attributes.get(id), stale: this.v4.isStale(address, length) };
    }
    const value = this.v6.get(key);
    if (value === undefined) return undefined;
    return { prefix: keyToPrefix(key), attributes: this.attributes.get(value >>> 1), stale: (value & V6_STALE) !== 0 };
  }
}
