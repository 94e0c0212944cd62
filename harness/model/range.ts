/**
 * An unpinned range and the predicates of the driver's list walks (§4.1), written as the C
 * macros are: `touches` is "start in range, or end in range, or range inside request", which is
 * what makes the §4.6 empty interval behave as it does.
 */
import type { LruNode } from './lru.js';

/** A range of an area's unpinned list: pages [pgstart, pgend], purged or on the LRU. */
export class Range implements LruNode {
  lruPrev: Range | null = null;
  lruNext: Range | null = null;
  onLru = false;

  constructor(
    /** The area whose list holds it (an index into the kernel's areas). */
    readonly areaId: number,
    public pgstart: number,
    public pgend: number,
    public purged: boolean,
  ) {}
}

/**
 * The end page of a request whose length wrapped to 0 at page 0 (`len == 0` on a region whose
 * PAGE_ALIGN(size) is a multiple of 2^32, §3.6): the driver's `size_t pgend = pgstart + 0 - 1`
 * is the top of the word, above every page, so the request spans the whole area. Any end past
 * every page behaves the same in the list walks; Infinity stands for it.
 */
export const WRAPPED_END = Infinity;

/** `range_before_page`: the range ends below page `s`. */
export function before(r: Range, s: number): boolean {
  return r.pgend < s;
}

/** `page_in_range`. */
function holds(r: Range, page: number): boolean {
  return r.pgstart <= page && r.pgend >= page;
}

/** `page_range_subsumes_range`: the range lies inside the request [s, e]. */
export function inside(r: Range, s: number, e: number): boolean {
  return r.pgstart >= s && r.pgend <= e;
}

/** `page_range_subsumed_by_range`: the request [s, e] lies inside the range. */
export function covers(r: Range, s: number, e: number): boolean {
  return r.pgstart <= s && r.pgend >= e;
}

/** `page_range_in_range`: the range and the request share a page (or the range is inside it). */
export function touches(r: Range, s: number, e: number): boolean {
  return holds(r, s) || holds(r, e) || inside(r, s, e);
}
