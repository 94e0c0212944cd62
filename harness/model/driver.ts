/**
 * The ashmem driver's entry points on an area (§3): ioctl with the exact check order of each
 * lineage, mmap (§3.5) and llseek (§3.9). The list walks are in `pinning.ts`.
 */
import type { KernelOp, PinKind, Whence } from '../ops/ast.js';
import type { Area} from './area.js';
import { PROT_EXEC, PROT_MASK, PROT_READ } from './area.js';
import { Backing } from './backing.js';
import { decodeCommand, nativeNumber, type AshmemCommand } from './ioctl.js';
import { fail, ok, syscallReturn, UNMODELLED, type Answer } from './answer.js';
// The driver sees the kernel through its interface, never the kernel class that calls it.
import { hasSysAdmin, type KernelState as Kernel, type Proc } from './kernel-state.js';
import { IS_PINNED, NOT_PURGED, pin, pinStatus, unpin } from './pinning.js';
import { WRAPPED_END } from './range.js';
import { vfsIoctl, type VfsOutcome } from './vfs-ioctl.js';

/** ASHMEM_NAME_LEN and the default name (§1.1). */
export const NAME_LEN = 256;
export const NAME_DEF = 'dev/ashmem';

/** No charge refused: the world of a machine that commits what it is asked. */
const NO_REFUSAL = { file: false, transient: false } as const;

/** Largest loff_t: a backing file cannot be larger (MAX_LFS_FILESIZE). */
const MAX_LFS = (1n << 63n) - 1n;

type IoctlOp = Exclude<KernelOp, { kind: 'open' | 'close' | 'dup' | 'mmap' | 'munmap' | 'munmap_range' | 'mprotect' | 'fill' | 'check' | 'mincore' | 'personality' | 'drop_caches' | 'pressure' | 'fork' | 'exit' | 'drop_cap' | 'read' | 'write' | 'lseek' | 'fstat' | 'truncate' | 'add_seals' | 'get_seals' }>;

/**
 * The argument an ioctl op passes: a value, a valid pointer to data, or a faulting pointer.
 * `name.atPageEnd`: the name and its NUL end a readable page (set_name_at_page_end); `bytes`:
 * a valid pointer to these bytes in zeroed memory of at least a page (ioctl_buf).
 */
export type Arg = { value: bigint } | { pin: { offset: number; len: number } } | { name: string; atPageEnd?: true } | { buffer: true } | { fault: true } | { bytes: string };

/** Turns a named or raw ioctl op into (command number, argument), as the probe issues it. */
export function ioctlCall(op: IoctlOp, bits: 32 | 64): { cmd: number; arg: Arg } {
  const n = bits === 64 ? n64 : n32;
  switch (op.kind) {
    case 'set_name': return { cmd: n('SET_NAME'), arg: { name: op.name } };
    case 'set_name_at_page_end': return { cmd: n('SET_NAME'), arg: { name: op.name, atPageEnd: true } };
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
    case 'ioctl_buf': return { cmd: Number(BigInt.asUintN(32, op.cmd)), arg: { bytes: op.bytes } };
  }
}

/**
 * A user-space address as a value: what SET_SIZE/SET_PROT_MASK see when `ioctl_buf` passes a
 * pointer to a value command. Any mapped address is at least mmap_min_addr (4096 or more), so it
 * has bits above PROT_MASK; its exact value is not known to the model.
 */
const SOME_POINTER = 1n << 16n;

/** The little-endian u32 at `at` of a byte string (zero past its end). */
function u32At(bytes: string, at: number): number {
  let v = 0;
  for (let i = 0; i < 4; i++) v += (bytes.charCodeAt(at + i) & 0xff) * 2 ** (8 * i); // NaN & 0xff is 0 past the end
  return v;
}

/**
 * The argument as the driver reads it for `command`: a raw ioctl's plain value is a faulting
 * pointer for the pointer commands; an `ioctl_buf` buffer is read as the command's struct.
 */
export function commandArg(op: IoctlOp, command: AshmemCommand, raw: Arg): Arg {
  if (op.kind === 'ioctl') return POINTER_COMMANDS.has(command) ? { fault: true } : raw;
  if (!('bytes' in raw)) return raw;
  switch (command) {
    case 'SET_NAME': return { name: raw.bytes };
    case 'PIN': case 'UNPIN': case 'GET_PIN_STATUS': return { pin: { offset: u32At(raw.bytes, 0), len: u32At(raw.bytes, 4) } };
    case 'GET_NAME': case 'GET_FILE_ID': return { buffer: true };
    default: return { value: SOME_POINTER };
  }
}

/** The VFS's admissible outcomes for an ioctl on an ashmem fd in this process (`vfs-ioctl.ts`). */
function vfsOutcomes(k: Kernel, proc: Proc, cmd: number, arg: Arg): readonly VfsOutcome[] {
  return vfsIoctl(cmd, {
    callerBits: k.env.callerBits,
    kernelBits: k.env.kernelBits,
    kernelVersion: k.env.kernelVersion,
    capSysAdmin: hasSysAdmin(k.env, proc),
    buffer: 'bytes' in arg ? arg.bytes : null,
  });
}

/** How many outcomes an ioctl op admits on an ashmem fd (the VFS's version-dependent answers). */
export function ioctlVariants(k: Kernel, proc: Proc, op: IoctlOp): number {
  const { cmd, arg } = ioctlCall(op, k.env.callerBits);
  return vfsOutcomes(k, proc, cmd, arg).length;
}

function n64(name: AshmemCommand): number {
  return nativeNumber(name, 64);
}
function n32(name: AshmemCommand): number {
  return nativeNumber(name, 32);
}

const PIN_COMMAND = { pin: 'PIN', unpin: 'UNPIN', status: 'GET_PIN_STATUS' } as const satisfies Record<PinKind, AshmemCommand>;

/** Commands whose argument is a pointer (a raw ioctl's plain value faults there). */
const POINTER_COMMANDS: ReadonlySet<AshmemCommand> = new Set(['SET_NAME', 'GET_NAME', 'PIN', 'UNPIN', 'GET_PIN_STATUS', 'GET_FILE_ID']);

/** The value the driver sees for a value argument: `unsigned long` of the caller (compat zero-extends). */
function argValue(arg: Arg, bits: 32 | 64): bigint {
  return 'value' in arg ? BigInt.asUintN(bits, arg.value) : 0n;
}

/** ioctl on an ashmem area. */
export function ioctl(k: Kernel, proc: Proc, area: Area, op: IoctlOp, choice: number | undefined, variant = 0): Answer {
  const { cmd, arg: rawArg } = ioctlCall(op, k.env.callerBits);
  // The VFS answers some commands before the driver sees them (fs/ioctl.c, vfs-ioctl.ts).
  if (op.kind === 'ioctl' || op.kind === 'ioctl_buf') {
    const outcomes = vfsOutcomes(k, proc, cmd, rawArg);
    const outcome = outcomes[variant] ?? (outcomes[0] as VfsOutcome);
    if (outcome !== 'driver') return 'answer' in outcome ? outcome.answer : { error: UNMODELLED, message: outcome.unmodelled };
  }
  const command = decodeCommand(cmd, k.env.callerBits, k.env.kernelBits, k.features.compat);
  // Any other number reaches ashmem_ioctl's default case (§1.4): ENOTTY in C, EINVAL in Rust.
  if (command === undefined) return fail(k.features.unknownIoctl);
  const arg = commandArg(op, command, rawArg);
  const f = k.features;
  switch (command) {
    case 'SET_NAME': return setName(k, area, arg);
    case 'GET_NAME': {
      const got = getName(k, area, arg);
      // A raw ioctl's result is the return value alone: the probe reads no name back (docs/op-scripts.md).
      return op.kind === 'ioctl_buf' && 'ret' in got ? ok(got.ret) : got;
    }
    case 'SET_SIZE':
      if (area.file !== null) return fail('EINVAL');
      // ioctl_buf: the size would become an address the model does not know.
      if ('bytes' in rawArg) return { error: UNMODELLED, message: 'SET_SIZE with a pointer argument stores the address as the size; use set_size' };
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
      if (!hasSysAdmin(k.env, proc)) return fail('EPERM');
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
  // A driver that copies a fixed 256 bytes (C-orig, the early Rust variants) faults when the
  // name and its NUL end a readable page less than 256 bytes in; strncpy stops at the NUL.
  const fixedCopy = f.setNameCopy === 'full-256' || f.nameWithoutNul === 'einval';
  if (fixedCopy && arg.atPageEnd === true && arg.name.length + 1 < NAME_LEN) return fail('EFAULT');
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
  return walk(k, area, command, s, requestEnd(s, Number(len / ps)));
}

/** The request's last page: `pgstart + pages - 1` in size_t, which wraps at page 0 (WRAPPED_END). */
function requestEnd(s: number, pages: number): number {
  return s === 0 && pages === 0 ? WRAPPED_END : s + pages - 1;
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
  return walk(k, area, command, s, requestEnd(s, len / ps));
}

/**
 * §3.5 ashmem_mmap, after the generic checks: returns the VM_MAY bits it leaves.
 * @param refuse - the world where overcommit refuses a charge (`overcommit.ts`): the backing
 *   file's (no file is created) or the shared vma's transient `shmem_zero_setup` one (after the
 *   file was created, which stays)
 */
export function mmap(k: Kernel, area: Area, len: number, prot: number, refuse: { readonly file: boolean; readonly transient: boolean } = NO_REFUSAL): { mayProt: number } | { errno: string } {
  if (area.size === 0n) return fail('EINVAL') as { errno: string };
  if (k.features.mmapLengthCheck && k.pageAlign(BigInt(len)) > k.pageAlign(area.size)) return { errno: 'EINVAL' };
  if ((prot & PROT_MASK & ~area.protMask) !== 0) return { errno: 'EPERM' };
  if (area.file === null) {
    if (area.size > MAX_LFS) return { errno: 'EINVAL' }; // shmem_file_setup refuses a negative loff_t
    // shmem_acct_size commits the file's size; refused, nothing is created.
    if (refuse.file) return { errno: 'ENOMEM' };
    area.file = new Backing(k.nextIno++, area.size, k.env.pageSize);
    // Size is frozen from here on (§3.3): keep PAGE_ALIGN(size) for the pin checks.
    const aligned = k.pageAlign(area.size);
    area.alignedSize = aligned > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(aligned);
  }
  if (refuse.transient) return { errno: 'ENOMEM' }; // shmem_zero_setup of the shared vma
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
    // shmem_file_llseek: a negative offset, or one at or past i_size, has no data or hole.
    if (off < 0n || off >= b.iSize) return fail('ENXIO');
    const ps = BigInt(b.pageSize);
    const limit = b.pageLimit();
    const want = whence === 'data';
    const p = want ? firstPageFrom(b, Number(off / ps), limit) : firstHoleFrom(b, Number(off / ps), limit);
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

/**
 * The lowest page at or after `from` that the file holds, or `limit`. By the pages held, not
 * page by page: a sparse file may span 2^50 pages (a region near MAX_LFS_FILESIZE).
 */
function firstPageFrom(b: Backing, from: number, limit: number): number {
  let best = limit;
  for (const p of b.pages.keys()) if (p >= from && p < best) best = p;
  return best;
}

/** The lowest page at or after `from` that the file does not hold, or `limit` (at most `pages.size` steps). */
function firstHoleFrom(b: Backing, from: number, limit: number): number {
  let p = from;
  while (p < limit && b.pages.has(p)) p++;
  return p;
}
