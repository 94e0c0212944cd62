/**
 * The ashmem driver's entry points on an area (§3): ioctl with the exact check order of each
 * lineage, mmap (§3.5) and llseek (§3.9). The list walks are in `pinning.ts`.
 */
import type { KernelOp, PinKind, Whence } from '../ops/ast.js';
import type { Area} from './area.js';
import { PROT_EXEC, PROT_MASK, PROT_READ } from './area.js';
import { Backing } from './backing.js';
import { decodeCommand, nativeNumber, VFS_COMMANDS, type AshmemCommand } from './ioctl.js';
import { fail, ok, syscallReturn, UNMODELLED, type Answer } from './answer.js';
// The driver sees the kernel through its interface, never the kernel class that calls it.
import type { KernelState as Kernel, Proc } from './kernel-state.js';
import { IS_PINNED, NOT_PURGED, pin, pinStatus, unpin } from './pinning.js';

/** ASHMEM_NAME_LEN and the default name (§1.1). */
export const NAME_LEN = 256;
export const NAME_DEF = 'dev/ashmem';

/** Largest loff_t: a backing file cannot be larger (MAX_LFS_FILESIZE). */
const MAX_LFS = (1n << 63n) - 1n;

type IoctlOp = Exclude<KernelOp, { kind: 'open' | 'close' | 'dup' | 'mmap' | 'munmap' | 'mprotect' | 'fill' | 'check' | 'mincore' | 'personality' | 'drop_caches' | 'pressure' | 'fork' | 'exit' | 'read' | 'write' | 'lseek' | 'fstat' | 'truncate' | 'add_seals' | 'get_seals' }>;

/** The argument an ioctl op passes: a value, a valid pointer to data, or a faulting pointer. */
type Arg = { value: bigint } | { pin: { offset: number; len: number } } | { name: string } | { buffer: true } | { fault: true };

/** Turns a named or raw ioctl op into (command number, argument), as the probe issues it. */
export function ioctlCall(op: IoctlOp, bits: 32 | 64): { cmd: number; arg: Arg } {
  const n = bits === 64 ? n64 : n32;
  switch (op.kind) {
    case 'set_name': return { cmd: n('SET_NAME'), arg: { name: op.name } };
    case 'set_name_null': return { cmd: n('SET_NAME'), arg: { fault: true } };
    case 'get_name': return { cmd: n('GET_NAME'), arg: { buffer: true } };
    case 'get_name_null': return { cmd: n('GET_NAME'), arg: { fault: true } };
    case 'set_size': return { cmd: n('SET_SIZE'), arg: { value: op.size } };
    case 'get_size': return { cmd: n('GET_SIZE'), arg: { value: 0n } };
    case 'set_prot': return { cmd: n('SET_PROT_MASK'), arg: { value: op.prot } };
    case 'get_prot': return { cmd: n('GET_PROT_MASK'), arg: { value: 0n } };
    case 'pin': case 'unpin': case 'status':
      return { cmd: n(PIN_COMMAND[op.kind]), arg: { pin: { offset: op.offset, len: op.len } } };
    case 'pin_null': return { cmd: n('PIN'), arg: { fault: true } };
    case 'unpin_null': return { cmd: n('UNPIN'), arg: { fault: true } };
    case 'status_null': return { cmd: n('GET_PIN_STATUS'), arg: { fault: true } };
    case 'purge_all': return { cmd: n('PURGE_ALL_CACHES'), arg: { value: 0n } };
    case 'file_id': return { cmd: n('GET_FILE_ID'), arg: { buffer: true } };
    case 'file_id_null': return { cmd: n('GET_FILE_ID'), arg: { fault: true } };
    // A raw argument is a plain number: as a pointer it is taken to be unmapped (docs/op-scripts.md).
    case 'ioctl': return { cmd: Number(BigInt.asUintN(32, op.cmd)), arg: { value: op.arg } };
  }
}

function n64(name: AshmemCommand): number {
  return nativeNumber(name, 64);
}
function n32(name: AshmemCommand): number {
  return nativeNumber(name, 32);
}

const PIN_COMMAND = { pin: 'PIN', unpin: 'UNPIN', status: 'GET_PIN_STATUS' } as const satisfies Record<PinKind, AshmemCommand>;

/** Commands whose argument is a pointer. */
const POINTER_COMMANDS: ReadonlySet<AshmemCommand> = new Set(['SET_NAME', 'GET_NAME', 'PIN', 'UNPIN', 'GET_PIN_STATUS', 'GET_FILE_ID']);

/** The value the driver sees for a value argument: `unsigned long` of the caller (compat zero-extends). */
function argValue(arg: Arg, bits: 32 | 64): bigint {
  return 'value' in arg ? BigInt.asUintN(bits, arg.value) : 0n;
}

/** ioctl on an ashmem area. */
export function ioctl(k: Kernel, proc: Proc, area: Area, op: IoctlOp, choice: number | undefined): Answer {
  const { cmd, arg: rawArg } = ioctlCall(op, k.env.callerBits);
  if (cmd === VFS_COMMANDS.FIOCLEX || cmd === VFS_COMMANDS.FIONCLEX) return ok(0);
  const command = decodeCommand(cmd, k.env.callerBits, k.env.kernelBits, k.features.compat);
  if (command === undefined) {
    if (((cmd >>> 8) & 0xff) !== 0x77) return { error: UNMODELLED, message: `ioctl 0x${cmd.toString(16)} is not an ashmem command; the VFS may answer it` };
    return fail(k.features.unknownIoctl);
  }
  const arg: Arg = op.kind === 'ioctl' && POINTER_COMMANDS.has(command) ? { fault: true } : rawArg;
  const f = k.features;
  switch (command) {
    case 'SET_NAME': return setName(k, area, arg);
    case 'GET_NAME': return getName(k, area, arg);
    case 'SET_SIZE':
      if (area.file !== null) return fail('EINVAL');
      area.size = argValue(arg, k.env.callerBits);
      return ok(0);
    case 'GET_SIZE':
      return syscallReturn(area.size);
    case 'SET_PROT_MASK': return setProt(k, proc, area, argValue(arg, k.env.callerBits));
    case 'GET_PROT_MASK':
      return ok(area.protMask);
    case 'PIN': case 'UNPIN': case 'GET_PIN_STATUS':
      if (f.pinning === 'stub') return ok(command === 'GET_PIN_STATUS' ? IS_PINNED : NOT_PURGED);
      return pinUnpin(k, area, command, arg);
    case 'PURGE_ALL_CACHES': {
      if (f.pinning === 'stub') return ok(0);
      if (!k.env.root) return fail('EPERM');
      const count = k.lru.count;
      k.purge(choice ?? k.lru.length);
      return syscallReturn(BigInt(count));
    }
    case 'GET_FILE_ID':
      if (!f.fileId) return fail(f.unknownIoctl);
      if (area.file === null) return fail('EINVAL');
      if ('fault' in arg) return fail('EFAULT');
      return ok(0);
  }
}

/** §3.2 SET_NAME. */
function setName(k: Kernel, area: Area, arg: Arg): Answer {
  const f = k.features;
  if (f.setNameCopy === 'full-256' && area.file !== null) return fail('EINVAL'); // C-orig: file check first
  if (!('name' in arg)) return fail('EFAULT');
  const nul = arg.name.indexOf('\0');
  const terminated = nul >= 0 ? nul : arg.name.length; // the probe appends a NUL
  if (terminated >= NAME_LEN && f.nameWithoutNul === 'einval') return fail('EINVAL');
  const name = arg.name.slice(0, Math.min(terminated, NAME_LEN - 1));
  if (area.file !== null) return fail('EINVAL');
  area.name = name;
  return ok(0);
}

/** §3.2 GET_NAME: copies strlen+1 bytes, or "dev/ashmem\0". */
function getName(k: Kernel, area: Area, arg: Arg): Answer {
  const unnamed = area.name === null || (area.name === '' && k.features.emptyName === 'default');
  const name = unnamed ? NAME_DEF : (area.name as string);
  if (!('buffer' in arg)) return fail('EFAULT');
  return { ret: 0, name, copied: name.length + 1 };
}

/** §3.4 SET_PROT_MASK. */
function setProt(k: Kernel, proc: Proc, area: Area, value: bigint): Answer {
  let prot = value;
  const rie = proc.readImpliesExec && (prot & BigInt(PROT_READ)) !== 0n;
  if (rie && k.features.readImpliesExec === 'before-check') prot |= BigInt(PROT_EXEC);
  if ((BigInt(area.protMask) & prot) !== prot) return fail('EINVAL');
  if (rie && k.features.readImpliesExec === 'after-check') prot |= BigInt(PROT_EXEC);
  area.protMask = Number(prot);
  return ok(0);
}

/** A PIN/UNPIN/GET_PIN_STATUS with a valid argument (the model's hot path). */
export function pinRequest(k: Kernel, area: Area, kind: PinKind, offset: number, len: number): Answer {
  if (area.file === null) return fail('EINVAL'); // the argument is valid, so both check orders agree
  if (area.alignedSize <= Number.MAX_SAFE_INTEGER) return pinChecked(k, area, PIN_COMMAND[kind], offset, len);
  return pinUnpin(k, area, PIN_COMMAND[kind], { pin: { offset, len } });
}

/** §3.6 argument checks in the lineage's order, then the §4 list walk. */
function pinUnpin(k: Kernel, area: Area, command: 'PIN' | 'UNPIN' | 'GET_PIN_STATUS', arg: Arg): Answer {
  const pre2019 = k.features.pinCheckOrder === 'pre2019';
  if (pre2019 && area.file === null) return fail('EINVAL');
  if (!('pin' in arg)) return fail('EFAULT');
  if (!pre2019 && area.file === null) return fail('EINVAL');
  if (area.alignedSize <= Number.MAX_SAFE_INTEGER) return pinChecked(k, area, command, arg.pin.offset, arg.pin.len);
  const aligned = k.pageAlign(area.size);
  const offset = BigInt(arg.pin.offset);
  let len = BigInt(arg.pin.len);
  if (len === 0n) {
    const word = BigInt.asUintN(k.env.kernelBits, aligned - offset);
    len = k.features.lenZeroWidth === 'u32' ? BigInt.asUintN(32, word) : word;
  }
  const pageMask = BigInt(k.env.pageSize - 1);
  if (((offset | len) & pageMask) !== 0n) return fail('EINVAL');
  if (k.features.lenZeroWidth === 'u32' && 0xffff_ffffn - offset < len) return fail('EINVAL');
  if (aligned < offset + len) return fail('EINVAL');
  const ps = BigInt(k.env.pageSize);
  const s = Number(offset / ps);
  const e = s + Number(len / ps) - 1;
  return walk(k, area, command, s, e);
}

function walk(k: Kernel, area: Area, command: 'PIN' | 'UNPIN' | 'GET_PIN_STATUS', s: number, e: number): Answer {
  if (command === 'PIN') return ok(pin(area, k.lru, s, e));
  if (command === 'UNPIN') return ok(unpin(area, k.lru, s, e));
  return ok(pinStatus(area, s, e));
}

/**
 * The same checks in plain numbers, exact while PAGE_ALIGN(size) fits in 2^53 (always, for a
 * region that could be mapped on a real machine); the bigint path covers the rest.
 */
function pinChecked(k: Kernel, area: Area, command: 'PIN' | 'UNPIN' | 'GET_PIN_STATUS', offset: number, len0: number): Answer {
  const aligned = area.alignedSize;
  let len = len0;
  if (len === 0) {
    const d = aligned - offset;
    if (d < 0) return fail('EINVAL'); // wraps to a huge length: fails the bounds check in C and Rust
    len = k.features.lenZeroWidth === 'u32' ? d % 4294967296 : d;
  }
  const ps = k.env.pageSize;
  if (offset % ps !== 0 || len % ps !== 0) return fail('EINVAL');
  if (k.features.lenZeroWidth === 'u32' && 0xffff_ffff - offset < len) return fail('EINVAL');
  if (aligned < offset + len) return fail('EINVAL');
  const s = offset / ps;
  return walk(k, area, command, s, s + len / ps - 1);
}

/** §3.5 ashmem_mmap, after the generic checks: returns the VM_MAY bits it leaves. */
export function mmap(k: Kernel, area: Area, len: number, prot: number): { mayProt: number } | { errno: string } {
  if (area.size === 0n) return fail('EINVAL') as { errno: string };
  if (k.features.mmapLengthCheck && k.pageAlign(BigInt(len)) > k.pageAlign(area.size)) return { errno: 'EINVAL' };
  if ((prot & PROT_MASK & ~area.protMask) !== 0) return { errno: 'EPERM' };
  if (area.file === null) {
    if (area.size > MAX_LFS) return { errno: 'EINVAL' }; // shmem_file_setup refuses a negative loff_t
    area.file = new Backing(k.nextIno++, area.size, k.env.pageSize);
    // Size is frozen from here on (§3.3): keep PAGE_ALIGN(size) for the pin checks.
    const aligned = k.pageAlign(area.size);
    area.alignedSize = aligned > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(aligned);
  }
  return { mayProt: area.protMask };
}

/** §3.9 llseek. */
export function lseek(k: Kernel, area: Area, offset: number, whence: Whence): Answer {
  if (area.size === 0n) return fail('EINVAL');
  if (area.file === null) return fail('EBADF');
  if (k.features.lseekNeedsFmodeLseek && !k.env.kernelSeeksWithoutFmode) return fail('ESPIPE');
  return seekFile(area, area.file, offset, whence);
}

/** shmem's llseek on a backing file: SEEK_SET/CUR/END and SEEK_DATA/SEEK_HOLE over its pages. */
export function seekFile(area: Area, b: Backing, offset: number, whence: Whence): Answer {
  const off = BigInt(offset);
  let pos: bigint;
  if (whence === 'set' || whence === 'cur' || whence === 'end') {
    pos = (whence === 'set' ? 0n : whence === 'cur' ? area.pos : b.iSize) + off;
    if (pos < 0n || pos > MAX_LFS) return fail('EINVAL');
  } else {
    if (off >= b.iSize) return fail('ENXIO');
    const ps = BigInt(b.pageSize);
    const limit = b.pageLimit();
    let p = Number(off / ps);
    const want = whence === 'data';
    while (p < limit && b.pages.has(p) !== want) p++;
    if (p >= limit) {
      if (want) return fail('ENXIO');
      pos = b.iSize;
    } else {
      const start = BigInt(p) * ps;
      pos = start > off ? start : off;
      if (pos > b.iSize) pos = b.iSize;
    }
  }
  area.pos = pos;
  return ok(Number(pos));
}
