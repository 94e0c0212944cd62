/**
 * The drop_caches arithmetic at its edges (issue 12 §3 and §7; spec §5.2, §5.3, §12): each
 * expected value below is worked out by hand from mm/vmscan.c and the driver's shrinker, as
 * drop-caches.test.ts lists them:
 *
 * - one ashmem call: `freeable` = lru_count (pages), `delta = freeable * 4 / 8`,
 *   `total = min(deferred + delta, 2 * freeable)`; `scan_objects(min(128, total))` while
 *   `total >= 128 || total >= freeable`; the C driver counts that budget in ranges, the Rust one
 *   stops once it has freed at least that many pages; what was not scanned is deferred (capped at
 *   `2 * freeable` from 5.13);
 * - the pass loop of one write: 5.10 repeats while a pass freed more than 10 objects; 5.11+
 *   while `(freed >> shift++) > 1`.
 */
import assert from 'node:assert/strict';
import { judge } from '../../harness/check/judge.js';
import { QUIET } from '../../harness/check/worlds.js';
import { dropCachesOutcomes, dropSlabRules, rulesFor, shrinkPass, type DropOutcome, type OtherFreed } from '../../harness/model/drop-caches.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { ByteRun, OpResult } from '../../harness/ops/result.js';

const K510 = dropSlabRules([5, 10]);
const K61 = dropSlabRules([6, 1]);
/** Three ranges, five pages, oldest first (the §12 scenario). */
const SMALL = [2, 2, 1];
const singlePages = (n: number): number[] => new Array<number>(n).fill(1);
/** Other shrinkers that free exactly `n` objects in the first pass and nothing after. */
const firstPassFrees = (n: number): OtherFreed => (pass) => (pass === 0 ? { min: n, max: n } : { min: 0, max: 0 });
const end = (purged: number, deferred: number): DropOutcome => ({ purged, deferred });

describe('drop_caches: one ashmem shrinker call at its edges (§5.2, §5.3)', () => {
  it('a total of exactly 128 is one batch: 256 single-page ranges lose 128 and defer nothing', () => {
    // delta = 256 * 4 / 8 = 128 = SHRINK_BATCH: `total_scan >= batch_size` holds, one call of 128.
    assert.deepEqual(shrinkPass(singlePages(256), 0, 'ranges', K61), { purged: 128, freed: 128, deferred: 0 });
  });

  it('a total equal to freeable scans even below a batch: 5 pages with 3 deferred go in one call', () => {
    // delta 2 + deferred 3 = 5 = freeable: `total_scan >= freeable` holds, nr_to_scan 5 covers all three ranges.
    for (const rules of [K510, K61]) assert.deepEqual(shrinkPass(SMALL, 3, 'ranges', rules), { purged: 3, freed: 5, deferred: 0 });
  });

  it('three 100-page ranges: the C driver spends the 128 budget as ranges (all three go, §12), Rust as pages (two go)', () => {
    // total = 150; one call of 128, 22 deferred. C: 128 ranges > 3; Rust: 100 < 128, 200 >= 128.
    assert.deepEqual(shrinkPass([100, 100, 100], 0, 'ranges', K61), { purged: 3, freed: 300, deferred: 22 });
    assert.deepEqual(shrinkPass([100, 100, 100], 0, 'pages', K61), { purged: 2, freed: 200, deferred: 22 });
  });

  it('Rust stops as soon as it has freed nr_to_scan pages: 300 single pages lose exactly 128, not 129', () => {
    assert.deepEqual(shrinkPass(singlePages(300), 0, 'pages', K61), { purged: 128, freed: 128, deferred: 22 });
  });
});

describe('drop_caches: the pass loop of one write (§12, issue 12 §3)', () => {
  it('5.10 goes on while its own passes free more than 10: 400 single-page ranges all go in one write', () => {
    // Passes free 128 (deferred 72), 128 (80), 128 (24), 16 (0): each > 10, so a fifth pass runs and frees nothing.
    assert.deepEqual(dropCachesOutcomes(singlePages(400), 0, 'ranges', K510), [end(400, 0)]);
  });

  it('6.1\'s threshold doubles each pass: 20000 single-page ranges, the eighth pass frees 128 and 128 >> 7 = 1 ends the write', () => {
    // Passes free 9984, 4992, 2432, 1408, 512, 384, 128, 128 (each > 2^(pass+1) up to pass 6); the
    // eighth leaves 32 ranges and deferred 0. 5.10 runs a ninth pass (128 > 10), which scans
    // nothing and defers 16.
    assert.deepEqual(dropCachesOutcomes(singlePages(20000), 0, 'ranges', K61), [end(19968, 0)]);
    assert.deepEqual(dropCachesOutcomes(singlePages(20000), 0, 'ranges', K510), [end(19968, 16)]);
  });

  it('6.1 repeats a first pass only above one object freed: 1 >> 0 = 1 stops, 2 repeats', () => {
    // The first ashmem pass on 5 pages defers 2 and frees nothing; a second defers 4.
    assert.deepEqual(dropCachesOutcomes(SMALL, 0, 'ranges', K61, firstPassFrees(1)), [end(0, 2)]);
    assert.deepEqual(dropCachesOutcomes(SMALL, 0, 'ranges', K61, firstPassFrees(2)), [end(0, 4)]);
  });

  it('6.1: a write that other shrinkers keep going for two passes over an empty ashmem LRU still ends, ashmem untouched', () => {
    // 20 >> 0 and 20 >> 1 are > 1, so passes 0 and 1 must repeat; pass 2 frees nothing and stops.
    // ashmem's count is 0 in every pass, so its deferred 5 is left as it was.
    const busyTwice: OtherFreed = (pass) => (pass === 0 || pass === 1 ? { min: 20, max: 20 } : { min: 0, max: 0 });
    assert.deepEqual(dropCachesOutcomes([], 5, 'ranges', K61, busyTwice), [end(0, 5)]);
  });

  it('5.10 with another shrinker that may free 11 in every pass: the loop may never stop, yet every end is listed', () => {
    // Each pass may stop (0 more) or repeat (11 > 10): after pass 0 deferred 2, pass 1 deferred 4,
    // pass 2 scans 6 >= 5 and purges all three; later passes change nothing.
    const mayAlwaysFree11: OtherFreed = () => ({ min: 0, max: 11 });
    assert.deepEqual(dropCachesOutcomes(SMALL, 0, 'ranges', K510, mayAlwaysFree11), [end(0, 2), end(0, 4), end(3, 0)]);
  });
});

describe('drop_caches with no known kernel version admits the ends of every era', () => {
  /** The union of the ends over the eras {@link rulesFor} gives for an unknown version, as `purged/deferred`. */
  const anyEra = (pages: readonly number[], deferred: number): string[] =>
    [...new Set(rulesFor(undefined).flatMap((r) => dropCachesOutcomes(pages, deferred, 'ranges', r)).map((o) => `${o.purged}/${o.deferred}`))].sort();

  it('one single-page range with 5 deferred: 3 left deferred up to 5.12, 2 from 5.13 (capped at 2 × freeable)', () => {
    // freeable 1, delta 0, total min(5, 2) = 2: one call purges the range; 5 - 2 = 3 deferred.
    assert.deepEqual(anyEra([1], 5), ['1/2', '1/3']);
  });

  it('130 single-page ranges with 8 deferred: 5.11-5.12 alone end with 7 deferred', () => {
    // Pass 0: total 73, no scan, deferred 73 (5.10 stops here: at most 10 freed by others). With
    // halving and 2+ freed by others: pass 1 total 138, one call of 128, deferred 10; pass 2
    // (freeable 2) total 4 purges the last two, 11 - 4 = 7 deferred, capped at 4 from 5.13.
    assert.deepEqual(anyEra(singlePages(130), 8), ['0/73', '130/4', '130/7']);
  });
});

describe('drop_caches after reclaim the model does not follow (judge, --shrinker batches, 5.10)', () => {
  // Memory pressure runs the shrinker at priorities the model does not follow, so the deferred
  // count is unknown afterwards: a drop_caches write may then purge nothing or every range
  // (whole batches, §5.3). A later write does not make the count known either, whether it
  // purged everything or found the LRU empty, so the write after it still admits both.
  const head = ['open r0', 'set_size r0 32768', 'mmap m0 r0 32768 3 shared 0', 'fill m0 0 32768 0xA5'];
  const unpinThree = ['unpin r0 0 8192', 'unpin r0 12288 8192', 'unpin r0 24576 4096'];
  const KEPT: readonly ByteRun[] = [[0xa5, 32768]];
  const PURGED: readonly ByteRun[] = [[0, 8192], [0xa5, 4096], [0, 8192], [0xa5, 4096], [0, 4096], [0xa5, 4096]];
  /** The verdict on `lines` where the checks read back `reads` in turn and PIN returns `pinRets` in turn. */
  const verdict = (lines: readonly string[], reads: readonly (readonly ByteRun[])[], pinRets: readonly number[]): string => {
    const script = parseScript(lines.join('\n'));
    let checks = 0;
    let pins = 0;
    const observed = script.ops.map((op): OpResult => {
      if (op.kind === 'check') return { i: op.line, op: op.kind, ret: 0, rle: reads[checks++] as readonly ByteRun[] };
      return { i: op.line, op: op.kind, ret: op.kind === 'pin' ? (pinRets[pins++] as number) : 0 };
    });
    const env = { ...DEFAULT_ENVIRONMENT, kernelVersion: [5, 10] as [number, number] };
    const v = judge(script, observed, profileById('c-final'), env, { ...QUIET, otherUsers: false, shrinker: 'batches' });
    return v.kind === 'diverged' ? `diverged at line ${v.divergence.line}: ${v.divergence.rule}` : v.kind;
  };

  it('pressure purges nothing, then each of two writes purges all three ranges: consistent', () => {
    const lines = [...head, ...unpinThree, 'pressure 8 1', 'check m0 0 32768', 'drop_caches', 'check m0 0 32768',
      'pin r0 0 32768', 'fill m0 0 32768 0xA5', ...unpinThree, 'drop_caches', 'check m0 0 32768'];
    // PIN over purged ranges answers ASHMEM_WAS_PURGED (§3.6, §12).
    assert.equal(verdict(lines, [KEPT, PURGED, PURGED], [1]), 'consistent');
  });

  it('pressure purges nothing, a write finds the LRU empty, the next purges all three ranges: consistent', () => {
    const lines = [...head, ...unpinThree, 'pressure 8 1', 'check m0 0 32768', 'pin r0 0 32768', 'drop_caches',
      ...unpinThree, 'drop_caches', 'check m0 0 32768'];
    assert.equal(verdict(lines, [KEPT, PURGED], [0]), 'consistent');
  });

  it('without the pressure the deferred count is known (0): on 5.10 a first write cannot purge those 5 pages', () => {
    const lines = [...head, ...unpinThree, 'drop_caches', 'check m0 0 32768'];
    assert.match(verdict(lines, [PURGED], []), /^diverged at line 9: no admissible run of the shrinker/);
  });
});
