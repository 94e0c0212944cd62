/**
 * The kernel's answers for handles that are no longer live and for the plain file syscalls on a
 * region fd (harness/model/kernel.ts): closed fds (EBADF, also under qemu-user, where the
 * emulator answers nothing for a syscall), mapping handles that are not live and windows outside
 * a mapping (`state` errors, docs/op-scripts.md "Ops"), and read/fstat/ftruncate/F_GET_SEALS on
 * ashmem and memfd regions (§3.9, §7.1). Kills mutation survivors of kernel.ts.
 */
import assert from 'node:assert/strict';
import { Kernel } from '../../harness/model/kernel.js';
import { DEFAULT_ENVIRONMENT, profileById, type Environment } from '../../harness/model/profile.js';
import type { Op } from '../../harness/ops/ast.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

const QEMU: Environment = { ...DEFAULT_ENVIRONMENT, ioctlEmulation: 'qemu-user' };

function run(profile: string, text: string, env: Environment = DEFAULT_ENVIRONMENT): OpResult[] {
  const k = new Kernel(profileById(profile).features, env);
  return parseScript(text).ops.map((op) => k.apply(op));
}

/** Each result as its errno, else its error kind, else its ret. */
const outcomes = (rs: readonly OpResult[]): (string | number | undefined)[] => rs.map((r) => r.errno ?? r.error ?? r.ret);

describe('kernel: handles that are not live', () => {
  it('close and dup of a closed fd are EBADF; the handle dup would have named stays unopened', () => {
    const rs = run('c-final', 'open r0\nclose r0\nclose r0\ndup r1 r0\nget_size r1\n');
    assert.deepEqual(outcomes(rs.slice(1)), [0, 'EBADF', 'EBADF', 'EBADF']);
  });

  it('munmap of a mapping already unmapped is a state error naming the handle, and so are a check and a munmap_range through it', () => {
    const rs = run('c-final', 'open r0\nset_size r0 4096\nmmap m0 r0 4096 3 shared 0\nmunmap m0\nmunmap m0\ncheck m0 0 1\nmunmap_range m0 0 4096\n');
    assert.equal(rs[3]?.ret, 0);
    for (const r of rs.slice(4)) {
      assert.equal(r.error, 'state');
      assert.match(String(r.message), /^m0 is not live \(its mmap failed, it was unmapped, or it exited\)$/);
    }
  });

  it('fill, check, mincore and munmap_range over a window past the mapping\'s end are state errors naming the window', () => {
    // A window [100, 4100) of a 4096-byte mapping: its start is inside, its end is not.
    const rs = run('c-final', 'open r0\nset_size r0 8192\nmmap m1 r0 4096 3 shared 0\nfill m1 100 4000 1\ncheck m1 100 4000\nmincore m1 100 4000\nmunmap_range m1 100 4000\ncheck m1 0 4096\n');
    for (const r of rs.slice(3, 7)) {
      assert.equal(r.error, 'state', `${r.op}: ${JSON.stringify(r)}`);
      assert.equal(r.message, 'window [100, 4100) is outside mapping m1 of 4096 bytes');
    }
    // Nothing ran: the fill stored no byte.
    assert.deepEqual(rs[7]?.rle, [[0, 4096]]);
  });

  it('exit of a child that is not running is a state error; an op of a process that is not running is refused loudly', () => {
    // The parser refuses both in a script; the kernel still must not answer them as if they ran.
    const k = new Kernel(profileById('c-final').features, DEFAULT_ENVIRONMENT);
    const exit = { kind: 'exit', child: 'p1', line: 1, proc: 'p0' } as Op;
    const r = k.apply(exit);
    assert.equal(r.error, 'state');
    assert.match(String(r.message), /^p1 is not live/);
    const open = { kind: 'open', r: 'r0', mode: 'rdwr', line: 2, proc: 'p3' } as Op;
    assert.throws(() => k.apply(open), /^Error: process p3 is not running \(the parser should have caught this\)$/);
  });

  it('under qemu-user the plain syscalls on a closed fd are EBADF from the kernel (the emulator answers only ioctls itself)', () => {
    const rs = run('linux-memfd', 'open r0\nclose r0\nread r0 1\nwrite r0 1\nlseek r0 0 set\nfstat r0\ntruncate r0 0\nadd_seals r0 1\nget_seals r0\n', QEMU);
    assert.deepEqual(outcomes(rs.slice(2)), ['EBADF', 'EBADF', 'EBADF', 'EBADF', 'EBADF', 'EBADF', 'EBADF']);
  });
});

describe('kernel: plain file syscalls on a region fd', () => {
  it('fstat: an ashmem fd is a character device of size 0; a memfd a regular file of its i_size', () => {
    const ashmem = run('c-final', 'open r0\nset_size r0 8192\nfstat r0\n')[2];
    assert.deepEqual({ mode: ashmem?.mode, size: ashmem?.size, ret: ashmem?.ret }, { mode: 'chr', size: 0, ret: 0 });
    const memfd = run('linux-memfd', 'open r0\ntruncate r0 5000\nfstat r0\n')[2];
    assert.deepEqual({ mode: memfd?.mode, size: memfd?.size, ret: memfd?.ret }, { mode: 'reg', size: 5000, ret: 0 });
  });

  it('ftruncate and F_GET_SEALS on an ashmem fd are EINVAL (no setattr size, no seals field; mm/memfd.c)', () => {
    const rs = run('c-final', 'open r0\nset_size r0 4096\ntruncate r0 4096\nget_seals r0\nmmap m0 r0 4096 3 shared 0\ntruncate r0 0\nget_seals r0\nget_size r0\n');
    assert.deepEqual(outcomes(rs.slice(2)), ['EINVAL', 'EINVAL', 0, 'EINVAL', 'EINVAL', 4096]);
  });

  it('F_SEAL_WRITE is refused (EBUSY) only while this memfd has a writable shared mapping; another memfd\'s does not count', () => {
    // mm/memfd.c memfd_add_seals -> mapping_deny_writable on this file's own address_space.
    const rs = run('linux-memfd', 'open r0\ntruncate r0 4096\nopen r1\ntruncate r1 4096\nmmap m1 r1 4096 3 shared 0\nadd_seals r1 8\nadd_seals r0 8\nget_seals r0\n');
    assert.deepEqual(outcomes(rs.slice(5)), ['EBUSY', 0, 8]);
  });

  it('6.7+: a shared mapping made after F_SEAL_FUTURE_WRITE may never be writable, so F_SEAL_WRITE is added beside it', () => {
    // shmem_mmap clears VM_MAYWRITE under the future-write seal and 6.7+ counts only VM_MAYWRITE
    // shared vmas (mm/mmap.c). Seen with the host probe on Linux 6.18 (--backend memfd): 0, then
    // seals 24. (Before 6.7 every VM_SHARED vma counted: EBUSY there.)
    const env: Environment = { ...DEFAULT_ENVIRONMENT, kernelVersion: [6, 18] };
    const rs = run('linux-memfd', 'open r0\ntruncate r0 4096\nadd_seals r0 16\nmmap m0 r0 4096 1 shared 0\nadd_seals r0 8\nget_seals r0\n', env);
    assert.deepEqual(outcomes(rs.slice(2)), [0, 0, 0, 24]);
  });

  it('read of an ashmem region of size 0 is EOF with no bytes, even with no file (§3.9)', () => {
    const r = run('c-final', 'open r0\nread r0 10\n')[1];
    assert.deepEqual({ ret: r?.ret, rle: r?.rle }, { ret: 0, rle: [] });
  });

  it('read of a memfd from a position past i_size is EOF: 0 bytes, the position kept', () => {
    const rs = run('linux-memfd', 'open r0\ntruncate r0 100\nlseek r0 200 set\nread r0 10\nlseek r0 0 cur\nlseek r0 95 set\nread r0 10\n');
    assert.deepEqual({ ret: rs[3]?.ret, rle: rs[3]?.rle }, { ret: 0, rle: [] });
    assert.equal(rs[4]?.ret, 200);
    // From 95, only the 5 bytes before i_size.
    assert.deepEqual({ ret: rs[6]?.ret, rle: rs[6]?.rle }, { ret: 5, rle: [[0, 5]] });
  });
});
