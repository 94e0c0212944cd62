/**
 * checkInvariants (§11 "Invariants to assert in the model"): a kernel broken by hand in each way
 * one invariant guards must make it throw, naming what broke; a sound kernel (including the §4.6
 * empty range) must not.
 */
import assert from 'node:assert/strict';
import { InvariantError, checkInvariants } from '../../harness/model/invariants.js';
import { Kernel } from '../../harness/model/kernel.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { Range } from '../../harness/model/range.js';
import type { Area } from '../../harness/model/area.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { Op } from '../../harness/ops/ast.js';

const PAGE = 4096;

/**
 * A 16-page region whose list is, highest first: the §4.6 empty range {16,15}, [8,9], [5,5], [2,3],
 * all on the LRU; plus a second, untouched region r1 (area 2).
 */
function sound(): { k: Kernel; a: Area; r: Range[] } {
  const k = new Kernel(profileById('c-final').features, DEFAULT_ENVIRONMENT);
  const text = [
    'open r0', `set_size r0 ${16 * PAGE}`, `mmap m0 r0 ${16 * PAGE} 3 shared 0`,
    'open r1', `set_size r1 ${4 * PAGE}`, `mmap m1 r1 ${4 * PAGE} 3 shared 0`,
    `unpin r0 ${2 * PAGE} ${2 * PAGE}`, `unpin r0 ${8 * PAGE} ${2 * PAGE}`, `unpin r0 ${5 * PAGE} ${PAGE}`, `unpin r0 ${16 * PAGE} 0`,
  ].join('\n');
  for (const o of parseScript(`${text}\n`).ops) assert.equal(k.apply(o as Op).ret, 0);
  const a = k.areas.get(1);
  assert.ok(a !== undefined);
  assert.deepEqual(a.unpinned.map((r) => [r.pgstart, r.pgend]), [[16, 15], [8, 9], [5, 5], [2, 3]], 'the §4.6 empty range sits above every page');
  return { k, a, r: a.unpinned };
}

function broken(k: Kernel, what: RegExp): void {
  assert.throws(() => checkInvariants(k), (e: unknown) => e instanceof InvariantError && e.name === 'InvariantError' && what.test(e.message));
}

describe('checkInvariants (§11)', () => {
  it('holds for a sound kernel with the §4.6 empty range on top of the list', () => {
    assert.doesNotThrow(() => checkInvariants(sound().k));
  });

  it('a region without a backing file but with unpinned ranges breaks "file == null ⇒ unpinned == []"', () => {
    const { k, a } = sound();
    a.file = null;
    broken(k, /area 1 has unpinned ranges but no backing file/);
  });

  it("a range of another area on this area's list is caught", () => {
    const { k, r } = sound();
    const stray = new Range(2, 9, 9, true);
    r.splice(1, 1, stray); // a purged [9,9] of area 2 in place of [8,9]; the area check comes first
    broken(k, /of area 2 is on area 1's list/);
  });

  it('a range inverted by more than the §4.6 one page is caught', () => {
    const { k, r } = sound();
    const e = r[0]!;
    e.pgend = e.pgstart - 2; // rangePages now -1: keep lru_count in step so only this breaks
    k.lru.trimmed(1);
    broken(k, /16-14 is inverted beyond the §4.6 empty interval/);
  });

  it('ranges out of descending order or overlapping are caught, however far apart in the list', () => {
    // ascending neighbours
    let s = sound();
    s.r.reverse();
    broken(s.k, /overlaps or is out of order/);
    // one shared page: [5,8] after [8,9]
    s = sound();
    s.r[2]!.pgend = 8;
    s.k.lru.trimmed(-3);
    broken(s.k, /area 1: range 5-8 overlaps or is out of order after 8-9/);
    // a one-page range followed by one overlapping it: [5,5] then [5,5]
    s = sound();
    s.r[3]!.pgstart = 5;
    s.r[3]!.pgend = 5;
    s.k.lru.trimmed(1);
    broken(s.k, /range 5-5 overlaps or is out of order after 5-5/);
    // an empty range in between does not hide the overlap of its neighbours: [8,9], {7,6}, [9,9]
    s = sound();
    const [e, hi, mid, lo] = s.r as [Range, Range, Range, Range];
    e.pgstart = 7;
    e.pgend = 6;
    mid.pgstart = 9;
    mid.pgend = 9;
    s.a.unpinned = [hi, e, mid, lo];
    broken(s.k, /range 9-9 overlaps or is out of order after 8-9/);
  });

  it('a purged range still on the LRU breaks "onLru ⇔ !purged", and the message names the range', () => {
    const { k, r } = sound();
    r[3]!.purged = true;
    broken(k, /range 2-3: on the LRU must equal not purged/);
  });

  it('an LRU range on no live area list is caught', () => {
    const { k } = sound();
    k.lru.add(new Range(1, 12, 12, false));
    broken(k, /LRU range 12-12 of area 1 belongs to no live area's list/);
  });

  it('lru_count and the LRU length must match what the LRU holds', () => {
    let s = sound();
    s.k.lru.trimmed(1);
    broken(s.k, /lru_count is 4 but the LRU holds 5 pages/);
    s = sound();
    s.k.lru.length++;
    broken(s.k, /the LRU says 5 ranges but holds 4/);
  });
});
