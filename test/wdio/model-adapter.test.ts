/**
 * The specs' model adapter (specs/support/model-adapter.ts): the model's Java layer says what
 * ashmem-semantics.md §8 says, and the comparison catches what it must.
 */
import assert from 'node:assert/strict';
import { describeDivergences, diverge, predictJava, unpredicted } from '../../specs/support/model-adapter.js';
import { predictAroundWait, stepsAroundWait } from '../../specs/support/scenario.js';

const BEFORE = 'mf_create f0 "p" 4096\nmf_allow_purging f0 true\nmf_write f0 4096 0 0 4096 0xA5';
const AFTER = 'mf_read f0 8 0 0 8\nmf_read f0 8 0 0 8\nmf_allow_purging f0 false\nmf_read f0 8 0 0 8';

describe('model adapter: the model\'s Java layer (§8)', () => {
  it('API 27+: the first read after a purge throws "MemoryFile has been purged", the next reads zeros (§8.2)', () => {
    const [, after] = predictJava([{ script: BEFORE }, { purge: 'all' }, { script: AFTER }], { sdk: 30, useMemfd: false });
    assert.deepEqual(after, [
      { i: 1, op: 'mf_read', exception: 'java.io.IOException', message: 'MemoryFile has been purged' },
      { i: 2, op: 'mf_read', ret: 8, rle: [[0, 8]] },
      { i: 3, op: 'mf_allow_purging', ret: 1 },
      { i: 4, op: 'mf_read', ret: 8, rle: [[0, 8]] },
    ]);
  });

  it('before API 27: "ashmem region was purged", and the region is unpinned again so a second purge hits again (§8.1)', () => {
    const [, after, again] = predictJava([
      { script: BEFORE }, { purge: 'all' }, { script: 'mf_read f0 8 0 0 8\nmf_read f0 8 0 0 8' }, { purge: 'all' }, { script: 'mf_read f0 8 0 0 8' },
    ], { sdk: 26, useMemfd: false });
    assert.deepEqual(after, [
      { i: 1, op: 'mf_read', exception: 'java.io.IOException', message: 'ashmem region was purged' },
      { i: 2, op: 'mf_read', ret: 8, rle: [[0, 8]] },
    ]);
    assert.deepEqual(again, [{ i: 1, op: 'mf_read', exception: 'java.io.IOException', message: 'ashmem region was purged' }]);
  });

  it('from API 27 the purge exception leaves the region pinned: a purge right after it finds nothing (§8.2)', () => {
    const [, , next] = predictJava([
      { script: BEFORE }, { purge: 'all' }, { script: 'mf_read f0 8 0 0 8' }, { purge: 'all' }, { script: 'mf_read f0 8 0 0 8' },
    ], { sdk: 27, useMemfd: false });
    assert.deepEqual(next, [{ i: 1, op: 'mf_read', ret: 8, rle: [[0, 8]] }]);
  });

  it('allowPurging(false) after a purge silently discards it; memfd mode never purges', () => {
    const [, a] = predictJava([{ script: BEFORE }, { purge: 'all' }, { script: 'mf_allow_purging f0 false\nmf_read f0 2 0 0 2' }], { sdk: 30, useMemfd: false });
    assert.deepEqual(a, [{ i: 1, op: 'mf_allow_purging', ret: 1 }, { i: 2, op: 'mf_read', ret: 2, rle: [[0, 2]] }]);
    const [, m] = predictJava([{ script: BEFORE }, { purge: 'all' }, { script: 'mf_read f0 2 0 0 2' }], { sdk: 30, useMemfd: true });
    assert.deepEqual(m, [{ i: 1, op: 'mf_read', ret: 2, rle: [[0xa5, 2]] }]);
  });

  it('use after close, bad sizes and out-of-bounds by level', () => {
    const s = 'mf_create f0 "c" 16\nmf_close f0\nmf_read f0 4 0 0 4\nmf_write f0 4 0 0 4 1\nmf_create f1 "z" 0\nmf_create f2 "o" 16\nmf_read f2 4 0 0 8';
    const [modern] = predictJava([{ script: s }], { sdk: 30, useMemfd: false });
    assert.deepEqual(modern?.slice(2, 5), [
      { i: 3, op: 'mf_read', exception: 'java.io.IOException', message: 'MemoryFile has been deactivated' },
      { i: 4, op: 'mf_write', exception: 'java.io.IOException', message: 'MemoryFile has been deactivated' },
      { i: 5, op: 'mf_create', exception: 'java.lang.IllegalArgumentException', message: 'Size must be greater than zero' },
    ]);
    const [old] = predictJava([{ script: s }], { sdk: 26, useMemfd: false });
    assert.deepEqual(old?.slice(2, 4), [
      { i: 3, op: 'mf_read', exception: 'java.io.IOException', message: "Can't read from deactivated memory file." },
      { i: 4, op: 'mf_write', exception: 'java.io.IOException', message: "Can't write to deactivated memory file." },
    ]);
    // §8.1: SET_SIZE(0) succeeds, mmap of 0 bytes fails; FW-old checks bounds itself.
    assert.deepEqual(old?.[4], { i: 5, op: 'mf_create', exception: 'java.io.IOException', message: 'mmap failed' });
    assert.deepEqual(old?.[6], { i: 7, op: 'mf_read', exception: 'java.lang.IndexOutOfBoundsException' });
    assert.deepEqual(unpredicted(old ?? []), []);
  });

  it('SharedMemory: setProtect only removes bits (CTS testSetProtAddProt), unsupported below 27', () => {
    const s = 'sm_create s0 "p" 4096\nsm_set_protect s0 1\nsm_set_protect s0 1\nsm_set_protect s0 3\nsm_set_protect s0 0\nsm_set_protect s0 1\nsm_map_rw b0 s0';
    const [p] = predictJava([{ script: s }], { sdk: 28, useMemfd: false });
    assert.deepEqual(p?.map((x) => ('ret' in x ? x.ret : undefined) ?? ('exception' in x ? x.exception : undefined)), [0, 1, 1, 0, 1, 0, 'android.system.ErrnoException']);
    const [old] = predictJava([{ script: s }], { sdk: 26, useMemfd: false });
    assert.ok(old?.every((x) => 'error' in x && x.error === 'unsupported'));
  });
});

describe('model adapter: comparison', () => {
  const predicted = predictJava([{ script: 'mf_create f0 "x" 8\nmf_read f0 4 0 0 4\nmf_read f0 4 0 0 40' }], { sdk: 30, useMemfd: false })[0] ?? [];

  it('passes equal results', () => {
    assert.deepEqual(diverge(predicted, [
      { i: 1, op: 'mf_create', ret: 0 },
      { i: 2, op: 'mf_read', ret: 4, rle: [[0, 4]] },
      { i: 3, op: 'mf_read', exception: 'java.lang.IndexOutOfBoundsException' },
    ]), []);
  });

  it('reports a wrong outcome, a wrong value, and a missing line', () => {
    const ds = diverge(predicted, [{ i: 1, op: 'mf_create', exception: 'java.io.IOException' }, { i: 2, op: 'mf_read', ret: 4, rle: [[1, 4]] }]);
    assert.deepEqual(ds.map((d) => d.why), ['3 ops predicted, 2 results observed', 'expected ret, observed exception', 'rle: expected [[0,4]], observed [[1,4]]', 'no result']);
    assert.match(describeDivergences(ds), /line 2: rle/);
  });

  it('splits a script at app_wait keeping its line numbers', () => {
    const script = 'mf_create f0 "w" 8\nmf_allow_purging f0 true\napp_wait "go" 1000\nmf_read f0 8 0 0 8';
    const { steps, waitLine } = stepsAroundWait(script, 'all');
    assert.equal(waitLine, 3);
    assert.deepEqual(steps[1], { purge: 'all' });
    assert.deepEqual(predictAroundWait(script, 'all', { sdk: 30, useMemfd: false }).map((p) => p?.i), [1, 2, 3, 4]);
    assert.deepEqual(predictAroundWait(script, 'all', { sdk: 30, useMemfd: false })[3], { i: 4, op: 'mf_read', exception: 'java.io.IOException', message: 'MemoryFile has been purged' });
  });
});
