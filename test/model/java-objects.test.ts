/**
 * The Java objects' own checks (§8.2, §8.3): closed objects, bad arguments, handles whose defining
 * op threw, and the per-world copies of SharedMemory and ByteBuffer state across an app_wait.
 */
import assert from 'node:assert/strict';
import { predict, type Prediction } from '../../harness/check/predict.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';

function predictions(profile: string, api: number, text: string): Prediction[] {
  return predict(parseScript(text), profileById(profile), { ...DEFAULT_ENVIRONMENT, apiLevel: api });
}

/** Drops the op name and line number: what the model answered. */
function answers(ps: readonly Prediction[]): unknown[] {
  return ps.map((p) => {
    const rest: Record<string, unknown> = { ...(p as unknown as Record<string, unknown>) };
    delete rest['i'];
    delete rest['op'];
    return rest;
  });
}

describe('Java objects: closed, invalid and empty handles (§8.2, §8.3)', () => {
  it('§8.3 map on a closed SharedMemory is IllegalStateException "SharedMemory is closed"; a prot outside RWX is IAE "Invalid prot value"', () => {
    const a = answers(predictions('ack-c', 33, 'sm_create s0 "a" 4096\nsm_close s0\nsm_map b0 s0 1 0 4096\nsm_create s1 "a" 4096\nsm_map b1 s1 8 0 4096\n'));
    assert.deepEqual(a[2], { exception: 'java.lang.IllegalStateException', message: 'SharedMemory is closed' });
    assert.deepEqual(a[4], { exception: 'java.lang.IllegalArgumentException', message: 'Invalid prot value' });
  });

  it('§8.2 API 27+: length() after close() is SharedMemory.getSize() on a closed object → IllegalStateException', () => {
    const a = answers(predictions('ack-c', 33, 'mf_create f0 "m" 100\nmf_length f0\nmf_close f0\nmf_length f0\n'));
    assert.deepEqual(a[1], { ret: 100 });
    assert.deepEqual(a[3], { exception: 'java.lang.IllegalStateException', message: 'SharedMemory is closed' });
  });

  it('§8.1 before API 27: length() is the mLength field and still answers after close()', () => {
    const a = answers(predictions('c-pre2019', 26, 'mf_create f0 "m" 100\nmf_close f0\nmf_length f0\n'));
    assert.deepEqual(a[2], { ret: 100 });
  });

  it('a handle whose create threw holds nothing: later ops on it are a state error naming the handle, not a Java answer', () => {
    const a = answers(predictions('ack-c', 33, 'sm_create s0 "z" 0\nsm_get_size s0\nmf_create f0 "z" 0\nmf_length f0\n'));
    assert.deepEqual(a[0], { exception: 'java.lang.IllegalArgumentException', message: 'Size must be greater than zero' });
    for (const [line, h] of [[1, 's0'], [3, 'f0']] as const) {
      const r = a[line] as { error?: string; message?: string };
      assert.equal(r.error, 'state');
      assert.match(r.message ?? '', new RegExp(`^${h} holds nothing`));
    }
  });

  it('a buffer whose map threw, and a map of a SharedMemory whose create threw, are state errors too', () => {
    const a = answers(predictions('ack-c', 33, 'sm_create s0 "a" 4096\nsm_map b0 s0 8 0 4096\nbuf_get b0 0 1\nbuf_put b0 0 1 1\nsm_unmap b0\nsm_create s1 "z" 0\nsm_map_rw b1 s1\n'));
    assert.deepEqual(a[1], { exception: 'java.lang.IllegalArgumentException', message: 'Invalid prot value' });
    for (const [line, h] of [[2, 'b0'], [3, 'b0'], [4, 'b0'], [6, 's1']] as const) {
      const r = a[line] as { error?: string; message?: string };
      assert.equal(r.error, 'state', `line ${line + 1}`);
      assert.match(r.message ?? '', new RegExp(`^${h} holds nothing`));
    }
  });

  it('a handle whose create threw still holds nothing in each world after an app_wait', () => {
    const a = answers(predictions('ack-c', 33, 'mf_create f1 "z" 0\nsm_create s1 "z" 0\nmf_create f0 "p" 4096\nmf_allow_purging f0 true\napp_wait "x" 10\nmf_length f1\nsm_get_size s1\n'));
    for (const line of [5, 6]) assert.equal((a[line] as { error?: string }).error, 'state', `line ${line + 1}`);
  });

  it('§8.3 map at a non-page-aligned offset: the kernel\'s EINVAL becomes ErrnoException with bionic\'s strerror text', () => {
    const a = answers(predictions('ack-c', 33, 'sm_create s0 "a" 8192\nsm_map b0 s0 1 100 100\n'));
    assert.deepEqual(a[1], { exception: 'android.system.ErrnoException', message: 'mmap failed: EINVAL (Invalid argument)' });
  });

  it('§8.3 SharedMemory and its mapped buffer keep working in every world after an app_wait (their state is copied per world)', () => {
    const ps = predictions('ack-c', 33, 'sm_create s0 "a" 4096\nsm_map_rw b0 s0\nbuf_put b0 0 4 6\nmf_create f0 "p" 4096\nmf_allow_purging f0 true\napp_wait "x" 10\nsm_get_size s0\nbuf_get b0 0 4\nsm_set_protect s0 1\nsm_map_rw b1 s0\n');
    const a = answers(ps);
    assert.deepEqual(a[6], { ret: 4096 });
    assert.deepEqual(a[7], { ret: 4, rle: [[6, 4]] }); // SharedMemory is never purged (§8.3)
    assert.deepEqual(a[8], { ret: 1 });
    assert.deepEqual(a[9], { exception: 'android.system.ErrnoException', message: 'mmap failed: EPERM (Operation not permitted)' });
  });
});
