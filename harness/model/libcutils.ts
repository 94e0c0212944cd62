/**
 * libcutils' ashmem API (§7.1 device and memfd modes, §7.2 host) as a thin client of the kernel
 * model: each call issues the kernel ops the C library would, on handles of its own.
 */
import type { KernelOp } from '../ops/ast.js';
import type { OpResult } from '../ops/result.js';
import type { Kernel } from './kernel.js';

/** Which implementation libcutils uses (§7.1, §7.2). */
export type LibcutilsMode = 'device' | 'memfd' | 'host';

/** The mode a profile implies: memfd regions with the shim are memfd mode; without it, host. */
export function libcutilsMode(k: Kernel): LibcutilsMode {
  if (k.features.flavor === 'ashmem') return 'device';
  return k.features.memfdShim ? 'memfd' : 'host';
}

/** A C call's outcome: a value, or -1 with errno. */
export type CResult = { ok: true; value: number } | { ok: false; errno: string };

/** A kernel op without its line and process (distributes over the union). */
export type Bare<T> = T extends unknown ? Omit<T, 'line' | 'proc'> : never;

/**
 * Issues one kernel op on behalf of the library (internal handles start with `@`; line 0).
 * @param variant - for an op with several outcomes (an mmap the kernel may refuse), which one
 */
export function sys(k: Kernel, op: Bare<KernelOp>, variant = 0): OpResult {
  return k.apply({ ...op, line: 0, proc: 'p0' } as KernelOp, undefined, variant);
}

function c(r: OpResult): CResult {
  return r.errno !== undefined ? { ok: false, errno: r.errno } : { ok: true, value: r.ret ?? 0 };
}

/** `ashmem_create_region(name, size)`: open, SET_NAME, SET_SIZE (device); memfd_create + ftruncate (memfd, host). */
export function createRegion(k: Kernel, fd: string, name: string, size: bigint): CResult {
  const mode = libcutilsMode(k);
  const opened = c(sys(k, { kind: 'open', r: fd, mode: 'rdwr' }));
  if (!opened.ok) return opened;
  if (mode !== 'device') {
    // memfd_create + ftruncate (+ seals, which only matter to set_prot).
    const t = c(sys(k, { kind: 'truncate', r: fd, size: Number(BigInt.asUintN(63, size)) }));
    if (!t.ok) sys(k, { kind: 'close', r: fd });
    return t;
  }
  for (const op of [{ kind: 'set_name', r: fd, name } as const, { kind: 'set_size', r: fd, size } as const]) {
    const r = c(sys(k, op));
    if (!r.ok) {
      sys(k, { kind: 'close', r: fd });
      return r;
    }
  }
  return { ok: true, value: 0 };
}

/** `ashmem_pin_region(fd, off, len)` / `ashmem_unpin_region`: memfd and host modes return 0 without a call. */
export function pinRegion(k: Kernel, fd: string, pin: boolean, offset: number, len: number): CResult {
  if (libcutilsMode(k) !== 'device') return { ok: true, value: 0 };
  return c(sys(k, { kind: pin ? 'pin' : 'unpin', r: fd, offset, len }));
}

/** `ashmem_set_prot_region(fd, prot)`. */
export function setProtRegion(k: Kernel, fd: string, prot: number): CResult {
  if (libcutilsMode(k) === 'host') return { ok: true, value: 0 };
  if (libcutilsMode(k) === 'memfd') {
    // Seals: WRITE cannot come back once F_SEAL_FUTURE_WRITE is set; READ and EXEC never go (§7.1).
    const seals = sys(k, { kind: 'get_seals', r: fd });
    const sealed = ((seals.ret ?? 0) & 16) !== 0;
    if ((prot & 2) !== 0) return sealed ? { ok: false, errno: 'EINVAL' } : { ok: true, value: 0 };
    return sealed ? { ok: true, value: 0 } : c(sys(k, { kind: 'add_seals', r: fd, seals: 16 }));
  }
  return c(sys(k, { kind: 'set_prot', r: fd, prot: BigInt(prot) }));
}

/** `ashmem_get_size_region(fd)`. */
export function getSizeRegion(k: Kernel, fd: string): CResult {
  if (libcutilsMode(k) === 'device') return c(sys(k, { kind: 'get_size', r: fd }));
  const st = sys(k, { kind: 'fstat', r: fd });
  return st.errno !== undefined ? { ok: false, errno: st.errno } : { ok: true, value: st.size ?? 0 };
}
