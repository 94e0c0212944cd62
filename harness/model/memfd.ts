/**
 * Regions that are memfds (§6 memfd-shim row, §7.1 memfd mode, §7.2 host): an ordinary shmem
 * file with seals. Without the ACK shim every ashmem ioctl is ENOTTY; with it the kernel
 * answers them from the memfd (sizes from i_size, prot from write seals, pinning stubbed).
 */
import type { Whence } from '../ops/ast.js';
import type { Area} from './area.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE, SEAL } from './area.js';
import { type Backing, writePage } from './backing.js';
import { commandArg, ioctlCall, seekFile } from './driver.js';
import { decodeCommand, VFS_COMMANDS } from './ioctl.js';
import { fail, ok, syscallReturn, UNMODELLED, type Answer } from './answer.js';
// The driver sees the kernel through its interface, never the kernel class that calls it.
import { hasSysAdmin, type KernelState as Kernel, type Proc } from './kernel-state.js';
import { IS_PINNED, NOT_PURGED } from './pinning.js';

/** The name the probe gives its memfds (memfd_create("ashmem", ...)). */
export const MEMFD_NAME = 'ashmem';

type IoctlOp = Parameters<typeof ioctlCall>[0];

/** ioctl on a memfd. */
export function ioctl(k: Kernel, proc: Proc, area: Area, op: IoctlOp): Answer {
  const { cmd, arg: raw } = ioctlCall(op, k.env.callerBits);
  if (cmd === VFS_COMMANDS.FIOCLEX || cmd === VFS_COMMANDS.FIONCLEX) return ok(0);
  if (((cmd >>> 8) & 0xff) !== 0x77) return { error: UNMODELLED, message: `ioctl 0x${cmd.toString(16)} on a memfd reaches the VFS, which the model does not cover` };
  if (!k.features.memfdShim) return fail('ENOTTY');
  const command = decodeCommand(cmd, k.env.callerBits, k.env.kernelBits, k.features.compat);
  const arg = command === undefined ? raw : commandArg(op, command, raw);
  const b = area.file as Backing;
  switch (command) {
    case undefined: return fail('ENOTTY');
    case 'SET_NAME': case 'SET_SIZE': return fail('EINVAL');
    case 'GET_NAME':
      if (!('buffer' in arg)) return fail('EFAULT');
      return { ret: 0, name: MEMFD_NAME, copied: MEMFD_NAME.length + 1 };
    case 'GET_SIZE': return syscallReturn(b.iSize);
    case 'GET_PROT_MASK': return ok(PROT_READ | PROT_EXEC | (area.seals & (SEAL.FUTURE_WRITE | SEAL.WRITE) ? 0 : PROT_WRITE));
    case 'SET_PROT_MASK': {
      const prot = 'value' in arg ? BigInt.asUintN(k.env.callerBits, arg.value) : 0n;
      if ((prot & ~7n) !== 0n) return fail('EINVAL');
      const sealed = (area.seals & (SEAL.FUTURE_WRITE | SEAL.WRITE)) !== 0;
      if ((prot & BigInt(PROT_WRITE)) !== 0n) return sealed ? fail('EINVAL') : ok(0);
      if (!sealed) {
        if (area.seals & SEAL.SEAL) return fail('EPERM');
        area.seals |= SEAL.FUTURE_WRITE;
      }
      return ok(0);
    }
    case 'PIN': case 'UNPIN': return ok(NOT_PURGED);
    case 'GET_PIN_STATUS': return ok(IS_PINNED);
    case 'PURGE_ALL_CACHES': return hasSysAdmin(k.env, proc) ? ok(0) : fail('EPERM');
    case 'GET_FILE_ID': return 'buffer' in arg ? ok(0) : fail('EFAULT');
  }
}

/** memfd mmap: only the write seals can refuse (mm/shmem.c, mm/memfd.c). */
export function mmap(area: Area, shared: boolean, prot: number): { mayProt: number } | { errno: string } {
  const sealed = (area.seals & (SEAL.WRITE | SEAL.FUTURE_WRITE)) !== 0;
  if (shared && sealed && (prot & PROT_WRITE) !== 0) return { errno: 'EPERM' };
  return { mayProt: shared && sealed ? 7 & ~PROT_WRITE : 7 };
}

/** write(2) of zeros at the file position. */
export function write(area: Area, len: number): Answer {
  const b = area.file as Backing;
  if (area.seals & (SEAL.WRITE | SEAL.FUTURE_WRITE)) return fail('EPERM');
  const end = area.pos + BigInt(len);
  if (end > b.iSize && area.seals & SEAL.GROW) return fail('EPERM');
  const ps = b.pageSize;
  let x = Number(area.pos);
  const stop = Number(end);
  while (x < stop) {
    const p = Math.floor(x / ps);
    const to = Math.min(ps, stop - p * ps);
    b.pages.set(p, writePage(b.pages.get(p), x - p * ps, to, 0, ps));
    x = p * ps + to;
  }
  if (end > b.iSize) b.iSize = end;
  area.pos = end;
  return ok(len);
}

/** lseek on a memfd: plain shmem. */
export function lseek(area: Area, offset: number, whence: Whence): Answer {
  return seekFile(area, area.file as Backing, offset, whence);
}

/** ftruncate on a memfd. */
export function truncate(area: Area, size: bigint): Answer {
  if (!area.writable) return fail('EINVAL');
  const b = area.file as Backing;
  if (size < b.iSize && area.seals & SEAL.SHRINK) return fail('EPERM');
  if (size > b.iSize && area.seals & SEAL.GROW) return fail('EPERM');
  b.truncate(size);
  return ok(0);
}

/** fcntl(F_ADD_SEALS). */
export function addSeals(k: Kernel, area: Area, seals: number): Answer {
  if (!area.writable) return fail('EPERM');
  if ((seals & ~0x1f) !== 0) return fail('EINVAL');
  if (area.seals & SEAL.SEAL) return fail('EPERM');
  if (seals & SEAL.WRITE && k.hasWritableSharedMapping(area.file as Backing)) return fail('EBUSY');
  area.seals |= seals;
  return ok(0);
}

