/**
 * The user-space layers on the kernel model (§7, §8): MemoryFile before and from API 27,
 * SharedMemory, libcutils' memfd mode. Each expectation cites the spec section it comes from.
 */
import assert from 'node:assert/strict';
import { predict, type Prediction } from '../../harness/check/predict.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

function run(profile: string, api: number, text: string, purge: 'none' | 'all' = 'none'): OpResult[] {
  // app_wait admits any purge; pick the world where the harness purged nothing or everything.
  // With one app_wait there are two worlds; predict lists the unpurged one first.
  const out = predict(parseScript(text), profileById(profile), { ...DEFAULT_ENVIRONMENT, apiLevel: api });
  const world = purge === 'all' ? 1 : 0;
  return out.map((p: Prediction) => ('oneOf' in p ? ((p.oneOf[Math.min(world, p.oneOf.length - 1)] ?? p.oneOf[0]) as OpResult) : p));
}

const at = (rs: readonly OpResult[], line: number): OpResult => rs.find((r) => r.i === line) as OpResult;

const PURGE_SCENARIO = `mf_create f0 "p" 8192
mf_write f0 8192 0 0 8192 0x42
mf_allow_purging f0 true
app_wait "purge" 30000
mf_read f0 16 0 0 16
mf_read f0 16 0 0 16
mf_is_purging_allowed f0
`;

describe('Java layer on the kernel model (§7, §8)', () => {
  it('§8.2 API 27+: after a purge the first access throws "MemoryFile has been purged", the next reads zeros', () => {
    const rs = run('ack-c', 33, PURGE_SCENARIO, 'all');
    assert.deepEqual(at(rs, 5), { i: 5, op: 'mf_read', exception: 'java.io.IOException', message: 'MemoryFile has been purged' });
    assert.deepEqual(at(rs, 6), { i: 6, op: 'mf_read', ret: 16, rle: [[0, 16]] });
    assert.equal(at(rs, 7).ret, 1);
  });

  it('§8.1 API 26: the first access throws "ashmem region was purged" (and re-unpins), the next reads zeros', () => {
    const rs = run('c-pre2019', 26, PURGE_SCENARIO, 'all');
    assert.deepEqual(at(rs, 5), { i: 5, op: 'mf_read', exception: 'java.io.IOException', message: 'ashmem region was purged' });
    assert.deepEqual(at(rs, 6), { i: 6, op: 'mf_read', ret: 16, rle: [[0, 16]] });
  });

  it('§8.1/§8.2 without a purge the data reads back; app_wait admits both worlds', () => {
    const out = predict(parseScript(PURGE_SCENARIO), profileById('ack-c'), DEFAULT_ENVIRONMENT);
    const line5 = out[4] as Prediction;
    assert.ok('oneOf' in line5 && line5.oneOf.length === 2);
    assert.deepEqual(run('ack-c', 33, PURGE_SCENARIO, 'none')[4], { i: 5, op: 'mf_read', ret: 16, rle: [[0x42, 16]] });
  });

  it('§8.2 "thrown without unpinning": after the purge exception the region is pinned until the next access ends', () => {
    const text = `${PURGE_SCENARIO}mf_allow_purging f0 false\n`;
    const rs = run('ack-c', 33, text, 'all');
    assert.equal(at(rs, 8).ret, 1); // allowPurging(false) returns the old value
  });

  it('§7.1 libcutils memfd mode: pins always report NOT_PURGED, so "purged" is never reported', () => {
    const rs = run('libcutils-memfd', 33, PURGE_SCENARIO, 'all');
    assert.deepEqual(at(rs, 5), { i: 5, op: 'mf_read', ret: 16, rle: [[0x42, 16]] });
  });

  it('§8.2 bad lengths: IllegalArgumentException from 27, IOException ("mmap failed") before (§8.1)', () => {
    assert.deepEqual(at(run('ack-c', 33, 'mf_create f0 "z" 0\n'), 1), { i: 1, op: 'mf_create', exception: 'java.lang.IllegalArgumentException', message: 'Size must be greater than zero' });
    assert.deepEqual(at(run('c-pre2019', 26, 'mf_create f0 "z" 0\n'), 1), { i: 1, op: 'mf_create', exception: 'java.io.IOException', message: 'mmap failed' });
    assert.equal(at(run('c-pre2019', 26, 'mf_create f0 "z" -5\n'), 1).exception, 'java.io.IOException');
  });

  it('§8.1/§8.2 bounds: IndexOutOfBoundsException before 27; nio exceptions from 27', () => {
    const text = 'mf_create f0 "b" 100\nmf_read f0 10 95 0 10\nmf_read f0 10 0 5 10\nmf_write f0 10 0 -1 1 1\nmf_write f0 10 0 95 10 1\n';
    const old = run('c-pre2019', 26, text);
    for (const l of [2, 3, 4, 5]) assert.equal(at(old, l).exception, 'java.lang.IndexOutOfBoundsException', `line ${l}`);
    const now = run('ack-c', 33, text);
    assert.equal(at(now, 2).exception, 'java.nio.BufferUnderflowException');
    assert.equal(at(now, 3).exception, 'java.lang.IndexOutOfBoundsException');
    assert.equal(at(now, 4).exception, 'java.lang.IllegalArgumentException');
    assert.equal(at(now, 5).exception, 'java.nio.BufferOverflowException');
  });

  it('§8.1/§8.2 use after close: IOException with each level\'s message; allowPurging after close fails (EBADF)', () => {
    const text = 'mf_create f0 "c" 4096\nmf_close f0\nmf_read f0 4 0 0 4\nmf_write f0 4 0 0 4 1\nmf_allow_purging f0 true\n';
    const old = run('c-pre2019', 26, text);
    assert.equal(at(old, 3).message, "Can't read from deactivated memory file.");
    assert.equal(at(old, 4).message, "Can't write to deactivated memory file.");
    assert.deepEqual(at(old, 5), { i: 5, op: 'mf_allow_purging', exception: 'java.io.IOException' });
    assert.equal(at(run('ack-c', 33, text), 3).message, 'MemoryFile has been deactivated');
  });

  it('§8.3 setProtect only removes bits (CTS testSetProtAddProt: true, true, false, true, false)', () => {
    const rs = run('ack-c', 33, 'sm_create s0 "p" 4096\nsm_set_protect s0 1\nsm_set_protect s0 1\nsm_set_protect s0 3\nsm_set_protect s0 0\nsm_set_protect s0 1\nsm_set_protect s0 8\n');
    assert.deepEqual([2, 3, 4, 5, 6].map((l) => at(rs, l).ret), [1, 1, 0, 1, 0]);
    assert.deepEqual(at(rs, 7), { i: 7, op: 'sm_set_protect', exception: 'java.lang.IllegalArgumentException', message: 'Invalid prot value' });
  });

  it('§8.3 map: argument checks with their messages, EPERM beyond the mask as ErrnoException, read-only buffers', () => {
    const rs = run('ack-c', 33, 'sm_create s0 "m" 8192\nsm_map b0 s0 1 -1 10\nsm_map b1 s0 1 0 0\nsm_map b2 s0 1 4096 8192\nsm_set_protect s0 1\nsm_map_rw b3 s0\nsm_map_ro b4 s0\nbuf_put b4 0 1 9\nbuf_get b4 8190 2\nbuf_get b4 8191 2\n');
    assert.equal(at(rs, 2).message, 'Offset must be >= 0');
    assert.equal(at(rs, 3).message, 'Length must be > 0');
    assert.equal(at(rs, 4).message, 'offset + length must not exceed getSize()');
    assert.deepEqual(at(rs, 6), { i: 6, op: 'sm_map_rw', exception: 'android.system.ErrnoException', message: 'mmap failed: EPERM (Operation not permitted)' });
    assert.equal(at(rs, 8).exception, 'java.nio.ReadOnlyBufferException');
    assert.deepEqual(at(rs, 9), { i: 9, op: 'buf_get', ret: 2, rle: [[0, 2]] });
    assert.equal(at(rs, 10).exception, 'java.lang.IndexOutOfBoundsException');
  });

  it('§8.3 close keeps mappings valid and shared (CTS testUseAfterClose); getSize after close is IllegalStateException', () => {
    const rs = run('ack-c', 33, 'sm_create s0 "u" 4096\nsm_map_rw b0 s0\nsm_map_rw b1 s0\nsm_close s0\nbuf_put b0 0 4 5\nbuf_get b1 0 4\nsm_get_size s0\nsm_unmap b0\nbuf_get b0 0 1\n');
    assert.deepEqual(at(rs, 6), { i: 6, op: 'buf_get', ret: 4, rle: [[5, 4]] });
    assert.deepEqual(at(rs, 7), { i: 7, op: 'sm_get_size', exception: 'java.lang.IllegalStateException', message: 'SharedMemory is closed' });
    assert.equal(at(rs, 9).exception, 'java.lang.IllegalStateException'); // use after unmap (CTS testUseAfterUnmap)
  });

  it('§8.3 SharedMemory needs API 27: unsupported on 26, as the fixture APK answers', () => {
    assert.equal(at(run('c-pre2019', 26, 'sm_create s0 "x" 10\n'), 1).error, 'unsupported');
  });
});
