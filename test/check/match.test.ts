/**
 * What the judge compares (harness/check/match.ts) and how it words a divergence: every
 * outcome and data field decides a match, informational fields never do (docs/op-scripts.md
 * "Results"), PURGE_ALL_CACHES may count other processes' pages (§3.7), an unmodelled op admits
 * anything. Written against the mutation report (issue 12 §7): each case fails when one
 * comparison of `sameResult`/`matches` is dropped or inverted.
 */
import assert from 'node:assert/strict';
import { formatDivergence, type Divergence } from '../../harness/check/judge.js';
import { describe as describeResult, matches, resultKey, sameResult } from '../../harness/check/match.js';
import { UNMODELLED } from '../../harness/model/answer.js';
import type { OpResult } from '../../harness/ops/result.js';

const EXCLUSIVE = { otherUsers: false };
const SHARED = { otherUsers: true };
const r = (fields: Omit<OpResult, 'i'> & { i?: number }): OpResult => ({ i: 3, ...fields });

/** Pairs that differ in exactly one compared field. */
const DIFFERENT: readonly [string, OpResult, OpResult][] = [
  ['proc', r({ op: 'get_size', ret: 0 }), r({ op: 'get_size', proc: 'p1', ret: 0 })],
  ['ret', r({ op: 'get_size', ret: 4096 }), r({ op: 'get_size', ret: 8192 })],
  ['errno', r({ op: 'pin', errno: 'EINVAL' }), r({ op: 'pin', errno: 'EFAULT' })],
  ['ret against errno', r({ op: 'pin', ret: 0 }), r({ op: 'pin', errno: 'EINVAL' })],
  ['signal', r({ op: 'check', signal: 'SIGBUS' }), r({ op: 'check', signal: 'SIGSEGV' })],
  ['exception', r({ op: 'mf_write', exception: 'java.io.IOException' }), r({ op: 'mf_write', exception: 'java.lang.IllegalArgumentException' })],
  ['error', r({ op: 'x', error: 'state', message: 'a' }), r({ op: 'x', error: 'parse', message: 'a' })],
  ['name', r({ op: 'get_name', ret: 0, name: 'abc', copied: 4 }), r({ op: 'get_name', ret: 0, name: 'abd', copied: 4 })],
  ['copied', r({ op: 'get_name', ret: 0, name: 'abc', copied: 4 }), r({ op: 'get_name', ret: 0, name: 'abc', copied: 256 })],
  ['mode', r({ op: 'fstat', ret: 0, mode: 'chr', size: 0 }), r({ op: 'fstat', ret: 0, mode: 'reg', size: 0 })],
  ['size', r({ op: 'fstat', ret: 0, mode: 'reg', size: 4096 }), r({ op: 'fstat', ret: 0, mode: 'reg', size: 8192 })],
  ['exception message', r({ op: 'mf_write', exception: 'java.io.IOException', message: 'a' }), r({ op: 'mf_write', exception: 'java.io.IOException', message: 'b' })],
  ['a byte of a check', r({ op: 'check', ret: 0, rle: [[165, 4096]] }), r({ op: 'check', ret: 0, rle: [[0, 4096]] })],
  ['a run length', r({ op: 'check', ret: 0, rle: [[165, 4096], [0, 4096]] }), r({ op: 'check', ret: 0, rle: [[165, 4095], [0, 4097]] })],
  ['the number of runs', r({ op: 'check', ret: 0, rle: [[165, 4096]] }), r({ op: 'check', ret: 0, rle: [[165, 4096], [0, 1]] })],
  ['a check with no bytes against one with bytes', r({ op: 'check', ret: 0 }), r({ op: 'check', ret: 0, rle: [[0, 1]] })],
  ['a read with data against a read without', r({ op: 'read', ret: 1, rle: [[7, 1]] }), r({ op: 'read', ret: 1 })],
  ['bytes on one side only', r({ op: 'mf_read', ret: 1, rle: [[7, 1]] }), r({ op: 'mf_read', ret: 1 })],
];

/** Pairs that differ only where the spec fixes nothing. */
const SAME: readonly [string, OpResult, OpResult][] = [
  ['p0 named or not', r({ op: 'get_size', proc: 'p0', ret: 0 }), r({ op: 'get_size', ret: 0 })],
  ['the inode number (GET_FILE_ID is informational, §3.8)', r({ op: 'file_id', ret: 0, id: 12 }), r({ op: 'file_id', ret: 0, id: 99 })],
  ['mincore residency', r({ op: 'mincore', ret: 0, resident: [[1, 2]] }), r({ op: 'mincore', ret: 0, resident: [[0, 2]] })],
  ['an empty check', r({ op: 'check', ret: 0 }), r({ op: 'check', ret: 0, rle: [] })],
  ['an equal exception message', r({ op: 'mf_write', exception: 'java.io.IOException', message: 'a' }), r({ op: 'mf_write', exception: 'java.io.IOException', message: 'a' })],
  ['equal runs', r({ op: 'check', ret: 0, rle: [[165, 4096], [0, 4096]] }), r({ op: 'check', ret: 0, rle: [[165, 4096], [0, 4096]] })],
];

describe('judge comparison (match.ts)', () => {
  for (const [what, a, b] of DIFFERENT) {
    it(`tells results apart by ${what}, both ways, and resultKey agrees`, () => {
      assert.equal(sameResult(a, b), false);
      assert.equal(sameResult(b, a), false);
      assert.equal(matches(a, b, EXCLUSIVE), false);
      assert.notEqual(resultKey(a), resultKey(b));
    });
  }
  for (const [what, a, b] of SAME) {
    it(`does not tell results apart by ${what}, and resultKey agrees`, () => {
      assert.equal(sameResult(a, b), true);
      assert.equal(matches(a, b, EXCLUSIVE), true);
      assert.equal(resultKey(a), resultKey(b));
    });
  }

  it('sameResult is resultKey equality (its documented contract), over results of every shape', () => {
    // Messages are given on both sides or on neither: a prediction that leaves the message open
    // is the one case where the key (of a prediction) is stricter, tested below.
    const corpus: OpResult[] = [];
    for (const op of ['check', 'read', 'get_size', 'mf_read']) {
      for (const outcome of [{ ret: 0 }, { ret: 1 }, { errno: 'EBADF' }, { signal: 'SIGBUS' }]) {
        for (const data of [{}, { rle: [] }, { rle: [[0, 1]] as [number, number][] }]) {
          for (const proc of [{}, { proc: 'p0' }, { proc: 'p1' }]) corpus.push(r({ op, ...outcome, ...data, ...proc }));
        }
      }
    }
    corpus.push(r({ op: 'x', exception: 'E', message: 'a' }), r({ op: 'x', exception: 'E', message: 'b' }), r({ op: 'x', error: 'state', message: 'a' }), r({ op: 'x', error: 'state', message: 'b' }));
    for (const a of corpus) {
      for (const b of corpus) assert.equal(sameResult(a, b), resultKey(a) === resultKey(b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  });

  it('an exception message the prediction leaves open is not compared (the key of a prediction keeps it)', () => {
    const open = r({ op: 'mf_write', exception: 'java.io.IOException' });
    assert.equal(sameResult(open, r({ op: 'mf_write', exception: 'java.io.IOException', message: 'anything' })), true);
    assert.equal(matches(open, r({ op: 'mf_write', exception: 'java.io.IOException', message: 'anything' }), EXCLUSIVE), true);
  });

  it('a message the prediction fixes is compared only beside an exception', () => {
    // The model predicts a message for Java exceptions (§8); an error's message is free text.
    const e = (message: string): OpResult => r({ op: 'x', error: 'state', message });
    assert.equal(sameResult(e('a'), e('b')), true);
  });

  it('an unmodelled op admits any result, an unmodelled observation proves nothing', () => {
    const unmodelled = r({ op: 'ioctl', error: UNMODELLED, message: 'why' });
    assert.equal(matches(unmodelled, r({ op: 'ioctl', errno: 'ENOTTY' }), EXCLUSIVE), true);
    assert.equal(matches(r({ op: 'ioctl', errno: 'ENOTTY' }), unmodelled, EXCLUSIVE), false);
  });

  describe('PURGE_ALL_CACHES with other users of ashmem (§3.7: the count is global)', () => {
    const predicted = r({ op: 'purge_all', ret: 5 });
    it('admits a larger count, the same count, never a smaller one', () => {
      assert.equal(matches(predicted, r({ op: 'purge_all', ret: 9 }), SHARED), true);
      assert.equal(matches(predicted, r({ op: 'purge_all', ret: 5 }), SHARED), true);
      assert.equal(matches(predicted, r({ op: 'purge_all', ret: 4 }), SHARED), false);
    });
    it('on an exclusive machine the count is exact', () => {
      assert.equal(matches(predicted, r({ op: 'purge_all', ret: 9 }), EXCLUSIVE), false);
    });
    it('still compares everything but the count', () => {
      assert.equal(matches(predicted, r({ op: 'purge_all', proc: 'p1', ret: 9 }), SHARED), false);
      assert.equal(matches(predicted, r({ op: 'purge_all', errno: 'EPERM' }), SHARED), false);
      assert.equal(matches(r({ op: 'purge_all', errno: 'EPERM' }), r({ op: 'purge_all', errno: 'EPERM' }), SHARED), true);
    });
    it('only PURGE_ALL_CACHES: other ops keep exact values', () => {
      assert.equal(matches(r({ op: 'get_size', ret: 5 }), r({ op: 'get_size', ret: 9 }), SHARED), false);
    });
  });

  it('describes a result in a short human form', () => {
    assert.equal(describeResult(r({ op: 'get_size', ret: 4096 })), 'ret 4096');
    assert.equal(describeResult(r({ op: 'pin', errno: 'EINVAL' })), 'EINVAL');
    assert.equal(describeResult(r({ op: 'check', signal: 'SIGBUS' })), 'SIGBUS');
    assert.equal(describeResult(r({ op: 'mf_write', exception: 'java.io.IOException', message: 'm' })), 'java.io.IOException: m');
    assert.equal(describeResult(r({ op: 'mf_write', exception: 'java.io.IOException' })), 'java.io.IOException: ');
    assert.equal(describeResult(r({ op: 'x', error: 'state', message: 'no fd' })), 'error state (no fd)');
    assert.equal(describeResult(r({ op: 'x', error: 'state' })), 'error state');
    assert.equal(describeResult(r({ op: 'check', ret: 0, rle: [[165, 2]] })), 'ret 0, bytes [[165,2]]');
    assert.equal(describeResult(r({ op: 'get_name', ret: 0, name: 'n' })), 'ret 0, name "n" copied ?');
    assert.equal(describeResult(r({ op: 'get_name', ret: 0, name: 'n', copied: 2 })), 'ret 0, name "n" copied 2');
    assert.equal(describeResult(r({ op: 'fstat', ret: 0, mode: 'chr' })), 'ret 0, chr size ?');
    assert.equal(describeResult(r({ op: 'fstat', ret: 0, mode: 'reg', size: 8 })), 'ret 0, reg size 8');
  });

  describe('formatDivergence', () => {
    const d = (expected: number): Divergence => ({
      line: 7,
      op: 'pin r0 0 4096',
      observed: r({ i: 7, op: 'pin', ret: 0 }),
      expected: Array.from({ length: expected }, (_, k) => r({ i: 7, op: 'pin', ret: k + 1 })),
      rule: 'PIN returns WAS_PURGED',
      section: '§4.3',
      state: { lruCount: 2, lru: ['1:2-3', '1:5'], areas: [{ area: 1, ranges: ['5', '2-3'] }, { area: 2, ranges: [] }] },
    });
    it('shows the observation, the admissible results, the rule and the model state', () => {
      assert.equal(formatDivergence(d(2)), [
        'diverged at line 7: pin r0 0 4096',
        '  observed: {"i":7,"op":"pin","ret":0}',
        '  expected: {"i":7,"op":"pin","ret":1}',
        '        or: {"i":7,"op":"pin","ret":2}',
        '  rule: PIN returns WAS_PURGED (§4.3)',
        '  model: lru_count 2; LRU oldest first: 1:2-3 1:5',
        '         area 1 unpinned (descending): 5, 2-3',
        '         area 2 unpinned (descending): (none)',
      ].join('\n'));
    });
    it('lists four admissible results and counts the rest; an empty LRU says so', () => {
      const text = formatDivergence({ ...d(6), state: { lruCount: 0, lru: [], areas: [] } }).split('\n');
      assert.equal(text.filter((l) => / or: /.test(l)).length, 3);
      assert.ok(text.includes('      (and 2 more admissible results)'), text.join('\n'));
      assert.ok(text.includes('  model: lru_count 0; LRU oldest first: (empty)'), text.join('\n'));
      assert.ok(!formatDivergence(d(4)).includes('more admissible'));
    });
  });
});
