/**
 * drop_caches follows the kernel version (issue 12 §3; spec §5.2, §5.3, §12). The arithmetic is
 * the kernel's mm/vmscan.c and the driver's shrinker, read from the sources:
 *
 * - 5.10 `drop_slab_node`: `do { freed = 0; ... shrink_slab(..., 0) ... } while (freed > 10);`
 * - 5.11+ (6.1 `drop_slab`): `do { freed = 0; ... } while ((freed >> shift++) > 1);`
 * - `do_shrink_slab` at priority 0: `delta = (freeable >> 0) * 4 / seeks` (ashmem: seeks
 *   `DEFAULT_SEEKS * 4` = 8), `total_scan = nr_deferred + delta` capped at `2 * freeable`; it
 *   scans `min(batch_size = 128, total_scan)` at a time `while (total_scan >= batch_size ||
 *   total_scan >= freeable)` and defers the rest: 5.10 `next_deferred = total_scan - scanned`,
 *   6.1 `max(nr + delta - scanned, 0)` capped at `2 * freeable`;
 * - `ashmem_shrink_count` returns `lru_count` (pages); `ashmem_shrink_scan` purges whole ranges
 *   from the LRU head, `if (--sc->nr_to_scan <= 0) break;` (ranges), returning pages freed.
 *
 * The scripted scenario is §12's: 5 unpinned pages in 3 small ranges on an idle fresh guest,
 * another shrinker freeing 9 objects in the first pass of each write and nothing after; the judge
 * tests run the conformance scenario 12-drop-caches-pass-loop-by-kernel-version.ops.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { judge } from '../../harness/check/judge.js';
import { predict, type Prediction } from '../../harness/check/predict.js';
import { QUIET } from '../../harness/check/worlds.js';
import { dropCachesOutcomes, dropSlabRules, shrinkPass, type OtherFreed } from '../../harness/model/drop-caches.js';
import { DEFAULT_ENVIRONMENT, profileById, type Environment } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { ByteRun, OpResult } from '../../harness/ops/result.js';
import { sampleResults, sampleScript } from '../support/samples.js';

const K510 = dropSlabRules([5, 10]);
const K61 = dropSlabRules([6, 1]);
/** The §12 guest: another shrinker frees 9 objects in a write's first pass, nothing after. */
const NINE_THEN_NOTHING: OtherFreed = (pass) => (pass === 0 ? { min: 9, max: 9 } : { min: 0, max: 0 });
/** 3 ranges, 5 pages, oldest first. */
const SMALL = [2, 2, 1];

/** The writes of a scripted scenario: each write's single outcome, carried into the next. */
function writes(rules: typeof K510, others: OtherFreed, count: number): number[] {
  let purged = 0;
  let deferred = 0;
  const out: number[] = [];
  for (let w = 0; w < count; w++) {
    const ends = dropCachesOutcomes(SMALL.slice(purged), deferred, 'ranges', rules, others);
    assert.equal(ends.length, 1, `write ${w + 1} is determined when the others' frees are known: ${JSON.stringify(ends)}`);
    const [end] = ends as [{ purged: number; deferred: number }];
    out.push(end.purged);
    purged += end.purged;
    deferred = end.deferred;
  }
  return out;
}

// The conformance scenario: a region of 8 pages with 5 of them unpinned in three ranges, then
// three drop_caches writes, each followed by a check of the whole region.
const SCRIPT = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../conformance/scenarios/12-drop-caches-pass-loop-by-kernel-version.ops'), 'utf8');
const KEPT: readonly ByteRun[] = [[0xa5, 32768]];
const PURGED: readonly ByteRun[] = [[0, 8192], [0xa5, 4096], [0, 8192], [0xa5, 4096], [0, 4096], [0xa5, 4096]];
/** Results where the writes purged everything at write `at` (1-based). */
function observed(at: number): OpResult[] {
  let writesSoFar = 0;
  return parseScript(SCRIPT).ops.map((op): OpResult => {
    if (op.kind === 'drop_caches') writesSoFar++;
    if (op.kind === 'check') return { i: op.line, op: op.kind, ret: 0, rle: writesSoFar >= at ? PURGED : KEPT };
    return { i: op.line, op: op.kind, ret: 0 };
  });
}
/** The script line of the `n`-th check (1-based). */
const checkLine = (n: number): number => (parseScript(SCRIPT).ops.filter((op) => op.kind === 'check')[n - 1] as { line: number }).line;
const env = (kernelVersion?: [number, number]): Environment => (kernelVersion === undefined ? DEFAULT_ENVIRONMENT : { ...DEFAULT_ENVIRONMENT, kernelVersion });
const BATCHES = { ...QUIET, otherUsers: false, shrinker: 'batches' as const };
const verdict = (at: number, kernelVersion?: [number, number]): string => judge(parseScript(SCRIPT), observed(at), profileById('c-final'), env(kernelVersion), BATCHES).kind;

describe('drop_caches follows the kernel version (§5.2, §5.3, §12)', () => {
  it('the kernel eras: the pass loop changed in 5.11, the deferred cap in 5.13', () => {
    assert.deepEqual(dropSlabRules([5, 10]), { loop: 'freed-over-10', deferredCap: false });
    assert.deepEqual(dropSlabRules([5, 11]), { loop: 'halving', deferredCap: false });
    assert.deepEqual(dropSlabRules([6, 1]), { loop: 'halving', deferredCap: true });
    assert.deepEqual(dropSlabRules([4, 19]), { loop: 'freed-over-10', deferredCap: false });
  });

  it('one ashmem pass on 5 pages: delta 2 deferred, then 4, then a scan of 6 takes all three ranges (§12)', () => {
    for (const rules of [K510, K61]) {
      assert.deepEqual(shrinkPass(SMALL, 0, 'ranges', rules), { purged: 0, freed: 0, deferred: 2 });
      assert.deepEqual(shrinkPass(SMALL, 2, 'ranges', rules), { purged: 0, freed: 0, deferred: 4 });
      assert.deepEqual(shrinkPass(SMALL, 4, 'ranges', rules), { purged: 3, freed: 5, deferred: 0 });
      // An empty LRU returns at once (freeable == 0) and leaves the deferred count alone.
      assert.deepEqual(shrinkPass([], 7, 'ranges', rules), { purged: 0, freed: 0, deferred: 7 });
    }
  });

  it('300 single-page ranges: a pass scans 128 ranges, defers 22 (the real-driver sample 31)', () => {
    assert.deepEqual(shrinkPass(new Array<number>(300).fill(1), 0, 'ranges', K61), { purged: 128, freed: 128, deferred: 22 });
    // Rust counts pages: 100 three-page ranges, a budget of 128 pages ends after 43 ranges (129 pages).
    assert.deepEqual(shrinkPass(new Array<number>(100).fill(3), 0, 'pages', K61), { purged: 43, freed: 129, deferred: 22 });
  });

  it('5.10, the §12 guest: nothing on the first two writes, everything on the third', () => {
    assert.deepEqual(writes(K510, NINE_THEN_NOTHING, 3), [0, 0, 3]);
  });

  it('6.1, the §12 guest: the 9 objects of the first pass make it repeat, so everything goes on the second write', () => {
    assert.deepEqual(writes(K61, NINE_THEN_NOTHING, 2), [0, 3]);
  });

  it('an idle guest whose other shrinkers free 0-10 objects: 5.10 is decided, 6.1 admits both (the others decide its repeat)', () => {
    assert.deepEqual(dropCachesOutcomes(SMALL, 0, 'ranges', K510), [{ purged: 0, deferred: 2 }]);
    assert.deepEqual(dropCachesOutcomes(SMALL, 0, 'ranges', K61), [{ purged: 0, deferred: 2 }, { purged: 0, deferred: 4 }]);
    assert.deepEqual(dropCachesOutcomes(SMALL, 2, 'ranges', K61), [{ purged: 0, deferred: 4 }, { purged: 3, deferred: 0 }]);
  });

  it('the real sample 31 (300 single-page ranges) under the batch model of its own kernel: 6.1 guests and Debian\'s 5.10', () => {
    const script = parseScript(sampleScript('31-lru-oldest-128'));
    for (const [dir, profile, version] of [['c-pre2019', 'c-pre2019', [6, 1]], ['ack-c-5.10', 'ack-c', [6, 1]], ['c-final-deb510', 'c-final', [5, 10]]] as const) {
      const e = { ...DEFAULT_ENVIRONMENT, kernelSeeksWithoutFmode: version[0] >= 6, kernelVersion: version };
      assert.equal(judge(script, sampleResults(dir, '31-lru-oldest-128'), profileById(profile), e, BATCHES).kind, 'consistent', dir);
    }
  });

  describe('the judge with --shrinker batches and the target\'s kernel version', () => {
    it('5.10: purged on the third write is consistent, on the second a divergence', () => {
      assert.equal(verdict(3, [5, 10]), 'consistent');
      assert.equal(verdict(2, [5, 10]), 'diverged');
      assert.equal(verdict(1, [5, 10]), 'diverged');
    });

    it('6.1: purged on the second write is consistent, and so is the third (the others may free too little to repeat); never the first', () => {
      assert.equal(verdict(2, [6, 1]), 'consistent');
      assert.equal(verdict(3, [6, 1]), 'consistent');
      assert.equal(verdict(1, [6, 1]), 'diverged');
    });

    it('an unknown kernel version admits every era', () => {
      assert.equal(verdict(2), 'consistent');
      assert.equal(verdict(3), 'consistent');
      assert.equal(verdict(1), 'diverged');
    });

    it('the divergence names the shrinker arithmetic and §12, and any-prefix accepts the same results', () => {
      const v = judge(parseScript(SCRIPT), observed(2), profileById('c-final'), env([5, 10]), BATCHES);
      assert.equal(v.kind, 'diverged');
      if (v.kind === 'diverged') {
        assert.equal(v.divergence.line, checkLine(2));
        assert.match(v.divergence.rule, /^no admissible run of the shrinker purges this: .*this kernel's drop_caches pass loop/);
        assert.match(v.divergence.section, /§12/);
      }
      assert.equal(judge(parseScript(SCRIPT), observed(2), profileById('c-final'), env([5, 10]), { ...BATCHES, shrinker: 'any-prefix' }).kind, 'consistent');
    });

    it('predict says what each write admits: ranges purged, per kernel', () => {
      const admits = (kernelVersion: [number, number]): unknown[] => predict(parseScript(SCRIPT), profileById('c-final'), env(kernelVersion), BATCHES)
        .filter((p): p is Prediction & { admits: unknown } => 'admits' in p && p.admits !== undefined).map((p) => p.admits);
      assert.deepEqual(admits([5, 10]), [{ purged_ranges: [0] }, { purged_ranges: [0] }, { purged_ranges: [3] }]);
      // On 6.1 the second write may purge or not; either way all three are gone after the third
      // (the worlds where it purged then and where it purged before are one state).
      assert.deepEqual(admits([6, 1]), [{ purged_ranges: [0] }, { purged_ranges: [0, 3] }, { purged_ranges: [0] }]);
    });
  });
});
