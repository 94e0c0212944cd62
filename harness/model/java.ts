/**
 * The Java layer (§8) as thin clients of the kernel model through libcutils: MemoryFile before
 * API 27 (FW-old: native pin around each access, re-unpin after reporting a purge) and from 27
 * (a SharedMemory wrapper: "MemoryFile has been purged", left pinned), SharedMemory and its
 * mapped ByteBuffers. Exceptions are results: class name and, where the sources fix it, message.
 */
import type { JavaOp } from '../ops/ast.js';
import type { Answer } from './answer.js';
import type { Kernel } from './kernel.js';
import { createRegion, getSizeRegion, pinRegion, setProtRegion, sys, type CResult } from './libcutils.js';

/** A MemoryFile's fields. */
interface MemoryFileState {
  readonly fd: string;
  readonly map: string;
  readonly length: number;
  allowPurging: boolean;
  /** Unmapped (pre-27: mAddress == 0; 27+: mMapping == null). */
  deactivated: boolean;
  closed: boolean;
}

/** A SharedMemory's fields. */
interface SharedMemoryState {
  readonly fd: string;
  readonly size: number;
  closed: boolean;
}

/** A mapped ByteBuffer. */
interface BufferState {
  readonly map: string;
  readonly capacity: number;
  readonly readOnly: boolean;
  freed: boolean;
}

/** The Java objects of one app process. Plain data, so a world copies it cheaply. */
export class JavaState {
  files = new Map<string, MemoryFileState | null>();
  shared = new Map<string, SharedMemoryState | null>();
  buffers = new Map<string, BufferState | null>();

  /** The objects as a string: equal strings mean equal app states. */
  key(): string {
    return JSON.stringify([[...this.files], [...this.shared], [...this.buffers]]);
  }

  clone(): JavaState {
    const j = new JavaState();
    for (const [k, v] of this.files) j.files.set(k, v === null ? null : { ...v });
    for (const [k, v] of this.shared) j.shared.set(k, v === null ? null : { ...v });
    for (const [k, v] of this.buffers) j.buffers.set(k, v === null ? null : { ...v });
    return j;
  }
}

const PROT_READ = 1;
const PROT_WRITE = 2;
/** strerror texts of the errnos SharedMemory can report (bionic). */
const STRERROR: Record<string, string> = { EPERM: 'Operation not permitted', EINVAL: 'Invalid argument', ENOMEM: 'Out of memory', EACCES: 'Permission denied', EBADF: 'Bad file descriptor' };

const thrown = (exception: string, message?: string): Answer => (message === undefined ? { exception } : { exception, message }) as unknown as Answer;
const IOE = 'java.io.IOException';
const IAE = 'java.lang.IllegalArgumentException';
const ISE = 'java.lang.IllegalStateException';
const IOOBE = 'java.lang.IndexOutOfBoundsException';

function errnoException(fn: string, errno: string): Answer {
  return thrown('android.system.ErrnoException', `${fn} failed: ${errno} (${STRERROR[errno] ?? errno})`);
}

function stateError(h: string): Answer {
  return { error: 'state', message: `${h} holds nothing (its defining op threw, or it was never created)` };
}

/**
 * Runs one Java-layer op against the kernel model.
 * @param variant - which outcome the op's mmap has when the kernel may refuse it (see {@link javaVariants})
 */
export function javaOp(k: Kernel, j: JavaState, op: JavaOp, api: number, variant = 0): Answer {
  if (op.kind === 'app_wait') return { ret: 1 } as Answer; // the harness triggers; the purge itself is a choice of the kernel
  if ((op.kind.startsWith('sm_') || op.kind.startsWith('buf_')) && api < 27) {
    return { error: 'unsupported', message: `SharedMemory needs API 27; this device runs API ${api}` };
  }
  switch (op.kind) {
    case 'mf_create': return api < 27 ? createFileOld(k, j, op.f, op.name, op.length, variant) : createFile27(k, j, op.f, op.name, op.length, variant);
    case 'sm_create': {
      j.shared.set(op.s, null);
      const r = createShared(k, `@${op.s}`, op.name, op.size);
      if ('state' in r) j.shared.set(op.s, r.state);
      return r.answer;
    }
    default:
      return objectOp(k, j, op, api, variant);
  }
}

/** The Java ops that mmap: the constructors of MemoryFile and SharedMemory.map. */
const MAPPING_OPS: ReadonlySet<JavaOp['kind']> = new Set(['mf_create', 'sm_map', 'sm_map_rw', 'sm_map_ro']);

/**
 * How many outcomes a Java op has: 2 when the mmap it makes is one the kernel may refuse with
 * ENOMEM (a first mmap of an ashmem region beyond the commit limit, §3.5, `overcommit.ts`), so
 * that the judge admits the constructor's or map's exception beside success; else 1. Decided by
 * running the op both ways on copies, so that the Java checks before the mmap keep their say.
 */
export function javaVariants(k: Kernel, j: JavaState, op: JavaOp, api: number): number {
  if (!MAPPING_OPS.has(op.kind)) return 1;
  const outcome = (variant: number): string => JSON.stringify(javaOp(k.clone(), j.clone(), op, api, variant));
  return outcome(0) === outcome(1) ? 1 : 2;
}

/** FW-old constructor: ashmem_create_region, then mmap(length, RW, SHARED). */
function createFileOld(k: Kernel, j: JavaState, f: string, name: string, length: number, variant: number): Answer {
  j.files.set(f, null);
  const fd = `@${f}`;
  const map = `@${f}.map`;
  if (!createRegion(k, fd, name, BigInt.asUintN(64, BigInt(length))).ok) return thrown(IOE, 'ashmem_create_region failed');
  const m = sys(k, { kind: 'mmap', m: map, r: fd, len: Math.max(0, length), prot: PROT_READ | PROT_WRITE, map: 'shared', offset: 0 }, variant);
  if (m.ret !== 0) {
    sys(k, { kind: 'close', r: fd });
    return thrown(IOE, 'mmap failed');
  }
  j.files.set(f, { fd, map, length, allowPurging: false, deactivated: false, closed: false });
  return { ret: 0 } as Answer;
}

/** API 27+: SharedMemory.create then mapReadWrite; ErrnoException rethrown as IOException. */
function createFile27(k: Kernel, j: JavaState, f: string, name: string, length: number, variant: number): Answer {
  j.files.set(f, null);
  const created = createShared(k, `@${f}`, name, length);
  if (!('state' in created)) {
    const a = created.answer as unknown as { exception?: string; message?: string };
    return a.exception === 'android.system.ErrnoException' ? thrown(IOE, a.message) : created.answer;
  }
  const map = `@${f}.map`;
  const m = sys(k, { kind: 'mmap', m: map, r: `@${f}`, len: length, prot: PROT_READ | PROT_WRITE, map: 'shared', offset: 0 }, variant);
  if (m.ret !== 0) return thrown(IOE, `mmap failed: ${m.errno ?? '?'} (${STRERROR[m.errno ?? ''] ?? ''})`);
  j.files.set(f, { fd: `@${f}`, map, length, allowPurging: false, deactivated: false, closed: false });
  return { ret: 0 } as Answer;
}

/** SharedMemory.create(name, size) (§8.3). */
function createShared(k: Kernel, fd: string, name: string, size: number): { answer: Answer; state?: SharedMemoryState } | { answer: Answer; state: SharedMemoryState } {
  if (size <= 0) return { answer: thrown(IAE, 'Size must be greater than zero') };
  const r = createRegion(k, fd, name, BigInt(size));
  if (!r.ok) return { answer: errnoException('SharedMemory_create', r.errno) };
  const got = getSizeRegion(k, fd);
  if (!got.ok || got.value <= 0) return { answer: thrown(IAE, 'FileDescriptor is not a valid ashmem fd') };
  return { answer: { ret: 0 } as Answer, state: { fd, size: got.value, closed: false } };
}

function objectOp(k: Kernel, j: JavaState, op: Exclude<JavaOp, { kind: 'mf_create' | 'sm_create' | 'app_wait' }>, api: number, variant: number): Answer {
  switch (op.kind) {
    case 'mf_allow_purging': case 'mf_is_purging_allowed': case 'mf_read': case 'mf_write': case 'mf_length': case 'mf_close': {
      const f = j.files.get(op.f) ?? null;
      if (f === null) return stateError(op.f);
      return memoryFileOp(k, f, op, api);
    }
    case 'sm_get_size': case 'sm_close': case 'sm_set_protect': {
      const s = j.shared.get(op.s) ?? null;
      if (s === null) return stateError(op.s);
      if (s.closed && op.kind !== 'sm_close') return thrown(ISE, 'SharedMemory is closed');
      if (op.kind === 'sm_get_size') return { ret: s.size } as Answer;
      if (op.kind === 'sm_set_protect') {
        if ((op.prot & ~7) !== 0) return thrown(IAE, 'Invalid prot value');
        return { ret: setProtRegion(k, s.fd, op.prot).ok ? 1 : 0 } as Answer;
      }
      if (!s.closed) sys(k, { kind: 'close', r: s.fd });
      s.closed = true;
      return { ret: 0 } as Answer;
    }
    case 'sm_map': case 'sm_map_rw': case 'sm_map_ro': {
      j.buffers.set(op.b, null);
      const s = j.shared.get(op.s) ?? null;
      if (s === null) return stateError(op.s);
      const [prot, offset, length] = op.kind === 'sm_map' ? [op.prot, op.offset, op.length] : [op.kind === 'sm_map_rw' ? PROT_READ | PROT_WRITE : PROT_READ, 0, s.size];
      if (s.closed) return thrown(ISE, 'SharedMemory is closed');
      if ((prot & ~7) !== 0) return thrown(IAE, 'Invalid prot value');
      if (offset < 0) return thrown(IAE, 'Offset must be >= 0');
      if (length <= 0) return thrown(IAE, 'Length must be > 0');
      if (((offset + length) | 0) > s.size) return thrown(IAE, 'offset + length must not exceed getSize()');
      const map = `@${op.b}`;
      const m = sys(k, { kind: 'mmap', m: map, r: s.fd, len: length, prot, map: 'shared', offset }, variant);
      if (m.errno !== undefined) return errnoException('mmap', m.errno);
      j.buffers.set(op.b, { map, capacity: length, readOnly: (prot & PROT_WRITE) === 0, freed: false });
      return { ret: 0 } as Answer;
    }
    case 'sm_unmap': {
      const b = j.buffers.get(op.b) ?? null;
      if (b === null) return stateError(op.b);
      if (!b.freed) sys(k, { kind: 'munmap', m: b.map });
      b.freed = true;
      return { ret: 0 } as Answer;
    }
    case 'buf_put': case 'buf_get': {
      const b = j.buffers.get(op.b) ?? null;
      if (b === null) return stateError(op.b);
      return bufferOp(k, b, op);
    }
  }
}

/** Absolute gets and puts on a mapped direct ByteBuffer; a freed one is inaccessible (message not fixed by the spec). */
function bufferOp(k: Kernel, b: BufferState, op: Extract<JavaOp, { kind: 'buf_put' | 'buf_get' }>): Answer {
  if (op.len <= 0) return (op.kind === 'buf_get' ? { ret: 0, rle: [] } : { ret: 0 }) as Answer;
  if (op.kind === 'buf_put' && b.readOnly) return thrown('java.nio.ReadOnlyBufferException');
  if (b.freed) return thrown(ISE);
  const inside = Math.max(0, Math.min(op.offset + op.len, b.capacity) - Math.max(op.offset, 0));
  const start = Math.max(op.offset, 0);
  if (op.offset < 0 || op.offset >= b.capacity) return thrown(IOOBE);
  if (op.kind === 'buf_put') {
    const r = sys(k, { kind: 'fill', m: b.map, offset: start, len: inside, byte: op.byte });
    if (r.signal !== undefined) return { signal: r.signal } as Answer;
    return inside < op.len ? thrown(IOOBE) : ({ ret: 0 } as Answer);
  }
  const r = sys(k, { kind: 'check', m: b.map, offset: start, len: inside });
  if (r.signal !== undefined) return { signal: r.signal } as Answer;
  return inside < op.len ? thrown(IOOBE) : ({ ret: op.len, rle: r.rle ?? [] } as Answer);
}

/** MemoryFile methods, FW-old (api < 27) or FW (27+). */
function memoryFileOp(k: Kernel, f: MemoryFileState, op: Extract<JavaOp, { f: string }>, api: number): Answer {
  const old = api < 27;
  switch (op.kind) {
    case 'mf_is_purging_allowed': return { ret: f.allowPurging ? 1 : 0 } as Answer;
    case 'mf_length':
      if (!old && f.closed) return thrown(ISE, 'SharedMemory is closed');
      return { ret: f.length } as Answer;
    case 'mf_allow_purging': {
      const was = f.allowPurging;
      if (was !== op.allow) {
        // native_pin(fd, !allow): an ioctl failure (e.g. EBADF after close) is an IOException without message.
        if (f.closed || !pinRegion(k, f.fd, !op.allow, 0, 0).ok) return thrown(IOE);
        f.allowPurging = op.allow;
      }
      return { ret: was ? 1 : 0 } as Answer;
    }
    case 'mf_close':
      if (!f.deactivated) sys(k, { kind: 'munmap', m: f.map });
      if (!f.closed) sys(k, { kind: 'close', r: f.fd });
      f.deactivated = true;
      f.closed = true;
      return { ret: 0 } as Answer;
    case 'mf_read': case 'mf_write':
      return old ? accessOld(k, f, op) : access27(k, f, op);
    default:
      return { error: 'unsupported', message: `${op.kind} is not a MemoryFile method` };
  }
}

/** FW-old readBytes/writeBytes: checks, then pin, copy, unpin; a purge is reported once and re-unpinned. */
function accessOld(k: Kernel, f: MemoryFileState, op: Extract<JavaOp, { kind: 'mf_read' | 'mf_write' }>): Answer {
  const read = op.kind === 'mf_read';
  if (f.deactivated) return thrown(IOE, read ? "Can't read from deactivated memory file." : "Can't write to deactivated memory file.");
  const [bufOff, fileOff] = read ? [op.dest, op.src] : [op.src, op.dest];
  if (bufOff < 0 || bufOff > op.buflen || op.count < 0 || op.count > op.buflen - bufOff || fileOff < 0 || fileOff > f.length || op.count > f.length - fileOff) {
    return thrown(IOOBE);
  }
  if (f.allowPurging && wasPurged(pinRegion(k, f.fd, true, 0, 0))) {
    pinRegion(k, f.fd, false, 0, 0);
    return thrown(IOE, 'ashmem region was purged');
  }
  const r = copy(k, f, read, fileOff, op);
  if (f.allowPurging) pinRegion(k, f.fd, false, 0, 0);
  return r;
}

/** API 27+: beginAccess (pin; a purge throws and leaves the region pinned), nio position/get, endAccess. */
function access27(k: Kernel, f: MemoryFileState, op: Extract<JavaOp, { kind: 'mf_read' | 'mf_write' }>): Answer {
  const read = op.kind === 'mf_read';
  if (f.deactivated) return thrown(IOE, 'MemoryFile has been deactivated');
  if (f.allowPurging && wasPurged(pinRegion(k, f.fd, true, 0, 0))) return thrown(IOE, 'MemoryFile has been purged');
  const [bufOff, fileOff] = read ? [op.dest, op.src] : [op.src, op.dest];
  let r: Answer;
  if (fileOff < 0 || fileOff > f.length) r = thrown(IAE); // Buffer.position
  else if (bufOff < 0 || op.count < 0 || bufOff > op.buflen - op.count) r = thrown(IOOBE); // checkBounds
  else if (op.count > f.length - fileOff) r = thrown(read ? 'java.nio.BufferUnderflowException' : 'java.nio.BufferOverflowException');
  else r = copy(k, f, read, fileOff, op);
  if (f.allowPurging) pinRegion(k, f.fd, false, 0, 0);
  return r;
}

/** ashmem_pin_region returned ASHMEM_WAS_PURGED. */
function wasPurged(r: CResult): boolean {
  return r.ok && r.value === 1;
}

function copy(k: Kernel, f: MemoryFileState, read: boolean, fileOff: number, op: Extract<JavaOp, { kind: 'mf_read' | 'mf_write' }>): Answer {
  if (op.count === 0) return (read ? { ret: 0, rle: [] } : { ret: 0 }) as Answer;
  if (op.kind === 'mf_write') {
    const w = sys(k, { kind: 'fill', m: f.map, offset: fileOff, len: op.count, byte: op.byte });
    return (w.signal !== undefined ? { signal: w.signal } : { ret: 0 }) as Answer;
  }
  const r = sys(k, { kind: 'check', m: f.map, offset: fileOff, len: op.count });
  return (r.signal !== undefined ? { signal: r.signal } : { ret: op.count, rle: r.rle ?? [] }) as Answer;
}
