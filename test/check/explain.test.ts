/**
 * Explanations name the field that differs and the rule that broke (issue 11 §5): real results
 * (shared/real-driver-samples) and model predictions, altered one way each, must be explained
 * by the right rule and spec section — never by a shrinker-count text where no shrinker is
 * involved, never as "expected ret 5000, observed ret 5000".
 */
import assert from 'node:assert/strict';
import { firstDifference } from '../../harness/check/explain.js';
import { judge, type Divergence } from '../../harness/check/judge.js';
import { QUIET } from '../../harness/check/worlds.js';
import { Device } from '../../harness/model/device.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import type { Op, PinOp } from '../../harness/ops/ast.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { ByteRun, OpResult } from '../../harness/ops/result.js';
import { sampleResults, sampleScript } from '../support/samples.js';

const ENV = { ...DEFAULT_ENVIRONMENT, kernelSeeksWithoutFmode: true };
const GUEST = { ...QUIET, otherUsers: false };
const PAGE = 4096;

const at = (rs: OpResult[], i: number): OpResult => rs.find((r) => r.i === i) as OpResult;

/** One byte per page of a check's runs (the samples fill and purge whole pages). */
function pages(rle: readonly ByteRun[]): number[] {
  return rle.flatMap(([b, n]) => Array<number>(n / PAGE).fill(b));
}
function runs(perPage: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const b of perPage) {
    const last = out[out.length - 1];
    if (last !== undefined && last[0] === b) last[1] += PAGE;
    else out.push([b, PAGE]);
  }
  return out;
}

/** The divergence of altered results, which must exist. */
function divergence(script: string, rs: readonly OpResult[], profile: string, opts = GUEST): Divergence {
  const v = judge(parseScript(script), rs, profileById(profile), ENV, opts);
  assert.equal(v.kind, 'diverged', `the alteration must be caught: ${JSON.stringify(v).slice(0, 300)}`);
  return (v as { divergence: Divergence }).divergence;
}

/** What the model predicts in the world that took `choice` at every purge trigger. */
function modelRun(script: string, profile: string, choice: (op: Op, d: Device) => number | undefined): OpResult[] {
  const d = Device.create(profileById(profile).features, ENV);
  return parseScript(script).ops.map((op) => {
    const r = d.apply(op, d.choices(op) === undefined ? undefined : choice(op, d));
    return r;
  });
}

describe('divergence explanations (issue 11 §5)', () => {
  describe('real results, altered', () => {
    it('a range PURGE_ALL_CACHES purged reads back its data: "purged page not zeroed" (§3.7, §5.1), no shrinker', () => {
      const rs = sampleResults('c-pre2019', '06-purge-all-basic').map((r) => ({ ...r }));
      Object.assign(at(rs, 26), { rle: [[165, 65536]] }); // nothing read back as zeros
      const d = divergence(sampleScript('06-purge-all-basic'), rs, 'c-pre2019');
      assert.equal(d.line, 26);
      assert.match(d.rule, /^purged page not zeroed: PURGE_ALL_CACHES at line 24 purged page 2, which must then read as zeros: the mapping holds different bytes, first difference at byte 8192 of the window \(file offset 8192\): expected 0x00, observed 0xA5$/);
      assert.equal(d.section, '§3.7, §5.1');
      assert.doesNotMatch(d.rule, /shrinker/);
    });

    it('half of a purged two-page range reads back its data: "part of a range was purged" (§5.2, §5.3)', () => {
      const rs = sampleResults('c-pre2019', '06-purge-all-basic').map((r) => ({ ...r }));
      const check = at(rs, 26);
      const p = pages(check.rle ?? []);
      p[9] = 165; // range [8,9] was purged whole; say page 9 kept its data
      Object.assign(check, { rle: runs(p) });
      const d = divergence(sampleScript('06-purge-all-basic'), rs, 'c-pre2019');
      assert.match(d.rule, /^part of a range was purged: purges take whole ranges only: .*first difference at byte 36864 of the window/);
      assert.equal(d.section, '§5.2, §5.3');
    });

    it('half of a range zeroed where nothing was purged: "part of a range was purged"', () => {
      const rs = sampleResults('c-pre2019', '07-merge-purged-flag').map((r) => ({ ...r }));
      Object.assign(at(rs, 13), { rle: [[0, 8192], [90, 24576]] }); // after unpin [0,3] and PURGE_ALL_CACHES, only pages 0-1 zero
      const d = divergence(sampleScript('07-merge-purged-flag'), rs, 'c-pre2019');
      assert.match(d.rule, /^part of a range was purged/);
      assert.equal(d.section, '§5.2, §5.3');
    });

    describe('31-lru-oldest-128: one drop_caches purged the 128 oldest of 300 single-page ranges', () => {
      const script = sampleScript('31-lru-oldest-128');
      const unpins = parseScript(script).ops.filter((op): op is PinOp => op.kind === 'unpin');
      const checkLine = { r0: 318, r1: 319 };
      /** Results where the page the `k`-th unpin released (0 = oldest) reads back 0xAA/0xBB after the first drop. */
      const keptPage = (k: number): { rs: OpResult[]; page: number; line: number } => {
        const u = unpins[k] as PinOp;
        const rs = sampleResults('c-pre2019', '31-lru-oldest-128').map((r) => ({ ...r }));
        const line = checkLine[u.r as 'r0' | 'r1'];
        const check = at(rs, line);
        const p = pages(check.rle ?? []);
        const page = u.offset / PAGE;
        assert.equal(p[page], 0, 'the sample purged it');
        p[page] = u.r === 'r0' ? 0xaa : 0xbb;
        Object.assign(check, { rle: runs(p) });
        return { rs, page, line };
      };

      it('the oldest range of Y kept its data while newer ones were purged: "purged out of LRU order" (§4.5, §5.3), not a shrinker count', () => {
        const k = unpins.findIndex((u) => u.r === 'r1'); // Y's oldest: X's check (line 318) comes first and fixes the purge
        const { rs, page, line } = keptPage(k);
        for (const shrinker of ['any-prefix', 'batches'] as const) {
          const d = divergence(script, rs, 'c-pre2019', { ...GUEST, shrinker });
          assert.equal(d.line, line);
          assert.match(d.rule, new RegExp(`^purged out of LRU order: page ${page} kept its data though drop_caches at line 317 purged newer ranges \\(`), shrinker);
          assert.equal(d.section, '§4.5, §5.3');
        }
      });

      it('the 128th oldest range kept: any prefix explains it, so with --shrinker batches it is the shrinker arithmetic (§5.2, §5.3, §12)', () => {
        const { rs } = keptPage(127);
        assert.equal(judge(parseScript(script), rs, profileById('c-pre2019'), ENV, GUEST).kind, 'consistent');
        const d = divergence(script, rs, 'c-pre2019', { ...GUEST, shrinker: 'batches' });
        assert.match(d.rule, /^no admissible run of the shrinker purges this: its batches of 128/);
        assert.equal(d.section, '§5.2, §5.3, §12');
      });
    });
  });

  describe('model predictions, altered', () => {
    const DROP = 'open r0\nset_size r0 12288\nmmap m0 r0 12288 3 shared 0\nfill m0 0 12288 0x5A\nunpin r0 0 4096\nunpin r0 8192 4096\ndrop_caches\ncheck m0 8192 4096\ncheck m0 0 4096\n';

    it('after drop_caches, the older range survives while the newer one was purged: "purged out of LRU order"', () => {
      const rs = modelRun(DROP, 'c-final', (_op, d) => d.kernel.lru.length); // the world where both were purged
      assert.deepEqual(at(rs, 9).rle, [[0, 4096]]);
      Object.assign(at(rs, 9), { rle: [[0x5a, 4096]] });
      const d = divergence(DROP, rs, 'c-final');
      assert.equal(d.rule, 'purged out of LRU order: page 0 kept its data though drop_caches at line 7 purged newer ranges (1:2); a purge takes the oldest unpinned first: the mapping holds different bytes, first difference at byte 0 of the window (file offset 0): expected 0x00, observed 0x5A');
      assert.equal(d.section, '§4.5, §5.3');
    });

    it('a middle range kept while drop_caches purged the ranges around it: the newer ones alone are named, a multi-page one as first-last (§4.5, §5.3)', () => {
      // Three unpinned ranges, oldest first: page 0, page 2, pages 4-5. The newest read as zeros, so
      // the drop purged all three; the middle one then reads back its data.
      const script = 'open r0\nset_size r0 24576\nmmap m0 r0 24576 3 shared 0\nfill m0 0 24576 0x5A\nunpin r0 0 4096\nunpin r0 8192 4096\nunpin r0 16384 8192\ndrop_caches\ncheck m0 16384 8192\ncheck m0 8192 4096\n';
      const rs = modelRun(script, 'c-final', (_op, d) => d.kernel.lru.length);
      assert.deepEqual(at(rs, 10).rle, [[0, 4096]]);
      Object.assign(at(rs, 10), { rle: [[0x5a, 4096]] });
      const d = divergence(script, rs, 'c-final');
      assert.equal(d.line, 10);
      assert.match(d.rule, /^purged out of LRU order: page 2 kept its data though drop_caches at line 8 purged newer ranges \(1:4-5\); a purge takes the oldest unpinned first/);
    });

    it('explains against the admissible world closest to the observation: the purged one when half the page reads zeros', () => {
      // After drop_caches the range may be purged (zeros) or not (0x5A); the observation is half
      // zeros, half 0x77: 2048 bytes from the purged world, 4096 from the other.
      const script = 'open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared 0\nfill m0 0 8192 0x5A\nunpin r0 0 4096\ndrop_caches\ncheck m0 0 4096\n';
      const rs = modelRun(script, 'c-final', () => 0);
      Object.assign(at(rs, 7), { rle: [[0, 2048], [0x77, 2048]] });
      const d = divergence(script, rs, 'c-final');
      assert.equal(d.rule, 'purged page not zeroed: page 0 was purged by drop_caches at line 6 (later results showed it) and read back its data: the mapping holds different bytes, first difference at byte 2048 of the window (file offset 2048): expected 0x00, observed 0x77');
      assert.deepEqual(d.state.areas, [{ area: 1, ranges: ['0 purged'] }]);
      assert.deepEqual(d.expected.map((e) => e.rle), [[[0x5a, 4096]], [[0, 4096]]]);
    });

    it('a purged range seen as zeros, then read back with its data: "purged page not zeroed" (§5.1)', () => {
      const script = `${DROP}check m0 0 4096\n`;
      const rs = modelRun(script, 'c-final', () => 1); // only the oldest range purged
      assert.deepEqual(at(rs, 9).rle, [[0, 4096]]);
      Object.assign(at(rs, 10), { rle: [[0x5a, 4096]] });
      const d = divergence(script, rs, 'c-final');
      assert.equal(d.line, 10);
      assert.match(d.rule, /^purged page not zeroed: page 0 was purged by drop_caches at line 7 \(later results showed it\) and read back its data/);
      assert.equal(d.section, '§5.1');
    });

    it('the purge is traced in the world that was judged, variants included: an mmap refused with ENOMEM (§3.5) leaves no older range', () => {
      // A 1 GiB region above the default commit limit: its mmap may succeed or fail (two worlds).
      const script = 'open r0\nset_size r0 1073741824\nmmap m0 r0 1073741824 3 shared 0\nunpin r0 0 4096\nopen r1\nset_size r1 8192\nmmap m1 r1 8192 3 shared 0\nfill m1 0 8192 0x5A\nunpin r1 0 4096\ndrop_caches\ncheck m1 0 4096\ncheck m1 0 4096\n';
      const rs: OpResult[] = [
        { i: 1, op: 'open', ret: 0 }, { i: 2, op: 'set_size', ret: 0 }, { i: 3, op: 'mmap', errno: 'ENOMEM' }, { i: 4, op: 'unpin', errno: 'EINVAL' },
        { i: 5, op: 'open', ret: 0 }, { i: 6, op: 'set_size', ret: 0 }, { i: 7, op: 'mmap', ret: 0 }, { i: 8, op: 'fill', ret: 0 }, { i: 9, op: 'unpin', ret: 0 },
        { i: 10, op: 'drop_caches', ret: 0 }, { i: 11, op: 'check', ret: 0, rle: [[0, 4096]] }, { i: 12, op: 'check', ret: 0, rle: [[0x5a, 4096]] },
      ];
      const d = divergence(script, rs, 'c-final');
      assert.equal(d.line, 12);
      assert.match(d.rule, /^purged page not zeroed: page 0 was purged by drop_caches at line 10 \(later results showed it\)/);
    });

    it('zeros in an unpinned range when nothing could purge: "purged though nothing purged" (§5.3), not LRU order', () => {
      const script = 'open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared 0\nfill m0 0 8192 0x5A\nunpin r0 0 4096\ncheck m0 0 8192\n';
      const rs = modelRun(script, 'c-final', () => 0);
      Object.assign(at(rs, 6), { rle: [[0, 4096], [0x5a, 4096]] });
      const d = divergence(script, rs, 'c-final');
      assert.match(d.rule, /^an unpinned range was purged though nothing purged \(no drop_caches, memory pressure or PURGE_ALL_CACHES ran\)/);
      assert.equal(d.section, '§5.3');
    });

    const READ = 'open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared 0\nfill m0 0 8192 0x41\nlseek r0 100 set\nread r0 5000\n';

    it('a read whose bytes differ says where, not "expected ret 5000, observed ret 5000"', () => {
      const rs = modelRun(READ, 'c-final', () => 0);
      assert.deepEqual(at(rs, 6), { i: 6, op: 'read', ret: 5000, rle: [[0x41, 5000]] });
      Object.assign(at(rs, 6), { rle: [[0x41, 3996], [0, 1004]] }); // page 1 of the file reads as zeros
      const d = divergence(READ, rs, 'c-final');
      assert.equal(d.rule, 'a pinned page was purged (read back as zeros): read returned different bytes, first difference at byte 3996 of the read (file offset 4096): expected 0x41, observed 0x00');
      assert.equal(d.section, '§5.1, §4.3');
      Object.assign(at(rs, 6), { rle: [[0x41, 10], [0x42, 4990]] });
      const other = divergence(READ, rs, 'c-final');
      assert.match(other.rule, /^data differs from what was stored \(not a purge: those pages were never purged\): read returned different bytes, first difference at byte 10 of the read \(file offset 110\): expected 0x41, observed 0x42$/);
      assert.doesNotMatch(other.rule, /ret 5000/);
    });

    it('a short read names both fields that differ, each value cut to 80 characters', () => {
      const rs = modelRun(READ, 'c-final', () => 0);
      Object.assign(at(rs, 6), { ret: 4000, rle: [[0x41, 3000], ...Array.from({ length: 50 }, (_, k): [number, number] => [k % 2, 20])] });
      const d = divergence(READ, rs, 'c-final');
      assert.match(d.rule, /^ret differs \(expected 5000, observed 4000\); rle differs \(expected \[\[65,5000\]\], observed \[\[65,3000\],\[0,20\],.{50,}\.\.\.\)$/);
      assert.ok(d.rule.length < 250, d.rule);
      assert.equal(d.section, '§3.9');
    });

    it('a field other than the outcome differs: the rule names it (GET_NAME\'s name)', () => {
      const script = 'open r0\nset_name r0 "abc"\nget_name r0\n';
      const rs = modelRun(script, 'c-final', () => 0);
      Object.assign(at(rs, 3), { name: 'abd' });
      const d = divergence(script, rs, 'c-final');
      assert.equal(d.rule, 'name differs (expected "abc", observed "abd")');
      assert.equal(d.section, '§3.2');
    });
  });

  it('firstDifference walks runs, not bytes: offset and both bytes, or the shorter side', () => {
    assert.deepEqual(firstDifference([[1, 5000], [2, 5]], [[1, 5000], [3, 5]]), { offset: 5000, expected: 2, observed: 3 });
    assert.deepEqual(firstDifference([[1, 10]], [[1, 4], [1, 6]]), undefined);
    assert.deepEqual(firstDifference([[1, 10]], [[1, 4]]), { offset: 4, expected: 1 });
  });
});
