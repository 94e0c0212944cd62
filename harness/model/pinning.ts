/**
 * UNPIN, PIN and GET_PIN_STATUS on an area's unpinned list, exactly as the driver walks it
 * (§4.2–§4.4): descending order, restart after each merge, whole-range purged flags, LRU
 * re-queueing only where the driver creates a range. Arguments are already validated
 * (§3.6); `s`..`e` may be the empty interval [N, N-1] of §4.6.
 */
import type { Area } from './area.js';
import { rangePages, type Lru } from './lru.js';
import { before, covers, inside, Range, touches } from './range.js';

/** ASHMEM_NOT_PURGED / ASHMEM_WAS_PURGED. */
export const NOT_PURGED = 0;
export const WAS_PURGED = 1;
/** ASHMEM_IS_UNPINNED / ASHMEM_IS_PINNED (note: unpinned is 0). */
export const IS_UNPINNED = 0;
export const IS_PINNED = 1;

/** One pass of the UNPIN walk: where it stopped and why. */
type UnpinStop = { readonly covered: true } | { readonly merge: number } | { readonly insertAt: number };

/** Walks the list from the head (highest pages) once, as the driver's loop body does (§4.2). */
function unpinWalk(list: readonly Range[], s: number, e: number): UnpinStop {
  for (let i = 0; i < list.length; i++) {
    const r = list[i] as Range;
    if (before(r, s)) return { insertAt: i };
    if (covers(r, s, e)) return { covered: true };
    if (touches(r, s, e)) return { merge: i };
  }
  return { insertAt: list.length };
}

/** §4.2: unpin pages [s, e]; returns 0. */
export function unpin(area: Area, lru: Lru<Range>, s: number, e: number): number {
  const list = area.unpinned;
  let purged = false;
  // The driver restarts its walk from the head after every merge; so does this loop.
  for (let stop = unpinWalk(list, s, e); ; stop = unpinWalk(list, s, e)) {
    if ('covered' in stop) return 0; // already unpinned: nothing changes, not even LRU age
    if ('merge' in stop) {
      const r = list[stop.merge] as Range;
      s = Math.min(s, r.pgstart);
      e = Math.max(e, r.pgend);
      purged ||= r.purged;
      list.splice(stop.merge, 1);
      lru.remove(r);
      continue;
    }
    const r = new Range(area.id, s, e, purged);
    list.splice(stop.insertAt, 0, r);
    if (!purged) lru.add(r);
    return 0;
  }
}

/** §4.3: pin pages [s, e]; returns WAS_PURGED if any touched range was purged. */
export function pin(area: Area, lru: Lru<Range>, s: number, e: number): number {
  const list = area.unpinned;
  let ret = NOT_PURGED;
  for (let i = 0; i < list.length; ) {
    const r = list[i] as Range;
    if (before(r, s)) break;
    if (!touches(r, s, e)) {
      i++;
      continue;
    }
    if (r.purged) ret = WAS_PURGED;
    if (inside(r, s, e)) {
      list.splice(i, 1);
      lru.remove(r);
      continue;
    }
    if (r.pgstart >= s) {
      shrink(r, lru, e + 1, r.pgend);
      i++;
      continue;
    }
    if (r.pgend <= e) {
      shrink(r, lru, r.pgstart, s - 1);
      i++;
      continue;
    }
    // A hole punched in the middle: the upper part is a new range at the LRU tail,
    // the lower part keeps the old range's LRU slot.
    const upper = new Range(area.id, e + 1, r.pgend, r.purged);
    list.splice(i, 0, upper);
    if (!upper.purged) lru.add(upper);
    shrink(r, lru, r.pgstart, s - 1);
    break;
  }
  return ret;
}

/** `range_shrink`: trims in place, keeping the LRU position. */
function shrink(r: Range, lru: Lru<Range>, pgstart: number, pgend: number): void {
  const before = rangePages(r);
  r.pgstart = pgstart;
  r.pgend = pgend;
  if (r.onLru) lru.trimmed(before - rangePages(r));
}

/** §4.4: IS_UNPINNED if any range touches [s, e], else IS_PINNED. Pure. */
export function pinStatus(area: Area, s: number, e: number): number {
  for (const r of area.unpinned) {
    if (before(r, s)) break;
    if (touches(r, s, e)) return IS_UNPINNED;
  }
  return IS_PINNED;
}
