/**
 * Interned path attribute sets. Routes learned or advertised together almost
 * always share their attributes, so each distinct set is stored once and
 * routes hold a small integer id: equality becomes `===` on ids, and a million
 * routes cost a million integers rather than a million objects.
 */
import type { PathAttributes } from "../codec/types.js";

function hex(data: Uint8Array): string {
  let out = "";
  for (const byte of data) out += byte.toString(16).padStart(2, "0");
  return out;
}

/**
 * A canonical string for an attribute set: equal keys ⇔ the same attributes
 * on the wire, up to the order of communities (a set by RFC 1997/8092).
 * Unknown attributes keep their order; so does the AS_PATH.
 */
export function attributeKey(a: PathAttributes): string {
  const parts: string[] = [];
  if (a.origin !== undefined) parts.push(`o${a.origin}`);
  if (a.asPath !== undefined) parts.push(`p${a.asPath.map((s) => `${s.type}:${s.asns.join(",")}`).join(";")}`);
  if (a.nextHop !== undefined) parts.push(`n${a.nextHop}`);
  if (a.med !== undefined) parts.push(`m${a.med}`);
  if (a.localPref !== undefined) parts.push(`l${a.localPref}`);
  if (a.atomicAggregate) parts.push("a");
  if (a.aggregator !== undefined) parts.push(`g${a.aggregator.asn}@${a.aggregator.address}`);
  if (a.communities !== undefined) parts.push(`c${[...a.communities].sort((x, y) => x - y).join(",")}`);
  if (a.largeCommunities !== undefined) {
    const sorted = a.largeCommunities.map((c) => c.join(":")).sort();
    parts.push(`L${sorted.join(",")}`);
  }
  if (a.mpReach !== undefined) parts.push(`r${a.mpReach.afi}/${a.mpReach.safi}/${a.mpReach.nextHops.join(",")}/${a.mpReach.nlri.join(",")}`);
  if (a.mpUnreach !== undefined) parts.push(`w${a.mpUnreach.afi}/${a.mpUnreach.safi}/${a.mpUnreach.withdrawn.join(",")}`);
  if (a.unknown !== undefined) parts.push(`u${a.unknown.map((u) => `${u.flags}/${u.typeCode}/${hex(u.data)}`).join(";")}`);
  return parts.join("|");
}

/**
 * The per-route part of an UPDATE's attributes for one family: MP_UNREACH
 * dropped; for IPv6 the MP_REACH kept as a template (next hops only, empty
 * NLRI) and the IPv4 NEXT_HOP dropped; for IPv4 MP_REACH dropped.
 */
export function routeAttributes(attributes: PathAttributes, afi: number): PathAttributes {
  const { mpReach, mpUnreach: _unreach, ...rest } = attributes;
  if (afi === 1) return rest;
  const { nextHop: _nextHop, ...v6 } = rest;
  return mpReach ? { ...v6, mpReach: { afi: mpReach.afi, safi: mpReach.safi, nextHops: mpReach.nextHops, nlri: [] } } : v6;
}

/**
 * Reference-counted attribute sets. `intern` returns an id holding one
 * reference; `retain`/`release` add and drop references; a set is forgotten
 * when its last reference goes.
 */
export class AttributeTable {
  private readonly byKey = new Map<string, number>();
  private readonly sets: Array<PathAttributes | undefined> = [];
  private readonly keys: string[] = [];
  private readonly refs: number[] = [];
  private readonly free: number[] = [];

  /** Number of distinct live attribute sets. */
  get size(): number {
    return this.byKey.size;
  }

  intern(attributes: PathAttributes, key: string = attributeKey(attributes)): number {
    const existing = this.byKey.get(key);
    if (existing !== undefined) {
      this.refs[existing]++;
      return existing;
    }
    const id = this.free.pop() ?? this.sets.length;
    this.sets[id] = attributes;
    this.keys[id] = key;
    this.refs[id] = 1;
    this.byKey.set(key, id);
    return id;
  }

  retain(id: number): void {
    this.refs[id]++;
  }

  release(id: number): void {
    if (--this.refs[id] > 0) return;
    this.byKey.delete(this.keys[id]);
    this.sets[id] = undefined;
    this.keys[id] = "";
    this.free.push(id);
  }

  get(id: number): PathAttributes {
    const set = this.sets[id];
    if (set === undefined) throw new Error(`attribute set ${id} is not live`);
    return set;
  }

  keyOf(id: number): string {
    return this.keys[id];
  }

  references(id: number): number {
    return this.refs[id] ?? 0;
  }

  clear(): void {
    this.byKey.clear();
    this.sets.length = 0;
    this.keys.length = 0;
    this.refs.length = 0;
    this.free.length = 0;
  }
}
