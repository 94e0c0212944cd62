/**
 * libcutils' three implementations (§7.1 device and memfd modes, §7.2 ashmem-host) seen through the
 * Java layer (§8): set_prot, pin/unpin and get_size answer differently in each mode.
 */
import assert from 'node:assert/strict';
import { predict, type Prediction } from '../../harness/check/predict.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

/** The predictions of a script with no purge choice (every line has one answer). */
function run(profile: string, api: number, text: string): OpResult[] {
  const out = predict(parseScript(text), profileById(profile), { ...DEFAULT_ENVIRONMENT, apiLevel: api });
  return out.map((p: Prediction) => ('oneOf' in p ? (p.oneOf[0] as OpResult) : p));
}

const rets = (rs: readonly OpResult[]): unknown[] => rs.map((r) => r.ret ?? r.exception ?? r.error);

describe('libcutils modes under the Java layer (§7.1, §7.2, §8.3)', () => {
  it('§7.1 memfd mode set_prot: dropping WRITE seals F_SEAL_FUTURE_WRITE; WRITE then fails, READ/NONE still succeed', () => {
    const rs = run('libcutils-memfd', 33, 'sm_create s0 "p" 4096\nsm_set_protect s0 3\nsm_set_protect s0 1\nsm_set_protect s0 1\nsm_set_protect s0 3\nsm_set_protect s0 0\nsm_set_protect s0 1\n');
    // Line 2: WRITE requested, not sealed → 0 (true). 3: seal → true. 4: already sealed, no WRITE → true.
    // 5: WRITE once sealed → EINVAL (false). 6/7: NONE and READ → true (READ is never removed, §8.3 note).
    assert.deepEqual(rets(rs), [0, 1, 1, 1, 0, 1, 1]);
  });

  it('§7.1 memfd mode: the seal set_prot adds is real — a later writable shared map fails, a read-only one works', () => {
    const rs = run('libcutils-memfd', 33, 'sm_create s0 "p" 4096\nsm_map_rw b0 s0\nsm_set_protect s0 1\nsm_map_rw b1 s0\nsm_map_ro b2 s0\n');
    assert.equal(rs[1]?.ret, 0); // before the seal a writable map is fine
    assert.equal(rs[3]?.exception, 'android.system.ErrnoException'); // F_SEAL_FUTURE_WRITE refuses a shared writable mmap
    assert.equal(rs[4]?.ret, 0);
  });

  it('§7.2 ashmem-host set_prot is a no-op returning 0: every setProtect is true, even adding WRITE back', () => {
    const rs = run('ashmem-host', 33, 'sm_create s0 "h" 4096\nsm_set_protect s0 1\nsm_set_protect s0 3\nsm_set_protect s0 0\nsm_map_rw b0 s0\nbuf_put b0 0 4 7\nbuf_get b0 0 4\n');
    assert.deepEqual(rets(rs).slice(0, 5), [0, 1, 1, 1, 0]);
    assert.deepEqual(rs[6]?.rle, [[7, 4]]); // no protection was ever applied
  });

  it('§7.1 device mode set_prot is SET_PROT_MASK: adding WRITE back after dropping it is false (CTS testSetProtAddProt)', () => {
    const rs = run('ack-c', 33, 'sm_create s0 "d" 4096\nsm_set_protect s0 1\nsm_set_protect s0 3\n');
    assert.deepEqual(rets(rs), [0, 1, 0]);
  });

  for (const profile of ['libcutils-memfd', 'ashmem-host']) {
    it(`§7.1/§7.2 ${profile}: pin/unpin return 0 without a syscall, so allowPurging never throws (API 26 and 33)`, () => {
      for (const api of [26, 33]) {
        const rs = run(profile, api, 'mf_create f0 "q" 4096\nmf_allow_purging f0 true\nmf_allow_purging f0 false\nmf_allow_purging f0 true\nmf_write f0 4 0 0 4 9\nmf_read f0 4 0 0 4\n');
        assert.deepEqual(rets(rs), [0, 0, 1, 0, 0, 4], `${profile} API ${api}`);
        assert.deepEqual(rs[5]?.rle, [[9, 4]]);
      }
    });
  }

  for (const profile of ['libcutils-memfd', 'ashmem-host', 'ack-c']) {
    it(`§7.1/§7.2/§8.3 ${profile}: SharedMemory.getSize is the size created (fstat st_size or GET_SIZE)`, () => {
      const rs = run(profile, 33, 'sm_create s0 "g" 12288\nsm_get_size s0\nmf_create f0 "m" 5000\nmf_length f0\n');
      assert.deepEqual(rets(rs), [0, 12288, 0, 5000]);
    });
  }
});
