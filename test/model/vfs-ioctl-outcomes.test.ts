/**
 * The VFS's part of an ioctl on an ashmem fd (harness/model/vfs-ioctl.ts, from fs/ioctl.c as
 * the module's header cites it): which numbers the VFS answers itself, which reach the driver,
 * and which the model leaves unmodelled. Kills mutation survivors of that file.
 */
import assert from 'node:assert/strict';
import { VFS_IOCTL, vfsIoctl, type VfsContext, type VfsOutcome } from '../../harness/model/vfs-ioctl.js';

/** Each outcome as 'driver', 'unmodelled', or the answer's errno / ret. */
function brief(os: readonly VfsOutcome[]): (string | number)[] {
  return os.map((o) => {
    if (o === 'driver') return 'driver';
    if ('unmodelled' in o) return 'unmodelled';
    const a = o.answer as { errno?: string; ret?: number };
    return a.errno ?? a.ret ?? 'none';
  });
}

const CTX: VfsContext = { callerBits: 64, kernelBits: 64, kernelVersion: [6, 1], capSysAdmin: true, buffer: null };
const ctx = (over: Partial<VfsContext>): VfsContext => ({ ...CTX, ...over });

describe('VFS ioctl outcomes on an ashmem fd', () => {
  it('FIOASYNC reads a 4-byte int: only its first four bytes decide; nonzero turns O_ASYNC on, ENOTTY without fasync', () => {
    assert.deepEqual(brief(vfsIoctl(VFS_IOCTL.FIOASYNC, ctx({ buffer: '\x00\x00\x00\x00\x01' }))), [0]);
    assert.deepEqual(brief(vfsIoctl(VFS_IOCTL.FIOASYNC, ctx({ buffer: '\x00\x01' }))), ['ENOTTY']);
    assert.deepEqual(brief(vfsIoctl(VFS_IOCTL.FIOASYNC, ctx({ buffer: '\x00' }))), [0]);
    assert.deepEqual(brief(vfsIoctl(VFS_IOCTL.FIOASYNC, ctx({}))), ['EFAULT']);
  });

  it('FICLONE and the clone/dedupe ranges are unmodelled (they name another fd); the ranges fault first', () => {
    const clone = vfsIoctl(VFS_IOCTL.FICLONE, CTX);
    assert.equal(clone.length, 1);
    assert.match(String((clone[0] as { unmodelled: string }).unmodelled), /FICLONE/);
    const dedupe = vfsIoctl(VFS_IOCTL.FIDEDUPERANGE, ctx({ buffer: 'x' }));
    assert.match(String((dedupe[0] as { unmodelled: string }).unmodelled), /dedupe/);
    assert.deepEqual(brief(vfsIoctl(VFS_IOCTL.FIDEDUPERANGE, CTX)), ['EFAULT']);
  });

  it('FS_IOC_GETFSSYSFSPATH: only the driver before 6.8; from 6.8 the driver or a copy to the argument', () => {
    assert.deepEqual(brief(vfsIoctl(VFS_IOCTL.FS_IOC_GETFSSYSFSPATH, ctx({ kernelVersion: [6, 1] }))), ['driver']);
    assert.deepEqual(brief(vfsIoctl(VFS_IOCTL.FS_IOC_GETFSSYSFSPATH, ctx({ kernelVersion: [6, 8], buffer: 'x' }))), ['driver', 0]);
    assert.deepEqual(brief(vfsIoctl(VFS_IOCTL.FS_IOC_GETFSSYSFSPATH, ctx({ kernelVersion: [5, 9], buffer: 'x' }))), ['driver']);
  });

  it('FITHAW: EPERM without CAP_SYS_ADMIN, EINVAL with it (nothing frozen)', () => {
    assert.deepEqual(brief(vfsIoctl(VFS_IOCTL.FITHAW, ctx({ capSysAdmin: false }))), ['EPERM']);
    assert.deepEqual(brief(vfsIoctl(VFS_IOCTL.FITHAW, CTX)), ['EINVAL']);
  });

  it('fileattr set ioctls read their argument from 5.13 on (EFAULT for a bad pointer), else reach the driver', () => {
    assert.deepEqual(brief(vfsIoctl(VFS_IOCTL.FS_IOC_FSSETXATTR, CTX)), ['EFAULT']);
    assert.deepEqual(brief(vfsIoctl(VFS_IOCTL.FS_IOC_FSSETXATTR, ctx({ kernelVersion: [5, 10] }))), ['driver']);
    // A 32-bit kernel's SETFLAGS is the 32-bit number.
    assert.deepEqual(brief(vfsIoctl(VFS_IOCTL.FS_IOC_SETFLAGS_32, ctx({ callerBits: 32, kernelBits: 32 }))), ['EFAULT']);
  });

  it('only a 32-bit caller on a 64-bit kernel meets the x86-64 compat preallocation numbers', () => {
    const prealloc = 0x402c5828;
    assert.deepEqual(brief(vfsIoctl(prealloc, ctx({ callerBits: 32 }))), ['unmodelled']);
    assert.deepEqual(brief(vfsIoctl(prealloc, ctx({ callerBits: 32, kernelBits: 32 }))), ['driver']);
    assert.deepEqual(brief(vfsIoctl(prealloc, CTX)), ['driver']);
    assert.deepEqual(brief(vfsIoctl(0x12345678, ctx({ callerBits: 32 }))), ['driver']);
  });
});
