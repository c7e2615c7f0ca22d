/**
 * The routes a session has been asked to advertise, by canonical prefix: kept
 * while the session is down, so they go out again on Established.
 *
 * IPv4 prefixes index a route array through an Ipv4Table rather than a
 * string-keyed Map: for 100,000 routes, Map.set and Map.delete on fresh
 * prefix strings cost ~140 ms each on this project's machines, most of what
 * the sender spent beyond building UPDATEs. IPv6 keys and prefixes that do not
 * parse (kept by their text, so their error is reported again on each
 * Established) live in a Map; there are few of them.
 */
import type { IntentRoute } from "./policy.js";
import { Ipv4Table } from "./ipv4-table.js";
import { keyToPrefix, prefixToKey, type PrefixKey } from "./prefix.js";

/** Keys of withdrawn prefixes by family: IPv4 keys (`address * 64 + length`), IPv6 keys as text. */
export interface WithdrawnKeys {
  ipv4: Float64Array;
  ipv6: string[];
}

const IPV4_KEY_FACTOR = 64;
/** Prefix of the Map key of a route whose prefix does not parse (IPv6 keys are hex digits). */
const UNPARSED = "!";

export class WantedRoutes {
  private readonly index4 = new Ipv4Table();
  private readonly routes4: Array<IntentRoute | undefined> = [];
  private readonly freeSlots: number[] = [];
  private readonly others = new Map<string, IntentRoute>();

  get size(): number {
    return this.index4.size + this.others.size;
  }

  /** Makes room for `count` more routes at once (a large batch then added in slices grows the table once). */
  reserve(count: number): void {
    this.index4.reserve(this.index4.size + count);
  }

  /** Adds or replaces each route (the last of a repeated prefix wins). */
  upsert(routes: readonly IntentRoute[]): void {
    this.reserve(routes.length);
    for (const route of routes) {
      const key = prefixToKey(route.prefix);
      if (typeof key !== "number") {
        this.others.set(key ?? UNPARSED + route.prefix, route);
        continue;
      }
      const length = key % IPV4_KEY_FACTOR;
      const address = (key - length) / IPV4_KEY_FACTOR;
      const slot = this.index4.get(address, length);
      if (slot !== undefined) {
        this.routes4[slot] = route;
        continue;
      }
      const free = this.freeSlots.pop();
      const at = free ?? this.routes4.length;
      if (free === undefined) this.routes4.push(route);
      else this.routes4[at] = route;
      this.index4.set(address, length, at);
    }
  }

  /**
   * Removes each prefix; returns the keys of those that parse (wanted or
   * not: the caller withdraws them from its Adj-RIB-Out, where a prefix can
   * outlive its route here only by a bug, and that is the place to be sure).
   */
  withdraw(prefixes: readonly string[]): WithdrawnKeys {
    // IPv4 keys exceed 31 bits: a Float64Array holds them unboxed (a PrefixKey[] would box each one).
    const ipv4 = new Float64Array(prefixes.length);
    let n = 0;
    const ipv6: string[] = [];
    for (const prefix of prefixes) {
      const key = prefixToKey(prefix);
      if (key === undefined) {
        this.others.delete(UNPARSED + prefix);
        continue;
      }
      if (typeof key === "string") {
        ipv6.push(key);
        this.others.delete(key);
        continue;
      }
      ipv4[n++] = key;
      const length = key % IPV4_KEY_FACTOR;
      const slot = this.index4.delete((key - length) / IPV4_KEY_FACTOR, length);
      if (slot === undefined) continue;
      this.routes4[slot] = undefined;
      this.freeSlots.push(slot);
    }
    return { ipv4: n === ipv4.length ? ipv4 : ipv4.subarray(0, n), ipv6 };
  }

  has(key: PrefixKey): boolean {
    if (typeof key === "string") return this.others.has(key);
    const length = key % IPV4_KEY_FACTOR;
    return this.index4.get((key - length) / IPV4_KEY_FACTOR, length) !== undefined;
  }

  /** Every wanted route, in no particular order. */
  values(): IntentRoute[] {
    const out: IntentRoute[] = [];
    for (const route of this.routes4) if (route) out.push(route);
    for (const route of this.others.values()) out.push(route);
    return out;
  }

  /** Prefixes (canonical text, or as given when they do not parse) wanted now but absent from `next`. */
  missingFrom(next: readonly IntentRoute[]): string[] {
    const keep4 = new Ipv4Table();
    const keepOthers = new Set<string>();
    for (const route of next) {
      const key = prefixToKey(route.prefix);
      if (typeof key === "number") {
        const length = key % IPV4_KEY_FACTOR;
        keep4.set((key - length) / IPV4_KEY_FACTOR, length, 1);
      } else {
        keepOthers.add(key ?? UNPARSED + route.prefix);
      }
    }
    const gone: string[] = [];
    this.index4.forEach((address, length) => {
      if (keep4.get(address, length) === undefined) gone.push(keyToPrefix(address * IPV4_KEY_FACTOR + length));
    });
    for (const key of this.others.keys()) {
      if (keepOthers.has(key)) continue;
      gone.push(key.startsWith(UNPARSED) ? key.slice(UNPARSED.length) : keyToPrefix(key));
    }
    return gone;
  }
}
