/**
 * An open-addressing hash table from IPv4 prefix to a 31-bit value, in typed
 * arrays: 9 bytes a slot (address, value, one byte for length + stale +
 * occupied), at most 70% full, so a full Internet table (~1M prefixes) takes
 * about 19 MB and no per-prefix JavaScript objects. Linear probing with
 * backward-shift deletion keeps lookups short without tombstones.
 */

const INITIAL_CAPACITY = 1 << 10;
const MAX_LOAD = 0.7;
const OCCUPIED = 0x80;
const STALE = 0x40;
const LENGTH_MASK = 0x3f;

export class Ipv4Table {
  private capacity = INITIAL_CAPACITY;
  private mask = INITIAL_CAPACITY - 1;
  private addresses = new Uint32Array(INITIAL_CAPACITY);
  private values = new Uint32Array(INITIAL_CAPACITY);
  private meta = new Uint8Array(INITIAL_CAPACITY);
  private count = 0;
  private stale = 0;

  get size(): number {
    return this.count;
  }

  get staleCount(): number {
    return this.stale;
  }

  /** Bytes held by the typed arrays (for memory accounting). */
  get byteLength(): number {
    return this.addresses.byteLength + this.values.byteLength + this.meta.byteLength;
  }

  private home(address: number, length: number): number {
    let h = Math.imul(address ^ Math.imul(length + 1, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 13;
    return h & this.mask;
  }

  /** Grows once to hold `count` entries, instead of doubling repeatedly while a large batch goes in. */
  reserve(count: number): void {
    if (count <= this.capacity * MAX_LOAD) return;
    let capacity = this.capacity;
    while (count > capacity * MAX_LOAD) capacity *= 2;
    this.resize(capacity);
  }

  /** Slot of the prefix, or -1. */
  private find(address: number, length: number): number {
    for (let i = this.home(address, length); ; i = (i + 1) & this.mask) {
      const m = this.meta[i];
      if (m === 0) return -1;
      if ((m & LENGTH_MASK) === length && this.addresses[i] === address) return i;
    }
  }

  get(address: number, length: number): number | undefined {
    const slot = this.find(address, length);
    return slot < 0 ? undefined : this.values[slot];
  }

  isStale(address: number, length: number): boolean {
    const slot = this.find(address, length);
    return slot >= 0 && (this.meta[slot] & STALE) !== 0;
  }

  /** Inserts or replaces (clearing the stale mark); returns the previous value. */
  set(address: number, length: number, value: number): number | undefined {
    if ((this.count + 1) > this.capacity * MAX_LOAD) this.resize(this.capacity * 2);
    for (let i = this.home(address, length); ; i = (i + 1) & this.mask) {
      const m = this.meta[i];
      if (m === 0) {
        this.addresses[i] = address;
        this.values[i] = value;
        this.meta[i] = OCCUPIED | length;
        this.count++;
        return undefined;
      }
      if ((m & LENGTH_MASK) === length && this.addresses[i] === address) {
        const previous = this.values[i];
        if (m & STALE) this.stale--;
        this.values[i] = value;
        this.meta[i] = OCCUPIED | length;
        return previous;
      }
    }
  }

  /** Removes the prefix; returns its value, or undefined if absent. */
  delete(address: number, length: number): number | undefined {
    const slot = this.find(address, length);
    if (slot < 0) return undefined;
    const value = this.values[slot];
    this.removeSlot(slot);
    return value;
  }

  private removeSlot(slot: number): void {
    if (this.meta[slot] & STALE) this.stale--;
    this.count--;
    // Backward shift: pull later entries of the probe run into the hole.
    let hole = slot;
    for (let i = (slot + 1) & this.mask; this.meta[i] !== 0; i = (i + 1) & this.mask) {
      const home = this.home(this.addresses[i], this.meta[i] & LENGTH_MASK);
      // Move i into the hole unless its home lies cyclically in (hole, i].
      const between = hole <= i ? home > hole && home <= i : home > hole || home <= i;
      if (!between) {
        this.addresses[hole] = this.addresses[i];
        this.values[hole] = this.values[i];
        this.meta[hole] = this.meta[i];
        hole = i;
      }
    }
    this.meta[hole] = 0;
  }

  /** Marks every entry stale; returns how many. */
  markAllStale(): number {
    for (let i = 0; i < this.capacity; i++) if (this.meta[i] !== 0) this.meta[i] |= STALE;
    this.stale = this.count;
    return this.count;
  }

  /** Removes the stale entries, calling `onRemove` with each value; returns how many. */
  sweepStale(onRemove: (value: number) => void): number {
    if (this.stale === 0) return 0;
    // Collect first: backward shifting would move unvisited entries behind the cursor.
    const victims: Array<[number, number]> = [];
    for (let i = 0; i < this.capacity; i++) {
      if (this.meta[i] & STALE) victims.push([this.addresses[i], this.meta[i] & LENGTH_MASK]);
    }
    for (const [address, length] of victims) {
      const slot = this.find(address, length);
      onRemove(this.values[slot]);
      this.removeSlot(slot);
    }
    return victims.length;
  }

  /** Calls `fn` for every entry, in no particular order. */
  forEach(fn: (address: number, length: number, value: number, stale: boolean) => void): void {
    for (let i = 0; i < this.capacity; i++) {
      const m = this.meta[i];
      if (m !== 0) fn(this.addresses[i], m & LENGTH_MASK, this.values[i], (m & STALE) !== 0);
    }
  }

  /** Keys (`address * 64 + length`) of all entries, ascending. */
  sortedKeys(): Float64Array {
    const keys = new Float64Array(this.count);
    let n = 0;
    this.forEach((address, length) => {
      keys[n++] = address * 64 + length;
    });
    return keys.sort();
  }

  clear(): void {
    this.capacity = INITIAL_CAPACITY;
    this.mask = INITIAL_CAPACITY - 1;
    this.addresses = new Uint32Array(INITIAL_CAPACITY);
    this.values = new Uint32Array(INITIAL_CAPACITY);
    this.meta = new Uint8Array(INITIAL_CAPACITY);
    this.count = 0;
    this.stale = 0;
  }

  private resize(capacity: number): void {
    const { addresses, values, meta } = this;
    const old = this.capacity;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.addresses = new Uint32Array(capacity);
    this.values = new Uint32Array(capacity);
    this.meta = new Uint8Array(capacity);
    for (let j = 0; j < old; j++) {
      if (meta[j] === 0) continue;
      let i = this.home(addresses[j], meta[j] & LENGTH_MASK);
      while (this.meta[i] !== 0) i = (i + 1) & this.mask;
      this.addresses[i] = addresses[j];
      this.values[i] = values[j];
      this.meta[i] = meta[j];
    }
  }
}
