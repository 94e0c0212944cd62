/**
 * Mappings as a forked child or another possible world sees them (harness/model/mapping.ts
 * `cloneMapping`): a window unmapped inside the mapping and the per-page protections an
 * mprotect stopped by it left behind belong to the copy too; an exec-only page is readable
 * where PROT_EXEC implies PROT_READ. Also the one-line form of a result without an outcome
 * (match.ts `describe`). Written against the mutation report (issue 12 §7).
 */
import assert from 'node:assert/strict';
import { describe as describeResult } from '../../harness/check/match.js';
import { Device } from '../../harness/model/device.js';
import { DEFAULT_ENVIRONMENT, profileById, type Environment } from '../../harness/model/profile.js';
import type { Op } from '../../harness/ops/ast.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

const FEATURES = profileById('c-final').features;

/** Runs a script on a fresh device; `cloneAt` continues on a copy of the device (another world) from that line. */
function run(text: string, env: Environment = DEFAULT_ENVIRONMENT, cloneAt?: number, features = FEATURES): OpResult[] {
  let d = Device.create(features, env);
  return parseScript(text).ops.map((op: Op) => {
    if (op.line === cloneAt) d = d.clone();
    return d.apply(op);
  });
}
const outcome = (r: OpResult | undefined): unknown => r?.signal ?? r?.errno ?? r?.error ?? r?.rle ?? r?.ret;

describe('copies of a mapping (fork, other worlds) and exec-only pages', () => {
  it('a forked child keeps the parent\'s unmapped window: touching it faults (§3.5, munmap of part of a vma)', () => {
    const rs = run('open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared 0\nmunmap_range m0 0 4096\nfork p1\np1: check m0 0 1\np1: check m0 4096 1\nexit p1');
    assert.deepEqual([outcome(rs[5]), outcome(rs[6])], ['SIGSEGV', [[0, 1]]]);
  });

  it('another world keeps the unmapped window too', () => {
    const text = 'open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared 0\nmunmap_range m0 0 4096\ncheck m0 0 1\nmincore m0 0 8192';
    const rs = run(text, DEFAULT_ENVIRONMENT, 5);
    assert.deepEqual([outcome(rs[4]), outcome(rs[5])], ['SIGSEGV', 'ENOMEM']);
  });

  it('another world keeps the protections an mprotect stopped by a hole left on the pages before it', () => {
    // mprotect PROT_READ over [page 0, hole at page 1, page 2]: page 0 becomes read-only, then ENOMEM.
    const text = 'open r0\nset_size r0 12288\nmmap m0 r0 12288 3 shared 0\nmunmap_range m0 4096 4096\nmprotect m0 1\nfill m0 0 1 7\nfill m0 8192 1 7';
    const rs = run(text, DEFAULT_ENVIRONMENT, 6);
    assert.deepEqual([outcome(rs[4]), outcome(rs[5]), outcome(rs[6])], ['ENOMEM', 'SIGSEGV', 0]);
  });

  it('under qemu-user, a forked child\'s whole mapping answers mincore as the parent\'s does (a memfd: qemu-user has no ashmem ioctls)', () => {
    const qemu: Environment = { ...DEFAULT_ENVIRONMENT, ioctlEmulation: 'qemu-user' };
    const rs = run('open r0\ntruncate r0 8192\nmmap m0 r0 8192 3 shared 0\nfork p1\np1: mincore m0 0 8192\nmincore m0 0 8192\nexit p1', qemu, undefined, profileById('linux-memfd').features);
    assert.deepEqual([outcome(rs[4]), outcome(rs[5])], [0, 0]);
  });

  it('an exec-only page is readable where PROT_EXEC implies PROT_READ (x86), not elsewhere', () => {
    const text = 'open r0\nset_size r0 4096\nmmap m0 r0 4096 4 shared 0\ncheck m0 0 16';
    assert.deepEqual(outcome(run(text)[3]), [[0, 16]]);
    assert.equal(outcome(run(text, { ...DEFAULT_ENVIRONMENT, execImpliesRead: false })[3]), 'SIGSEGV');
  });

  it('a result with no outcome field reads "error ?" in one line', () => {
    assert.equal(describeResult({ i: 3, op: 'check' } as OpResult), 'error ?');
    assert.equal(describeResult({ i: 3, op: 'check', error: 'state', message: 'm0 is not live' }), 'error state (m0 is not live)');
  });
});
