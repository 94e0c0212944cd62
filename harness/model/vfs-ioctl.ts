/**
 * What the VFS answers for an ioctl on an ashmem fd before (or instead of) the driver (issue 12
 * §2; ashmem-semantics §1.4 says only what the driver answers).
 *
 * Read from `fs/ioctl.c` (`do_vfs_ioctl`, the ioctl and compat ioctl syscalls) of the 5.4-era
 * mainline text, the ACK 5.10 text and a 6.x text, and from `mm/shmem.c`. The file an ashmem fd
 * refers to is the device node: a character-device inode of the tmpfs/devtmpfs that holds /dev.
 * That decides every answer below:
 * - it is not S_ISREG, so FIBMAP, FIONREAD, FS_IOC_RESVSP* and the rest of `file_ioctl` never
 *   apply: they fall through to the driver's `unlocked_ioctl` (ENOIOCTLCMD → vfs_ioctl);
 * - its inode operations (`shmem_special_inode_operations`) have no `fiemap`, `fileattr_get` or
 *   `fileattr_set`, so FS_IOC_FIEMAP is EOPNOTSUPP, and the fileattr ioctls (moved into the VFS
 *   in 5.13) end in ENOIOCTLCMD, i.e. the driver answers, except that SETFLAGS/FSSETXATTR read
 *   their argument first (EFAULT for a bad pointer). (6.17's fs/file_attr.c returns EOPNOTSUPP
 *   from vfs_fileattr_get/set but translates it back to ENOIOCTLCMD for these ioctls.)
 * - its superblock (tmpfs) has a block size (FIGETBSZ writes PAGE_SIZE) and no freeze_fs
 *   (FIFREEZE: EOPNOTSUPP; FITHAW of an unfrozen sb: EINVAL), both behind CAP_SYS_ADMIN (EPERM);
 * - ashmem's file operations have no `fasync`: FIOASYNC that would turn O_ASYNC on is ENOTTY
 *   (the VFS's own ENOTTY, in every lineage).
 * The 32-bit compat syscall gives the same answers: its special cases (FICLONE, the x86-64
 * FS_IOC_RESVSP_32 family, FS_IOC32_[GS]ETFLAGS on 5.13+) either reach the same code or are
 * left unmodelled here; an unknown command goes to the driver's compat_ioctl, which answers as
 * its native ioctl does.
 * Version dependence is taken from the target's kernel version when known; when it is not, every
 * answer some version gives is admissible.
 */
import { fail, ok, type Answer } from './answer.js';

/** Numbers of the VFS-level commands, in the asm-generic layout. */
export const VFS_IOCTL = {
  FIBMAP: 0x1,
  FIGETBSZ: 0x2,
  FIONBIO: 0x5421,
  FIONREAD: 0x541b,
  FIONCLEX: 0x5450,
  FIOCLEX: 0x5451,
  FIOASYNC: 0x5452,
  FIOQSIZE: 0x5460,
  FIFREEZE: 0xc0045877,
  FITHAW: 0xc0045878,
  FS_IOC_FIEMAP: 0xc020660b,
  FICLONE: 0x40049409,
  FICLONERANGE: 0x4020940d,
  FIDEDUPERANGE: 0xc0189436,
  FS_IOC_GETFLAGS_64: 0x80086601,
  FS_IOC_SETFLAGS_64: 0x40086602,
  FS_IOC_GETFLAGS_32: 0x80046601,
  FS_IOC_SETFLAGS_32: 0x40046602,
  FS_IOC_FSGETXATTR: 0x801c581f,
  FS_IOC_FSSETXATTR: 0x401c5820,
  FS_IOC_GETFSUUID: 0x80111500,
  FS_IOC_GETFSSYSFSPATH: 0x80811501,
} as const;

/** x86-64 compat-only numbers (struct space_resv_32): handled before the driver on x86-64 kernels only. */
const X86_COMPAT_PREALLOCATE: ReadonlySet<number> = new Set([0x402c5828, 0x402c5829, 0x402c582a, 0x402c582b, 0x402c5839]);

/** What the caller and the kernel are, for one ioctl. */
export interface VfsContext {
  readonly callerBits: 32 | 64;
  readonly kernelBits: 32 | 64;
  /** [major, minor] of the running kernel, when the target reported it. */
  readonly kernelVersion: readonly [number, number] | undefined;
  /** The calling process holds CAP_SYS_ADMIN (root that has not dropped it). */
  readonly capSysAdmin: boolean;
  /** The argument's bytes when it points at a valid buffer (`ioctl_buf`); null for a plain value, taken as a faulting pointer. */
  readonly buffer: string | null;
}

/**
 * One admissible outcome of the VFS's part: the command reaches the driver's ioctl (`driver`),
 * the VFS answers it, or the model does not cover it (`unmodelled`, with the reason).
 */
export type VfsOutcome = 'driver' | { readonly answer: Answer } | { readonly unmodelled: string };

const DRIVER: readonly VfsOutcome[] = ['driver'];
const answer = (a: Answer): readonly VfsOutcome[] => [{ answer: a }];

/** True / false when the kernel version decides `>= major.minor`, undefined when it is not known. */
function atLeast(ctx: VfsContext, major: number, minor: number): boolean | undefined {
  const v = ctx.kernelVersion;
  if (v === undefined) return undefined;
  return v[0] > major || (v[0] === major && v[1] >= minor);
}

/** A version-dependent outcome: `newer` from `major.minor` on, `older` before; both when the version is unknown. */
function since(ctx: VfsContext, major: number, minor: number, newer: readonly VfsOutcome[], older: readonly VfsOutcome[]): readonly VfsOutcome[] {
  const v = atLeast(ctx, major, minor);
  if (v === true) return newer;
  if (v === false) return older;
  return [...newer, ...older];
}

/** A pointer argument the kernel reads or writes first: EFAULT for a plain value, else `then`. */
function viaPointer(ctx: VfsContext, then: readonly VfsOutcome[]): readonly VfsOutcome[] {
  return ctx.buffer === null ? answer(fail('EFAULT')) : then;
}

/** The little-endian int at the start of the buffer (zero-filled past the given bytes). */
function intArg(buffer: string): number {
  let v = 0;
  for (let i = 0; i < 4 && i < buffer.length; i++) v |= (buffer.charCodeAt(i) & 0xff) << (8 * i);
  return v | 0;
}

/**
 * The admissible outcomes of the VFS's part for `cmd` (the 32-bit number the kernel switches
 * on) on an ashmem fd: one, unless the kernel version (or the mount) leaves it open.
 */
export function vfsIoctl(cmd: number, ctx: VfsContext): readonly VfsOutcome[] {
  const compat = ctx.callerBits === 32 && ctx.kernelBits === 64;
  const setflags = ctx.kernelBits === 64 ? VFS_IOCTL.FS_IOC_SETFLAGS_64 : VFS_IOCTL.FS_IOC_SETFLAGS_32;
  // The fileattr ioctls (5.13+) read the argument before finding no fileattr_set on this inode.
  const readsThenDriver = (): readonly VfsOutcome[] => since(ctx, 5, 13, viaPointer(ctx, DRIVER), DRIVER);
  switch (cmd) {
    case VFS_IOCTL.FIOCLEX:
    case VFS_IOCTL.FIONCLEX:
      return answer(ok(0));
    case VFS_IOCTL.FIONBIO:
      return viaPointer(ctx, answer(ok(0)));
    case VFS_IOCTL.FIOASYNC:
      // O_ASYNC starts clear; turning it on needs f_op->fasync, which ashmem lacks.
      return viaPointer(ctx, answer(ctx.buffer !== null && intArg(ctx.buffer) !== 0 ? fail('ENOTTY') : ok(0)));
    case VFS_IOCTL.FIOQSIZE:
      return answer(fail('ENOTTY')); // only directories, regular files and symlinks have a size here
    case VFS_IOCTL.FIFREEZE:
      return answer(fail(ctx.capSysAdmin ? 'EOPNOTSUPP' : 'EPERM'));
    case VFS_IOCTL.FITHAW:
      return answer(fail(ctx.capSysAdmin ? 'EINVAL' : 'EPERM'));
    case VFS_IOCTL.FS_IOC_FIEMAP:
      return answer(fail('EOPNOTSUPP')); // checked before the argument is read
    case VFS_IOCTL.FIGETBSZ:
      return viaPointer(ctx, answer(ok(0)));
    case VFS_IOCTL.FICLONE:
      return [{ unmodelled: 'FICLONE takes its argument as a source fd, and the fds the probe holds are not modelled' }];
    case VFS_IOCTL.FICLONERANGE:
    case VFS_IOCTL.FIDEDUPERANGE:
      return viaPointer(ctx, [{ unmodelled: 'the clone/dedupe request names another fd, which is not modelled' }]);
    case VFS_IOCTL.FS_IOC_FSSETXATTR:
      return readsThenDriver();
    case VFS_IOCTL.FS_IOC_GETFSUUID:
      // The 2024 "filesystem visibility" ioctls (first release ≈6.9, UNVERIFIED: admitted from
      // 6.8 on). A superblock without a uuid: ENOIOCTLCMD (the driver) as merged, ENOTTY in a
      // later text; with one, a copy to the argument. Which tmpfs has a uuid depends on the
      // version and the mount, so all are admitted.
      return since(ctx, 6, 8, [...DRIVER, { answer: fail('ENOTTY') }, ...viaPointer(ctx, answer(ok(0)))], DRIVER);
    case VFS_IOCTL.FS_IOC_GETFSSYSFSPATH:
      // Same series: ENOIOCTLCMD (the driver) without a sysfs name, else a copy to the argument.
      return since(ctx, 6, 8, [...DRIVER, ...viaPointer(ctx, answer(ok(0)))], DRIVER);
    default:
      break;
  }
  if (cmd === setflags) return readsThenDriver();
  if (compat) {
    // 5.13+ rewrites FS_IOC32_SETFLAGS to the native number before the common switch.
    if (cmd === VFS_IOCTL.FS_IOC_SETFLAGS_32) return readsThenDriver();
    if (X86_COMPAT_PREALLOCATE.has(cmd)) return [{ unmodelled: 'x86-64 kernels preallocate for this 32-bit number before the driver; the model does not know the architecture' }];
  }
  return DRIVER;
}
