/**
 * The Java layer's mmaps are first mmaps of a region too (§3.5 step 5, §12: one beyond the memory
 * the kernel will commit fails with ENOMEM and creates no backing file; issue 12 §1). The
 * MemoryFile constructors and SharedMemory.map therefore admit the exception that failure becomes
 * (§8.1 "mmap failed", §8.2 rethrowAsIOException of the ErrnoException, §8.3 ErrnoException)
 * beside success, and only where the kernel model admits it for the same mmap.
 */
import assert from 'node:assert/strict';
import { judge } from '../../harness/check/judge.js';
import { predict, type Prediction } from '../../harness/check/predict.js';
import { QUIET } from '../../harness/check/worlds.js';
import { Device } from '../../harness/model/device.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

const MIB = 1024 * 1024;
/** A target that reported 1 MiB of RAM plus swap: a 2 MiB first mmap is above its commit limit. */
const SMALL = { ...DEFAULT_ENVIRONMENT, memoryBytes: MIB };

function lines(profile: string, api: number, text: string): Prediction[] {
  return predict(parseScript(text), profileById(profile), { ...SMALL, apiLevel: api });
}

/** The outcomes a line admits, as `ret` or `exception: message` strings. */
function outcomes(p: Prediction | undefined): string[] {
  assert.ok(p !== undefined);
  const rs: readonly OpResult[] = 'oneOf' in p ? p.oneOf : [p];
  return rs.map((r) => (r.exception !== undefined ? `${r.exception}: ${r.message ?? ''}` : r.error !== undefined ? `error ${r.error}` : String(r.ret))).sort();
}

const ERRNO_ENOMEM = 'android.system.ErrnoException: mmap failed: ENOMEM (Out of memory)';

describe('Java-layer mmaps the kernel may refuse (§3.5, §8.1–§8.3, §12)', () => {
  it('§8.3 SharedMemory.map of a region above the commit limit: ErrnoException "mmap failed: ENOMEM (Out of memory)" or success, whichever map method', () => {
    for (const map of ['sm_map_rw b0 s0', 'sm_map_ro b0 s0', `sm_map b0 s0 1 0 ${2 * MIB}`]) {
      const ps = lines('ack-c', 33, `sm_create s0 "big" ${2 * MIB}\n${map}\n`);
      assert.deepEqual(outcomes(ps[1]), ['0', ERRNO_ENOMEM], map);
    }
  });

  it('§3.5/§12 the refused mmap created no backing file: the next map may be refused again; after a success it cannot', () => {
    const ps = lines('ack-c', 33, `sm_create s0 "big" ${2 * MIB}\nsm_map_rw b0 s0\nsm_map_ro b1 s0\n`);
    // Worlds: b0 mapped (file exists: b1 succeeds) or refused (b1 again either way).
    assert.deepEqual(outcomes(ps[2]), ['0', ERRNO_ENOMEM]);
    const after = lines('ack-c', 33, `sm_create s0 "small" 8192\nsm_map_rw b0 s0\n`);
    assert.deepEqual(outcomes(after[1]), ['0'], 'below the limit only success');
  });

  it('§8.2 API 27+: the MemoryFile constructor rethrows it as IOException with the same message; the handle then holds nothing', () => {
    const ps = lines('ack-c', 33, `mf_create f0 "big" ${2 * MIB}\nmf_length f0\n`);
    assert.deepEqual(outcomes(ps[0]), ['0', 'java.io.IOException: mmap failed: ENOMEM (Out of memory)']);
    assert.deepEqual(outcomes(ps[1]), [String(2 * MIB), 'error state']);
  });

  it('§8.1 before API 27: the constructor\'s mmap failure is IOException "mmap failed"', () => {
    const ps = lines('c-pre2019', 26, `mf_create f0 "big" ${2 * MIB}\n`);
    assert.deepEqual(outcomes(ps[0]), ['0', 'java.io.IOException: mmap failed']);
  });

  it('§7.1 memfd mode: memfd_create files are not accounted at mmap (VM_NORESERVE), so nothing is refused', () => {
    const ps = lines('libcutils-memfd', 33, `mf_create f0 "big" ${2 * MIB}\nsm_create s0 "big" ${2 * MIB}\nsm_map_rw b0 s0\n`);
    assert.deepEqual([outcomes(ps[0]), outcomes(ps[2])], [['0'], ['0']]);
  });

  it('the judge accepts a device that refused the mmap and rejects one that reports another errno', () => {
    const script = parseScript(`sm_create s0 "big" ${2 * MIB}\nsm_map_rw b0 s0\nsm_get_size s0\n`);
    const env = { ...SMALL, apiLevel: 33 };
    const refused = (() => {
      const d = Device.create(profileById('ack-c').features, env);
      return script.ops.map((op) => d.apply(op, undefined, op.kind === 'sm_map_rw' ? 1 : 0));
    })();
    assert.equal(refused[1]?.message, 'mmap failed: ENOMEM (Out of memory)');
    const opts = { ...QUIET, otherUsers: false };
    assert.equal(judge(script, refused, profileById('ack-c'), env, opts).kind, 'consistent');
    const altered = refused.map((r, i) => (i === 1 ? { ...r, message: 'mmap failed: EPERM (Operation not permitted)' } : r));
    assert.equal(judge(script, altered, profileById('ack-c'), env, opts).kind, 'diverged');
  });

  it('a map the kernel cannot refuse is one outcome: the judge keeps one world for it, not a copy per variant', () => {
    const script = parseScript('sm_create s0 "small" 8192\nsm_map_rw b0 s0\nmf_create f0 "m" 8192\n');
    const env = { ...SMALL, apiLevel: 33 };
    const d = Device.create(profileById('ack-c').features, env);
    const observed = script.ops.map((op) => {
      assert.equal(d.variants(op), 1, `line ${op.line}`);
      return d.apply(op);
    });
    assert.deepEqual(judge(script, observed, profileById('ack-c'), env, { ...QUIET, otherUsers: false }), { kind: 'consistent', worlds: 1, skipped: [] });
  });
});
