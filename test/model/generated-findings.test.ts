/**
 * Model fixes for divergences the wider generator (issue 12 §6) found against real kernels on
 * its first runs: each test fails on the model before the fix.
 */
import assert from 'node:assert/strict';
import { predict } from '../../harness/check/predict.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';

const run = (profile: string, text: string, env = DEFAULT_ENVIRONMENT) => predict(parseScript(text), profileById(profile), env);

describe('divergences found by generated cases', () => {
  it('qemu-user answers ENOSYS for an ashmem ioctl on a closed fd (its table is searched before the host call)', () => {
    const env = { ...DEFAULT_ENVIRONMENT, ioctlEmulation: 'qemu-user' as const };
    const p = run('linux-memfd', 'open r0\nclose r0\npin r0 0 4096\npin_null r0\nioctl r0 0x7704 0\nioctl r0 0x5451 0\nread r0 1\nget_seals r0\n', env);
    assert.deepEqual(p.slice(2).map((x) => ('errno' in x ? x.errno : x)), ['ENOSYS', 'ENOSYS', 'ENOSYS', 'EBADF', 'EBADF', 'EBADF']);
    // Without emulation the closed fd answers first.
    assert.deepEqual(run('linux-memfd', 'open r0\nclose r0\npin r0 0 4096\n')[2], { i: 3, op: 'pin', errno: 'EBADF' });
  });

  it('under qemu-user, mprotect across a hole and mincore over PROT_NONE pages are the emulator\'s answers', () => {
    const text = 'open r0\ntruncate r0 16384\nmmap m0 r0 16384 3 shared 0\nmunmap_range m0 12288 4096\nmprotect m0 1\nmmap m1 r0 8192 3 private 0\nmprotect m1 0\nmincore m1 0 8192\n';
    const native = run('linux-memfd', text);
    assert.deepEqual([native[4], native[7]], [{ i: 5, op: 'mprotect', errno: 'ENOMEM' }, { i: 8, op: 'mincore', ret: 0 }]);
    const emulated = run('linux-memfd', text, { ...DEFAULT_ENVIRONMENT, ioctlEmulation: 'qemu-user' });
    assert.equal(emulated[4] !== undefined && 'error' in emulated[4] ? emulated[4].error : undefined, 'unmodelled');
    assert.equal(emulated[7] !== undefined && 'error' in emulated[7] ? emulated[7].error : undefined, 'unmodelled');
  });

  it('mmap refuses an unaligned offset before it looks at the fd; length 0 after (before, under qemu-user)', () => {
    const text = 'open r0\nclose r0\nmmap m0 r0 4096 3 shared 1\nmmap m1 r0 0 3 shared 0\nmmap m2 r0 4096 3 shared 0\n';
    for (const profile of ['linux-memfd', 'c-final']) {
      const p = run(profile, text);
      assert.deepEqual(p.slice(2).map((x) => ('errno' in x ? x.errno : x)), ['EINVAL', 'EBADF', 'EBADF'], profile);
      const q = run(profile, text, { ...DEFAULT_ENVIRONMENT, ioctlEmulation: 'qemu-user' });
      assert.deepEqual(q.slice(2).map((x) => ('errno' in x ? x.errno : x)), ['EINVAL', 'EINVAL', 'EBADF'], profile);
    }
  });

  it('a fault through a private mapping of a memfd allocates the file page: SEEK_DATA finds it', () => {
    const p = run('linux-memfd', 'open r0\ntruncate r0 16384\nmmap m0 r0 16384 1 private 0\ncheck m0 8192 10\nlseek r0 0 data\n');
    assert.deepEqual(p[4], { i: 5, op: 'lseek', ret: 8192 });
    const w = run('linux-memfd', 'open r0\ntruncate r0 16384\nmmap m0 r0 16384 3 private 0\nfill m0 4096 1 9\nlseek r0 0 data\nread r0 16384\n');
    assert.deepEqual(w[4], { i: 5, op: 'lseek', ret: 4096 });
    assert.deepEqual(w[5], { i: 6, op: 'read', ret: 12288, rle: [[0, 12288]] }); // the store stayed private
  });
  it('under qemu-user, mincore over any page the guest may not read is the emulator\'s answer (write-only, exec-only, PROT_NONE)', () => {
    // Found by generated cases on local:arm64-v8a (qemu-aarch64 7.2, `run --seed 11`, case-48, shrunk):
    // mincore of a write-only mapping -> ENOMEM. qemu before 8.1 locks the range VERIFY_READ
    // (linux-user/syscall.c TARGET_NR_mincore; 8.1 changed it to VERIFY_NONE), so a page without
    // PAGE_READ fails there, before any host call.
    const text = 'open r0\nmmap m0 r0 16384 2 shared_noreserve 0\nmmap m1 r0 8192 4 private 0\nmmap m2 r0 8192 1 private 0\nmincore m0 12288 4096\nmincore m1 0 8192\nmincore m2 0 8192\n';
    const native = run('linux-memfd', text).slice(4).map((x) => ('ret' in x ? x.ret : x));
    assert.deepEqual(native, [0, 0, 0]);
    const emulated = run('linux-memfd', text, { ...DEFAULT_ENVIRONMENT, ioctlEmulation: 'qemu-user' }).slice(4);
    assert.deepEqual(emulated.map((x) => ('error' in x ? x.error : 'ret' in x ? x.ret : x)), ['unmodelled', 'unmodelled', 0]);
  });
  it('F_SEAL_WRITE is EBUSY while a shared mapping may be made writable (VM_MAYWRITE), whatever its protection now', () => {
    // Found by generated cases on this machine's 6.18 kernel (local, local:x86, local:arm64-v8a,
    // local:armeabi-v7a; `run --seed 20261125`, cases 94 and 194, shrunk): an exec-only shared
    // mapping, and one mprotected to read+exec, made add_seals 31 EBUSY. memfd_add_seals denies
    // writable mappings of the file, and the kernel counts every MAP_SHARED vma of a writable fd
    // (mm/mmap.c: by VM_SHARED in older kernels, VM_SHARED with VM_MAYWRITE in newer ones), which mprotect can make
    // writable again; the current PROT_WRITE does not matter.
    const seal = (text: string): unknown => { const p = run('linux-memfd', text).at(-1); return p !== undefined && 'errno' in p ? p.errno : p !== undefined && 'ret' in p ? p.ret : p; };
    assert.equal(seal('open r1\nmmap m1 r1 45056 3 shared_noreserve 0\nmunmap m1\nmmap m101 r1 16384 4 shared 49152\nadd_seals r1 31\n'), 'EBUSY');
    assert.equal(seal('open r1\nmmap m100 r1 24576 7 shared 0\nmprotect m100 5\nadd_seals r1 31\n'), 'EBUSY');
    assert.equal(seal('open r1\nmmap m100 r1 24576 1 shared 0\nadd_seals r1 8\n'), 'EBUSY');
    // A private mapping never writes the file; an unmapped shared one is gone.
    assert.equal(seal('open r1\nmmap m100 r1 24576 3 private 0\nadd_seals r1 8\n'), 0);
    assert.equal(seal('open r1\nmmap m100 r1 24576 3 shared 0\nmunmap m100\nadd_seals r1 8\n'), 0);
  });
});
