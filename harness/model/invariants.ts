/**
 * The invariants of §11, checked after every op when asked (tests and `--check-invariants`);
 * off the hot path otherwise.
 */
import type { Kernel } from './kernel.js';
import { rangePages } from './lru.js';
import type { Range } from './range.js';

/** The model broke one of its own invariants: a bug in the model, never in the target. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/** Throws {@link InvariantError} naming the first invariant that does not hold. */
export function checkInvariants(k: Kernel): void {
  const listed = new Set<Range>();
  for (const a of k.areas.values()) {
    if (a.file === null && a.unpinned.length > 0) throw new InvariantError(`area ${a.id} has unpinned ranges but no backing file`);
    let prev: Range | undefined;
    for (const r of a.unpinned) {
      if (r.areaId !== a.id) throw new InvariantError(`range ${r.pgstart}-${r.pgend} of area ${r.areaId} is on area ${a.id}'s list`);
      const empty = r.pgend < r.pgstart;
      if (empty && r.pgend !== r.pgstart - 1) throw new InvariantError(`range ${r.pgstart}-${r.pgend} is inverted beyond the §4.6 empty interval`);
      // Descending and non-overlapping, except the zero-page ranges of §4.6.
      if (prev !== undefined && !empty && prev.pgend >= prev.pgstart && r.pgend >= prev.pgstart) {
        throw new InvariantError(`area ${a.id}: range ${r.pgstart}-${r.pgend} overlaps or is out of order after ${prev.pgstart}-${prev.pgend}`);
      }
      if (r.onLru === r.purged) throw new InvariantError(`range ${r.pgstart}-${r.pgend}: on the LRU must equal not purged`);
      listed.add(r);
      if (!empty) prev = r;
    }
  }
  let count = 0;
  let length = 0;
  for (const r of k.lru) {
    if (!listed.has(r)) throw new InvariantError(`LRU range ${r.pgstart}-${r.pgend} of area ${r.areaId} belongs to no live area's list`);
    count += rangePages(r);
    length++;
  }
  if (count !== k.lru.count) throw new InvariantError(`lru_count is ${k.lru.count} but the LRU holds ${count} pages`);
  if (length !== k.lru.length) throw new InvariantError(`the LRU says ${k.lru.length} ranges but holds ${length}`);
}
