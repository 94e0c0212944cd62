/**
 * Issue 12 §1, §2 and §4 in the model and the judge: resource errors as admissible worlds
 * (overcommit.ts), the VFS's answers to non-ashmem ioctls (vfs-ioctl.ts), and the grammar's new
 * ops (negative lseek offsets, drop_cap, set_name_at_page_end, ioctl_buf, munmap_range).
 */
import assert from 'node:assert/strict';
import { judge } from '../../harness/check/judge.js';
import { predict, type Prediction } from '../../harness/check/predict.js';
import { QUIET } from '../../harness/check/worlds.js';
import { Kernel } from '../../harness/model/kernel.js';
import { mayRefuseCommit, UNKNOWN_MEMORY_FLOOR } from '../../harness/model/overcommit.js';
import { DEFAULT_ENVIRONMENT, profileById, type Environment } from '../../harness/model/profile.js';
import { VFS_IOCTL, vfsIoctl, type VfsContext } from '../../harness/model/vfs-ioctl.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

const MiB = 1024 * 1024;
const GUEST: Environment = { ...DEFAULT_ENVIRONMENT, memoryBytes: 512 * MiB };
const OPTS = { ...QUIET, otherUsers: false };

/** The single result, or the set, that the model predicts for each line. */
function predicted(text: string, profile = 'c-final', env: Environment = GUEST): Prediction[] {
  return predict(parseScript(text), profileById(profile), env);
}

/** What one prediction admits, as `ret N` / errno / signal strings. */
function admitted(p: Prediction): string[] {
  const show = (r: OpResult): string => (r.ret !== undefined ? `ret ${r.ret}` : r.errno ?? r.signal ?? `error ${r.error ?? '?'}`);
  return 'oneOf' in p ? p.oneOf.map(show).sort() : [show(p)];
}

/** Runs a script on one kernel, variant 0 everywhere (a quiet default machine). */
function run(text: string, profile = 'c-final', env: Environment = GUEST): OpResult[] {
  const k = new Kernel(profileById(profile).features, env);
  return parseScript(text).ops.map((op) => k.apply(op));
}

/** Observed results for a script: the given outcomes by line, `ret 0` elsewhere. */
function observed(text: string, by: Record<number, Partial<OpResult>>): OpResult[] {
  return parseScript(text).ops.map((op) => ({ i: op.line, op: op.kind, ...(by[op.line] ?? { ret: 0 }) }) as OpResult);
}

describe('issue 12 §1: ENOMEM is an admissible world above the commit limit (overcommit.ts)', () => {
  const BIG = `open r0\nset_size r0 0x100000000\nmmap m0 r0 4096 3 shared 0\nset_size r0 8192\nget_size r0\n`;

  it('admits ENOMEM beside success for a first mmap whose file is larger than RAM plus swap', () => {
    assert.deepEqual(admitted(predicted(BIG)[2] as Prediction), ['ENOMEM', 'ret 0']);
  });

  it('never admits ENOMEM for a small region, nor for a later mmap of a file that exists', () => {
    const small = predicted(`open r0\nset_size r0 ${64 * MiB}\nmmap m0 r0 4096 3 shared 0\nmmap m1 r0 4096 3 shared 0\n`);
    assert.deepEqual(admitted(small[2] as Prediction), ['ret 0']);
    assert.deepEqual(admitted(small[3] as Prediction), ['ret 0']);
  });

  it('the threshold is RAM plus swap from the target, else 256 MiB; exactly at the limit is still fine', () => {
    assert.equal(mayRefuseCommit(GUEST, BigInt(512 * MiB)), false);
    assert.equal(mayRefuseCommit(GUEST, BigInt(512 * MiB + 4096)), true);
    assert.equal(mayRefuseCommit({ ...GUEST, memoryBytes: 8192 * MiB }, 1n << 32n), false);
    assert.equal(UNKNOWN_MEMORY_FLOOR, 256 * MiB);
    assert.equal(mayRefuseCommit(DEFAULT_ENVIRONMENT, BigInt(256 * MiB)), false);
    assert.equal(mayRefuseCommit(DEFAULT_ENVIRONMENT, BigInt(256 * MiB + 4096)), true);
  });

  it('the judge accepts ENOMEM then a working SET_SIZE (no file was created, §12), and also plain success', () => {
    const refused = observed(BIG, { 3: { errno: 'ENOMEM' }, 5: { ret: 8192 } });
    assert.equal(judge(parseScript(BIG), refused, profileById('c-final'), GUEST, OPTS).kind, 'consistent');
    const mapped = observed(BIG, { 4: { errno: 'EINVAL' }, 5: { ret: 0 } });
    assert.equal(judge(parseScript(BIG), mapped, profileById('c-final'), GUEST, OPTS).kind, 'consistent');
  });

  it('the judge rejects ENOMEM followed by a frozen size (the refused mmap must leave no file)', () => {
    const wrong = observed(BIG, { 3: { errno: 'ENOMEM' }, 4: { errno: 'EINVAL' }, 5: { ret: 0 } });
    const v = judge(parseScript(BIG), wrong, profileById('c-final'), GUEST, OPTS);
    assert.equal(v.kind, 'diverged');
    if (v.kind === 'diverged') assert.equal(v.divergence.line, 4);
  });

  it('the judge rejects ENOMEM for a small region', () => {
    const text = 'open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared 0\n';
    const v = judge(parseScript(text), observed(text, { 3: { errno: 'ENOMEM' } }), profileById('c-final'), GUEST, OPTS);
    assert.equal(v.kind, 'diverged');
  });

  it('a private writable mapping longer than the limit is accounted before the driver (ENOMEM admissible even with size 0)', () => {
    const p = predicted(`open r0\nmmap m0 r0 ${1024 * MiB} 3 private 0\nmmap m1 r0 ${1024 * MiB} 1 private 0\n`);
    assert.deepEqual(admitted(p[1] as Prediction), ['EINVAL', 'ENOMEM']);
    assert.deepEqual(admitted(p[2] as Prediction), ['EINVAL']); // read-only private mappings are not accounted
  });

  it('the default world (variant 0) is success: one kernel run predicts no ENOMEM', () => {
    assert.deepEqual(run(BIG)[2], { i: 3, op: 'mmap', ret: 0 });
  });
});

describe('issue 12 §2: ioctls the driver does not know are answered (vfs-ioctl.ts)', () => {
  const UNKNOWN = 'open r0\nioctl r0 0x5401 0\nioctl r0 0 0\nioctl r0 0x541b 0\nset_size r0 4096\nmmap m0 r0 4096 3 shared 0\nioctl r0 0x5401 0\n';

  it('TCGETS, 0 and FIONREAD reach the driver: ENOTTY in every C lineage, EINVAL in Rust (§1.4)', () => {
    for (const profile of ['c-orig', 'c-pre2019', 'c-final', 'ack-c']) {
      const r = run(UNKNOWN, profile);
      for (const i of [1, 2, 3, 6]) assert.deepEqual(r[i], { i: i + 1, op: 'ioctl', errno: 'ENOTTY' }, `${profile} line ${i + 1}`);
    }
    const rust = run(UNKNOWN, 'ack-rust');
    for (const i of [1, 2, 3, 6]) assert.deepEqual(rust[i], { i: i + 1, op: 'ioctl', errno: 'EINVAL' });
  });

  it('the judge rejects EINVAL for an unknown ioctl on a C lineage, and ENOTTY on the Rust one', () => {
    const script = parseScript(UNKNOWN);
    const c = observed(UNKNOWN, { 2: { errno: 'EINVAL' }, 3: { errno: 'ENOTTY' }, 4: { errno: 'ENOTTY' }, 7: { errno: 'ENOTTY' } });
    const v = judge(script, c, profileById('c-final'), GUEST, OPTS);
    assert.equal(v.kind, 'diverged');
    if (v.kind === 'diverged') assert.deepEqual([v.divergence.line, v.divergence.expected.map((e) => e.errno)], [2, ['ENOTTY']]);
    const fine = observed(UNKNOWN, { 2: { errno: 'ENOTTY' }, 3: { errno: 'ENOTTY' }, 4: { errno: 'ENOTTY' }, 7: { errno: 'ENOTTY' } });
    assert.equal(judge(script, fine, profileById('c-final'), GUEST, OPTS).kind, 'consistent');
    assert.equal(judge(script, fine, profileById('ack-rust'), GUEST, OPTS).kind, 'diverged');
  });

  const ctx = (over: Partial<VfsContext> = {}): VfsContext => ({ callerBits: 64, kernelBits: 64, kernelVersion: [6, 1], capSysAdmin: true, buffer: null, ...over });

  it('answers the VFS commands itself for a character device: its own errnos, whatever the driver', () => {
    const ans = (cmd: number, c: VfsContext = ctx()): unknown => plain(vfsIoctl(cmd, c));
    assert.deepEqual(ans(VFS_IOCTL.FIOCLEX), [{ answer: { ret: 0 } }]);
    assert.deepEqual(ans(VFS_IOCTL.FIONBIO), [{ answer: { errno: 'EFAULT' } }]);
    assert.deepEqual(ans(VFS_IOCTL.FIONBIO, ctx({ buffer: '\x01' })), [{ answer: { ret: 0 } }]);
    assert.deepEqual(ans(VFS_IOCTL.FIOASYNC, ctx({ buffer: '\x01' })), [{ answer: { errno: 'ENOTTY' } }]);
    assert.deepEqual(ans(VFS_IOCTL.FIOASYNC, ctx({ buffer: '' })), [{ answer: { ret: 0 } }]);
    assert.deepEqual(ans(VFS_IOCTL.FIOQSIZE), [{ answer: { errno: 'ENOTTY' } }]);
    assert.deepEqual(ans(VFS_IOCTL.FS_IOC_FIEMAP), [{ answer: { errno: 'EOPNOTSUPP' } }]);
    assert.deepEqual(ans(VFS_IOCTL.FIGETBSZ), [{ answer: { errno: 'EFAULT' } }]);
    assert.deepEqual(ans(VFS_IOCTL.FIFREEZE), [{ answer: { errno: 'EOPNOTSUPP' } }]);
    assert.deepEqual(ans(VFS_IOCTL.FIFREEZE, ctx({ capSysAdmin: false })), [{ answer: { errno: 'EPERM' } }]);
    assert.deepEqual(ans(VFS_IOCTL.FITHAW), [{ answer: { errno: 'EINVAL' } }]);
    for (const cmd of [VFS_IOCTL.FIONREAD, VFS_IOCTL.FIBMAP, VFS_IOCTL.FS_IOC_GETFLAGS_64, VFS_IOCTL.FS_IOC_FSGETXATTR, 0x5401, 0]) assert.deepEqual(ans(cmd), ['driver'], `0x${cmd.toString(16)}`);
  });

  it('follows the kernel version where do_vfs_ioctl changed, and admits both when the version is unknown', () => {
    assert.deepEqual(plain(vfsIoctl(VFS_IOCTL.FS_IOC_SETFLAGS_64, ctx({ kernelVersion: [5, 10] }))), ['driver']);
    assert.deepEqual(plain(vfsIoctl(VFS_IOCTL.FS_IOC_SETFLAGS_64, ctx({ kernelVersion: [5, 13] }))), [{ answer: { errno: 'EFAULT' } }]);
    assert.deepEqual(plain(vfsIoctl(VFS_IOCTL.FS_IOC_SETFLAGS_64, ctx({ kernelVersion: [6, 1], buffer: '' }))), ['driver']);
    assert.deepEqual(plain(vfsIoctl(VFS_IOCTL.FS_IOC_SETFLAGS_64, ctx({ kernelVersion: undefined }))), [{ answer: { errno: 'EFAULT' } }, 'driver']);
    assert.deepEqual(plain(vfsIoctl(VFS_IOCTL.FS_IOC_GETFSUUID, ctx({ kernelVersion: [6, 1] }))), ['driver']);
    assert.deepEqual(plain(vfsIoctl(VFS_IOCTL.FS_IOC_GETFSUUID, ctx({ kernelVersion: [6, 12] }))), ['driver', { answer: { errno: 'ENOTTY' } }, { answer: { errno: 'EFAULT' } }]);
    // A 64-bit caller's 32-bit SETFLAGS number is just unknown; a compat caller's is translated (5.13+).
    assert.deepEqual(plain(vfsIoctl(VFS_IOCTL.FS_IOC_SETFLAGS_32, ctx())), ['driver']);
    assert.deepEqual(plain(vfsIoctl(VFS_IOCTL.FS_IOC_SETFLAGS_32, ctx({ callerBits: 32 }))), [{ answer: { errno: 'EFAULT' } }]);
    assert.equal(typeof (vfsIoctl(0x402c5828, ctx({ callerBits: 32 }))[0] as { unmodelled?: string }).unmodelled, 'string');
  });

  it('through the kernel: the version-dependent answer is two worlds, the driver\'s errno per lineage in one', () => {
    const text = 'open r0\nioctl r0 0x40086602 0\n';
    assert.deepEqual(admitted(predicted(text, 'c-final', DEFAULT_ENVIRONMENT)[1] as Prediction), ['EFAULT', 'ENOTTY']);
    assert.deepEqual(admitted(predicted(text, 'ack-rust', DEFAULT_ENVIRONMENT)[1] as Prediction), ['EFAULT', 'EINVAL']);
    assert.deepEqual(admitted(predicted(text, 'c-final', { ...DEFAULT_ENVIRONMENT, kernelVersion: [5, 10] })[1] as Prediction), ['ENOTTY']);
  });

  it('under qemu-user the emulator, not the kernel, decides non-ashmem numbers other than FIOCLEX/FIONCLEX: unmodelled', () => {
    const r = run('open r0\nioctl r0 0x5401 0\nioctl r0 0x5451 0\nioctl r0 0x770c 0\n', 'c-final', { ...GUEST, ioctlEmulation: 'qemu-user' });
    assert.deepEqual(r.slice(1).map((x) => x.ret ?? x.errno ?? x.error), ['unmodelled', 0, 'ENOSYS']);
  });

  it('FIFREEZE through a process that dropped CAP_SYS_ADMIN is EPERM even as root', () => {
    const r = run('open r0\nioctl r0 0xc0045877 0\ndrop_cap sys_admin\nioctl r0 0xc0045877 0\n');
    assert.deepEqual([r[1]?.errno, r[3]?.errno], ['EOPNOTSUPP', 'EPERM']);
  });
});

/** A value as plain JSON data (the model's `Ret` answers are class instances). */
function plain(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x)) as unknown;
}

describe('issue 12 §4: the new ops in the model', () => {
  it('lseek with negative offsets: SEEK_CUR/SEEK_END go back, a negative result is EINVAL, SEEK_DATA/HOLE of a negative offset ENXIO (§3.9)', () => {
    const r = run('open r0\nset_size r0 10000\nmmap m0 r0 12288 3 shared 0\nfill m0 0 10000 7\nlseek r0 100 set\nlseek r0 -50 cur\nlseek r0 -51 cur\nlseek r0 -10 end\nlseek r0 -1 set\nlseek r0 -1 data\nlseek r0 -1 hole\nlseek r0 0 cur\n');
    assert.deepEqual(r.slice(4).map((x) => x.ret ?? x.errno), [100, 50, 'EINVAL', 9990, 'EINVAL', 'ENXIO', 'ENXIO', 9990]);
  });

  it('drop_cap sys_admin: PURGE_ALL_CACHES is EPERM in that process and its later children, not in the parent (§3.7)', () => {
    const r = run('open r0\nfork p1\np1: drop_cap sys_admin\np1: purge_all r0\nfork p2\npurge_all r0\nexit p1\n');
    assert.deepEqual(r.map((x) => x.ret ?? x.errno), [0, 0, 0, 'EPERM', 0, 0, 0]);
    const inherited = run('open r0\ndrop_cap sys_admin\nfork p1\np1: purge_all r0\ndrop_caches\n');
    assert.deepEqual(inherited.map((x) => x.ret ?? x.errno), [0, 0, 0, 'EPERM', 0]); // drop_caches checks the uid, not the capability
  });

  it('set_name_at_page_end: a fixed 256-byte copy faults (C-orig), strncpy does not (§3.2)', () => {
    const text = 'open r0\nset_name_at_page_end r0 "abc"\nget_name r0\nset_name_at_page_end r0 "x"*300\nget_name r0\n';
    const orig = run(text, 'c-orig');
    assert.deepEqual(orig.map((x) => x.ret ?? x.errno), [0, 'EFAULT', 0, 0, 0]);
    assert.equal(orig[2]?.name, 'dev/ashmem');
    assert.equal(orig[4]?.name, 'x'.repeat(255));
    const final = run(text, 'c-final');
    assert.deepEqual([final[1]?.ret, final[2]?.name], [0, 'abc']);
  });

  it('ioctl_buf: a valid pointer reaches the driver as its struct (PIN/UNPIN/GET_PIN_STATUS, SET_NAME, GET_NAME)', () => {
    const r = run('open r0\nioctl_buf r0 0x41007701 "hi"\nget_name r0\nset_size r0 16384\nmmap m0 r0 16384 3 shared 0\nioctl_buf r0 0x40087708 "\\x00\\x10\\x00\\x00\\x00\\x20\\x00\\x00"\nioctl_buf r0 0x7709 "\\x00\\x10\\x00\\x00\\x00\\x10\\x00\\x00"\nioctl_buf r0 0x7709 ""\nioctl_buf r0 0x40087705 ""\nioctl_buf r0 0x81007702 ""\nioctl r0 0x7709 0\n');
    assert.equal(r[2]?.name, 'hi');
    assert.deepEqual(r.slice(5).map((x) => x.ret ?? x.errno), [0, 0, 0, 'EINVAL', 0, 'EFAULT']);
  });

  it('ioctl_buf of SET_SIZE before the first mmap is unmodelled (the size would be an address), EINVAL after', () => {
    const r = run('open r0\nioctl_buf r0 0x40087703 ""\nset_size r0 4096\nmmap m0 r0 4096 3 shared 0\nioctl_buf r0 0x40087703 ""\n');
    assert.equal(r[1]?.error, 'unmodelled');
    assert.equal(r[4]?.errno, 'EINVAL');
  });

  it('munmap_range: the pages become holes (SIGSEGV, mincore ENOMEM), alignment and length are checked, the rest stays mapped', () => {
    const r = run('open r0\nset_size r0 16384\nmmap m0 r0 16384 3 shared 0\nfill m0 0 16384 9\nmunmap_range m0 4096 4096\ncheck m0 0 4096\ncheck m0 4096 1\nfill m0 8192 1 1\nmincore m0 0 4096\nmincore m0 0 8192\nmunmap_range m0 1 4096\nmunmap_range m0 0 0\nmunmap_range m0 0 20000\nmunmap m0\n');
    assert.deepEqual(r.slice(4).map((x) => x.ret ?? x.errno ?? x.signal ?? x.error), [0, 0, 'SIGSEGV', 0, 0, 'ENOMEM', 'EINVAL', 'EINVAL', 'state', 0]);
  });

  it('mprotect over a hole: ENOMEM; pages before the first hole change, a hole at the start changes nothing (mm/mprotect.c)', () => {
    const r = run('open r0\nset_size r0 16384\nmmap m0 r0 16384 3 shared 0\nmunmap_range m0 8192 4096\nmprotect m0 1\nfill m0 0 1 1\nfill m0 12288 1 1\nmunmap_range m0 0 4096\nmprotect m0 0\ncheck m0 4096 1\n');
    assert.deepEqual(r.slice(4).map((x) => x.ret ?? x.errno ?? x.signal), ['ENOMEM', 'SIGSEGV', 0, 0, 'ENOMEM', 0]);
  });

  it('a forked child gets its own copy of the holes', () => {
    const r = run('open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared 0\nfork p1\np1: munmap_range m0 0 4096\np1: check m0 0 1\ncheck m0 0 1\nexit p1\n');
    assert.deepEqual(r.slice(5).map((x) => x.ret ?? x.signal), ['SIGSEGV', 0, 0]);
  });
});
