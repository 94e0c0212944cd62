/**
 * What the real driver in the vm target (Debian 11's 5.10 kernel and its ashmem_linux.ko, x86_64
 * and x86 probes) showed the model got wrong, found by generated cases and shrunk there. Each test
 * holds the model to what that driver answered, with the kernel source that explains it; the same
 * scripts run on the guest in test/vm/vm-guest.test.ts.
 */
import assert from 'node:assert/strict';
import { judge } from '../../harness/check/judge.js';
import { predict } from '../../harness/check/predict.js';
import { QUIET } from '../../harness/check/worlds.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

const OPTS = { ...QUIET, otherUsers: false };

function results(text: string): OpResult[] {
  return predict(parseScript(text), profileById('c-final'), DEFAULT_ENVIRONMENT, OPTS).map((p) => {
    assert.ok(!('oneOf' in p), 'a single answer');
    return p as OpResult;
  });
}

describe('findings of the real 5.10 driver (vm target)', () => {
  it('F_ADD_SEALS on an ashmem fd: EPERM when read-only (FMODE_WRITE is checked first), EINVAL when writable (mm/memfd.c memfd_add_seals)', () => {
    // Observed on vm:x86_64 and vm:x86_64/x86, case-63 of `run --seed 11`: open r0 rdonly; add_seals r0 2 -> EPERM.
    assert.deepEqual(results('open r0 rdonly\nadd_seals r0 2\n').map((r) => r.errno ?? r.ret), [0, 'EPERM']);
    assert.deepEqual(results('open r0\nadd_seals r0 2\n').map((r) => r.errno ?? r.ret), [0, 'EINVAL']);
    const observed: OpResult[] = [{ i: 1, op: 'open', ret: 0 }, { i: 2, op: 'add_seals', errno: 'EINVAL' }];
    assert.equal(judge(parseScript('open r0 rdonly\nadd_seals r0 2\n'), observed, profileById('c-final'), DEFAULT_ENVIRONMENT, OPTS).kind, 'diverged');
  });

  it('GET_NAME through ioctl_buf is the return value alone: the probe reads no name back for a raw ioctl (docs/op-scripts.md)', () => {
    // Observed: open r1 rdonly; ioctl_buf r1 0x81007702 "..." -> {"ret":0} (case-280 of `run --seed 11`).
    const [, got] = results('open r1 rdonly\nioctl_buf r1 0x81007702 "\\x01"\n');
    assert.deepEqual(got, { i: 2, op: 'ioctl_buf', ret: 0 });
    assert.deepEqual(results('open r1\nget_name r1\n')[1], { i: 2, op: 'get_name', ret: 0, name: 'dev/ashmem', copied: 11 });
  });
});
