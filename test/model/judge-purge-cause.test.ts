/**
 * How a divergence names the op that purged a page (harness/check/judge.ts `purgeCause`, the
 * replay of the judged world's choices) and the history the rules ask about (`anyTrigger`,
 * `anyPrefixExplains`). Each case is a page that kept its data (or lost it) where the spec says
 * otherwise; the observations are the model's own answers for a chosen purge, one altered.
 * Written against the mutation report (issue 12 §7).
 */
import assert from 'node:assert/strict';
import { judge, type Divergence, type JudgeOptions } from '../../harness/check/judge.js';
import { QUIET } from '../../harness/check/worlds.js';
import { Device } from '../../harness/model/device.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

const PROFILE = profileById('c-final');
const ENV = DEFAULT_ENVIRONMENT;
const OPTS: JudgeOptions = { ...QUIET, otherUsers: false };
const PAGE = 4096;

/** The model's answers when the purge choice of line n is `choices[n]` (default otherwise). */
function modelRun(text: string, choices: Readonly<Record<number, number>> = {}): OpResult[] {
  const d = Device.create(PROFILE.features, ENV);
  return parseScript(text).ops.map((op) => d.apply(op, choices[op.line]));
}

/** Replaces fields of line `i`'s result. */
const alter = (rs: readonly OpResult[], i: number, r: Partial<OpResult>): OpResult[] => rs.map((x) => (x.i === i ? ({ i, op: x.op, ...r } as OpResult) : x));

function divergence(text: string, rs: readonly OpResult[], opts: JudgeOptions = OPTS): Divergence {
  const v = judge(parseScript(text), rs, PROFILE, ENV, opts);
  assert.equal(v.kind, 'diverged', JSON.stringify(v).slice(0, 300));
  return (v as { divergence: Divergence }).divergence;
}

/** Script lines: one ashmem region r0 of `pages` pages mapped at m0 and filled with 0xA5. */
const region = (pages: number, r = 'r0', m = 'm0'): string[] => [
  `open ${r}`, `set_size ${r} ${pages * PAGE}`, `mmap ${m} ${r} ${pages * PAGE} 3 shared 0`, `fill ${m} 0 ${pages * PAGE} 0xA5`,
];
const unpin = (page: number, r = 'r0'): string => `unpin ${r} ${page * PAGE} ${PAGE}`;
const pin = (page: number, r = 'r0'): string => `pin ${r} ${page * PAGE} ${PAGE}`;
const check = (page: number, m = 'm0'): string => `check ${m} ${page * PAGE} ${PAGE}`;
const KEPT = { ret: 0, rle: [[0xa5, PAGE]] as [number, number][] };

describe('the op that purged a page, in the judged world (§4.5, §5.1, §5.3)', () => {
  it('the page is purged by the trigger, not by its own unpin: the trigger is named with the newer ranges it took', () => {
    // LRU [0, 1]; pressure took both (the pin of page 1 says so), yet page 0 kept its data.
    const text = [...region(2), unpin(0), unpin(1), 'pressure 64 1', pin(1), check(0)].join('\n');
    const rs = modelRun(text, { 7: 2 });
    assert.equal(rs[7]?.ret, 1);
    const d = divergence(text, alter(rs, 9, KEPT));
    assert.match(d.rule, /^purged out of LRU order: page 0 kept its data though memory pressure at line 7 purged newer ranges \(1:1\); /);
  });

  it('the newer ranges are those after the page\'s own range on the LRU, in its own area (two areas, same page index)', () => {
    // LRU [1:0, 2:0, 2:1]; pressure took all three; page 0 of the second area kept its data.
    const text = [...region(1), ...region(2, 'r1', 'm1'), unpin(0), unpin(0, 'r1'), unpin(1, 'r1'), 'pressure 64 1', pin(1, 'r1'), check(0, 'm1')].join('\n');
    const rs = modelRun(text, { 12: 3 });
    assert.equal(rs[12]?.ret, 1);
    const d = divergence(text, alter(rs, 14, KEPT));
    assert.match(d.rule, /^purged out of LRU order: page 0 kept its data though memory pressure at line 12 purged newer ranges \(2:1\); /);
  });

  it('a range later in the area but older on the LRU is not the page\'s range', () => {
    // LRU [1, 0, 2] (page 1 unpinned first); pressure took all three; page 0 kept its data.
    const text = [...region(3), unpin(1), unpin(0), unpin(2), 'pressure 64 1', pin(2), check(0)].join('\n');
    const rs = modelRun(text, { 8: 3 });
    assert.equal(rs[8]?.ret, 1);
    const d = divergence(text, alter(rs, 10, KEPT));
    assert.match(d.rule, /^purged out of LRU order: page 0 kept its data though memory pressure at line 8 purged newer ranges \(1:2\); /);
  });

  it('a purge of the range after the page is not a purge of the page: the later trigger is named', () => {
    // LRU [1, 0]: the first pressure takes page 1 only (page 0 reads its data, page 1 zeros);
    // then LRU [0, 2] and the second pressure takes both, yet page 0 kept its data.
    const text = [...region(3), unpin(1), unpin(0), 'pressure 64 1', check(0), check(1), unpin(2), 'pressure 64 1', pin(2), check(0)].join('\n');
    const rs = modelRun(text, { 7: 1, 11: 2 });
    assert.deepEqual([rs[7]?.rle, rs[8]?.rle, rs[11]?.ret], [[[0xa5, PAGE]], [[0, PAGE]], 1]);
    const d = divergence(text, alter(rs, 13, KEPT));
    assert.match(d.rule, /^purged out of LRU order: page 0 kept its data though memory pressure at line 11 purged newer ranges \(1:2\); /);
  });

  it('an op the target did not run purged nothing: PURGE_ALL_CACHES unsupported, then pressure took the page', () => {
    const text = [...region(2), unpin(0), unpin(1), 'purge_all r0', 'pressure 64 1', pin(1), check(0)].join('\n');
    // The target skipped line 7; in the model's own run nothing was on the LRU for it to miss.
    const rs = alter(modelRun(text.replace('purge_all r0', 'pressure 64 1'), { 7: 0, 8: 2 }), 7, { error: 'unsupported', message: 'no such ioctl here' }).map((r) => (r.i === 7 ? { ...r, op: 'purge_all' } : r));
    assert.equal(rs[8]?.ret, 1);
    const d = divergence(text, alter(rs, 10, KEPT));
    assert.match(d.rule, /^purged out of LRU order: page 0 kept its data though memory pressure at line 8 purged newer ranges \(1:1\); /);
  });

  it('a page purged by background reclaim has no named cause, though PURGE_ALL_CACHES purged it before it was pinned again', () => {
    // PURGE_ALL_CACHES purges page 0 (its pin says so); it is refilled, unpinned again with page 1,
    // and the pin of page 1 shows reclaim took both (a prefix) before it: page 0 must read zeros.
    // The replay of the judged world sees the first purge only, and the pin that ended it.
    const text = [...region(2), unpin(0), 'purge_all r0', pin(0), 'fill m0 0 4096 0xA5', unpin(0), unpin(1), pin(1), check(0)].join('\n');
    const d0 = Device.create(PROFILE.features, ENV);
    const rs = parseScript(text).ops.map((op) => {
      if (op.line === 11) d0.purge(2);
      return d0.apply(op);
    });
    assert.deepEqual([rs[5]?.ret, rs[6]?.ret, rs[10]?.ret], [1, 1, 1]);
    const d = divergence(text, alter(rs, 12, KEPT), { ...OPTS, backgroundReclaim: true });
    assert.match(d.rule, /^purged page not zeroed: a purged range read back its data: /);
  });
});

describe('what ran before a divergence (§5.3: on an exclusive machine only a trigger purges)', () => {
  for (const trigger of ['purge_all r0', 'app_wait "w" 1']) {
    it(`${trigger.split(' ')[0] ?? ''} ran before the unpin: zeros there are out of LRU order, not "nothing purged"`, () => {
      const text = [...region(2), trigger, unpin(0), 'check m0 0 8192'].join('\n');
      const rs = modelRun(text);
      const d = divergence(text, alter(rs, 7, { ret: 0, rle: [[0, PAGE], [0xa5, PAGE]] }));
      assert.match(d.rule, /^purged out of LRU order: what is purged must be a prefix of the LRU/);
    });
  }

  it('with --shrinker batches, a contended PURGE_ALL_CACHES and a pressure that took one range of three: the shrinker count, judged with the same machine', () => {
    // PURGE_ALL_CACHES under contention took page 0 only (§3.7); the pin of page 1 finds it kept.
    // Pressure then took one range of [1, 2, 3]: any prefix admits it, whole batches do not.
    const text = [...region(4), unpin(0), unpin(1), 'purge_all r0', pin(1), unpin(1), unpin(2), unpin(3), 'pressure 64 1', pin(2), check(1)].join('\n');
    const rs = modelRun(text, { 7: 1, 12: 1 });
    assert.deepEqual([rs[6]?.ret, rs[7]?.ret, rs[12]?.ret, rs[13]?.rle], [2, 0, 0, [[0, PAGE]]]);
    const machine: JudgeOptions = { ...OPTS, contended: true, shrinker: 'batches' };
    assert.equal(judge(parseScript(text), rs, PROFILE, ENV, { ...machine, shrinker: 'any-prefix' }).kind, 'consistent');
    const d = divergence(text, rs, machine);
    assert.equal(d.line, 14);
    assert.match(d.rule, /^no admissible run of the shrinker purges this/);
  });
});
