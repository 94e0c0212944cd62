/**
 * libcutils when the kernel refuses it (§7.1, §8): under qemu-user every ashmem ioctl is ENOSYS
 * before it reaches the kernel (the `ioctlEmulation` environment), which is the one way a
 * device-mode `ashmem_create_region` fails; memfd mode makes no ioctl at all (memfd_create,
 * ftruncate, F_GET_SEALS/F_ADD_SEALS, fstat), so it keeps working there.
 */
import assert from 'node:assert/strict';
import { predict, type Prediction } from '../../harness/check/predict.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

/** The single predicted result of each line, under qemu-user's ioctl emulation. */
function underQemu(profile: string, api: number, text: string): OpResult[] {
  const env = { ...DEFAULT_ENVIRONMENT, apiLevel: api, ioctlEmulation: 'qemu-user' as const };
  return predict(parseScript(text), profileById(profile), env).map((p: Prediction) => {
    assert.ok(!('oneOf' in p), `line ${p.i} has several outcomes`);
    return p as OpResult;
  });
}

describe('libcutils when its calls fail (§7.1, §8.1–§8.3)', () => {
  it('§7.1 device mode: SET_NAME refused (ENOSYS, not ENOTTY, so no abort) makes ashmem_create_region -1/ENOSYS; SharedMemory.create throws ErrnoException with that errno (§8.3)', () => {
    const rs = underQemu('ack-c', 33, 'sm_create s0 "p" 4096\nsm_get_size s0\n');
    assert.equal(rs[0]?.exception, 'android.system.ErrnoException');
    // The errno of the failed ioctl is the one reported, not a later size query's IllegalArgumentException.
    assert.match(rs[0]?.message ?? '', /^SharedMemory_create failed: ENOSYS \(/);
    assert.equal(rs[1]?.error, 'state'); // create threw: s0 holds nothing
  });

  it('§8.2 API 27+: MemoryFile rethrows the create ErrnoException as an IOException with its message', () => {
    const rs = underQemu('ack-c', 33, 'mf_create f0 "m" 4096\n');
    assert.equal(rs[0]?.exception, 'java.io.IOException');
    assert.match(rs[0]?.message ?? '', /^SharedMemory_create failed: ENOSYS \(/);
  });

  it('§8.1 before API 27: MemoryFile turns the failed create into IOException "ashmem_create_region failed"', () => {
    const rs = underQemu('c-pre2019', 26, 'mf_create f0 "m" 4096\nmf_length f0\n');
    assert.deepEqual([rs[0]?.exception, rs[0]?.message], ['java.io.IOException', 'ashmem_create_region failed']);
    assert.equal(rs[1]?.error, 'state');
  });

  it('§7.1 memfd mode makes no ioctl: under qemu-user set_prot still works through the seals (drop WRITE → true, add it back → false) and get_size through fstat', () => {
    const rs = underQemu('libcutils-memfd', 33, 'sm_create s0 "p" 8192\nsm_set_protect s0 3\nsm_set_protect s0 1\nsm_set_protect s0 3\nsm_set_protect s0 0\nsm_get_size s0\nsm_map_rw b0 s0\nsm_map_ro b1 s0\n');
    assert.deepEqual(rs.slice(0, 6).map((r) => r.ret), [0, 1, 1, 0, 1, 8192]);
    // The F_SEAL_FUTURE_WRITE set_prot added is real: a shared writable map is refused, a read-only one works.
    assert.equal(rs[6]?.exception, 'android.system.ErrnoException');
    assert.match(rs[6]?.message ?? '', /EPERM/);
    assert.equal(rs[7]?.ret, 0);
  });

  it('§7.1 memfd mode under qemu-user: MemoryFile (API 33) creates, maps and round-trips data; pinning needs no ioctl', () => {
    const rs = underQemu('libcutils-memfd', 33, 'mf_create f0 "m" 4096\nmf_allow_purging f0 true\nmf_write f0 8 0 16 8 5\nmf_read f0 8 16 0 8\nmf_length f0\n');
    assert.deepEqual(rs.map((r) => r.ret), [0, 0, 0, 8, 4096]);
    assert.deepEqual(rs[3]?.rle, [[5, 8]]);
  });
});
