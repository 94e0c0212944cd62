/**
 * The global LRU of unpinned, not yet purged ranges (§2, §4.5): one per kernel, shared by
 * every area of every process. Head = oldest unpin, tail = newest. A doubly linked list,
 * because ranges leave it from anywhere (PIN, merge, close) and must do so in O(1).
 */

/** A range on (or off) the LRU. Ranges carry their own links. */
export interface LruNode {
  lruPrev: LruNode | null;
  lruNext: LruNode | null;
  onLru: boolean;
  pgstart: number;
  pgend: number;
}

/**
 * Page count of a range: `pgend - pgstart + 1` (0 for the §4.6 empty interval). For a range that
 * ends at the top of the word (`WRAPPED_END`) the driver's size_t sum wraps: 2^bits - pgstart,
 * kept as -pgstart, so that `lru_count` stays right modulo 2^bits (it is read as an int).
 */
export function rangePages(r: { pgstart: number; pgend: number }): number {
  return r.pgend === Infinity ? -r.pgstart : r.pgend - r.pgstart + 1;
}

/** The global LRU with `lru_count` in pages (§4.5). */
export class Lru<T extends LruNode> {
  head: T | null = null;
  tail: T | null = null;
  /** Σ pages over ranges on the list. */
  count = 0;
  /** Number of ranges on the list. */
  length = 0;

  /** Appends at the tail (newest), as UNPIN and the upper half of a PIN split do. */
  add(r: T): void {
    r.lruPrev = this.tail;
    r.lruNext = null;
    if (this.tail === null) this.head = r;
    else this.tail.lruNext = r;
    this.tail = r;
    r.onLru = true;
    this.count += rangePages(r);
    this.length++;
  }

  /** Unlinks a range (no-op when it is not on the list). */
  remove(r: T): void {
    if (!r.onLru) return;
    const prev = r.lruPrev as T | null;
    const next = r.lruNext as T | null;
    if (prev === null) this.head = next;
    else prev.lruNext = next;
    if (next === null) this.tail = prev;
    else next.lruPrev = prev;
    r.lruPrev = null;
    r.lruNext = null;
    r.onLru = false;
    this.count -= rangePages(r);
    this.length--;
  }

  /** Adjusts `count` after a range on the list was trimmed in place (PIN cases 2 and 3). */
  trimmed(pagesRemoved: number): void {
    this.count -= pagesRemoved;
  }

  /** Ranges from oldest to newest. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let r = this.head; r !== null; r = r.lruNext as T | null) yield r;
  }
}
