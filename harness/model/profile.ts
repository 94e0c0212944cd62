/**
 * Profiles: named presets over explicit feature flags. Each flag cites the section of
 * `ashmem-semantics.md` it comes from; a flag marked UNVERIFIED there is modelled as the most
 * likely behaviour and its tests say so.
 */
import type { CompatHandling } from './ioctl.js';

/** The driver behaviours that differ between lineages. */
export interface Features {
  /** What `open` creates: an ashmem area, or a memfd (a plain shmem file). §6, §7.1 */
  readonly flavor: 'ashmem' | 'memfd';
  /** memfd flavor: whether the kernel answers ashmem ioctls on memfds (the 2025 ACK shim). §6 */
  readonly memfdShim: boolean;
  /** §3.6: pre-2019 checks "no file" before reading the argument; 2019+ reads it first (EFAULT first). */
  readonly pinCheckOrder: 'pre2019' | '2019';
  /** §3.2: C-orig checks the file first and copies all 256 bytes; later drivers strncpy. */
  readonly setNameCopy: 'full-256' | 'strncpy';
  /** §3.2: a name with no NUL in 256 bytes is truncated to 255 chars, or (early Rust) EINVAL. */
  readonly nameWithoutNul: 'truncate' | 'einval';
  /** §3.2: after SET_NAME(""), C reports "dev/ashmem"; Rust keeps Some("") and reports "". */
  readonly emptyName: 'default' | 'empty';
  /** §3.5 step 2 (2018+): mmap longer than PAGE_ALIGN(size) fails with EINVAL. */
  readonly mmapLengthCheck: boolean;
  /** §3.9: the driver uses vfs_llseek without FMODE_LSEEK on the backing file (3.19 until 2018). */
  readonly lseekNeedsFmodeLseek: boolean;
  /** §1.4: errno for an unknown command. */
  readonly unknownIoctl: 'ENOTTY' | 'EINVAL';
  /** §3.8: ASHMEM_GET_FILE_ID exists (ACK only). */
  readonly fileId: boolean;
  /** §1.3: which 32-bit compat numbers are translated. */
  readonly compat: CompatHandling;
  /** §5.2: how one shrinker invocation consumes its budget. */
  readonly shrinker: 'pages-signed' | 'pages-wrap' | 'ranges' | 'ranges-trylock' | 'rust-pages';
  /** §3.7: PURGE_ALL_CACHES may purge less than everything (trylock; Rust stops for waiters). */
  readonly purgeAllPartial: 'never' | 'all-or-nothing' | 'prefix';
  /** §3.4: READ_IMPLIES_EXEC applied after (C) or before (Rust) the subset check. */
  readonly readImpliesExec: 'after-check' | 'before-check';
  /** §3.6 step 5: `len == 0` becomes PAGE_ALIGN(size) - offset, stored in the u32 field (C) or kept as usize (Rust). */
  readonly lenZeroWidth: 'u32' | 'usize';
  /** §6: a Rust snapshot (and the shim) stub pinning out: PIN 0, UNPIN 0, STATUS 1, PURGE 0. */
  readonly pinning: 'real' | 'stub';
}

/** A named preset. */
export interface Profile {
  readonly id: string;
  readonly description: string;
  /** The spec sections that define it. */
  readonly sources: string;
  readonly features: Features;
}

const C_FINAL: Features = {
  flavor: 'ashmem',
  memfdShim: false,
  pinCheckOrder: '2019',
  setNameCopy: 'strncpy',
  nameWithoutNul: 'truncate',
  emptyName: 'default',
  mmapLengthCheck: true,
  lseekNeedsFmodeLseek: false,
  unknownIoctl: 'ENOTTY',
  fileId: false,
  compat: 'size-prot',
  shrinker: 'ranges-trylock',
  purgeAllPartial: 'prefix',
  readImpliesExec: 'after-check',
  lenZeroWidth: 'u32',
  pinning: 'real',
};

/** All profiles, by id. */
export const PROFILES: readonly Profile[] = [
  {
    id: 'c-orig',
    description: 'Android 2.6.x/3.0 mm/ashmem.c: SET_NAME copies 256 bytes after the file check, no compat translation, signed pages shrinker',
    sources: '§1.3, §3.2, §5.2, §6',
    features: { ...C_FINAL, pinCheckOrder: 'pre2019', setNameCopy: 'full-256', mmapLengthCheck: false, compat: 'none', shrinker: 'pages-signed', purgeAllPartial: 'never' },
  },
  {
    id: 'c-3.0',
    description: 'C 3.0-3.11 staging: unsigned nr_to_scan, so one shrinker call purges the whole LRU',
    sources: '§5.2, §6',
    features: { ...C_FINAL, pinCheckOrder: 'pre2019', mmapLengthCheck: false, shrinker: 'pages-wrap', purgeAllPartial: 'never' },
  },
  {
    id: 'c-3.12',
    description: 'C 3.12-3.18: count/scan shrinker counting ranges, f_op->llseek, pre-2019 check order',
    sources: '§3.6, §5.2, §6',
    features: { ...C_FINAL, pinCheckOrder: 'pre2019', mmapLengthCheck: false, shrinker: 'ranges', purgeAllPartial: 'never' },
  },
  {
    id: 'c-pre2019',
    description: 'C 3.19-4.x mainline staging without the 2018/2019 fixes (the anbox DKMS copy of §12): no mmap length check, lseek ESPIPE on kernels before 6.0',
    sources: '§3.5, §3.6, §3.9, §12',
    features: { ...C_FINAL, pinCheckOrder: 'pre2019', mmapLengthCheck: false, lseekNeedsFmodeLseek: true, shrinker: 'ranges', purgeAllPartial: 'never' },
  },
  {
    id: 'c-4.x',
    description: 'C 4.5-5.0 mainline with the 2018 fixes (mmap length check, FMODE_LSEEK) and the trylock shrinker, pre-2019 check order',
    sources: '§3.5, §3.6, §3.7, §5.2, §6',
    features: { ...C_FINAL, pinCheckOrder: 'pre2019', purgeAllPartial: 'all-or-nothing' },
  },
  {
    id: 'c-final',
    description: 'C 5.1+ mainline (last before removal in 5.18): 2019 check order, punch outside the lock',
    sources: '§3, §4, §5 (the reference lineage)',
    features: C_FINAL,
  },
  {
    id: 'ack-c',
    description: 'Android Common Kernel C driver: c-final plus GET_FILE_ID (its 32-bit number not translated)',
    sources: '§1.3, §3.8, §6, §12',
    features: { ...C_FINAL, fileId: true },
  },
  {
    id: 'ack-rust',
    description: 'ACK Rust rewrite (android16-6.12): unknown ioctl EINVAL, pages-based shrinker stop, Some("") names, READ_IMPLIES_EXEC before the subset check',
    sources: '§1.4, §3.2, §3.4, §5.2, §6',
    features: { ...C_FINAL, fileId: true, unknownIoctl: 'EINVAL', emptyName: 'empty', readImpliesExec: 'before-check', shrinker: 'rust-pages', lenZeroWidth: 'usize' },
  },
  {
    id: 'ack-rust-stub',
    description: 'ACK Rust snapshot with pinning stubbed out: PIN 0, UNPIN 0, GET_PIN_STATUS 1, PURGE_ALL_CACHES 0',
    sources: '§6',
    features: { ...C_FINAL, fileId: true, unknownIoctl: 'EINVAL', emptyName: 'empty', readImpliesExec: 'before-check', shrinker: 'rust-pages', lenZeroWidth: 'usize', pinning: 'stub' },
  },
  {
    id: 'ack-memfd-shim',
    description: 'ACK 2025 memfd shim: regions are memfds and the kernel answers ashmem ioctls on them; nothing is ever purged',
    sources: '§6 (memfd shim row), §7.1',
    features: { ...C_FINAL, flavor: 'memfd', memfdShim: true, fileId: true, compat: 'size-prot-fileid', pinning: 'stub' },
  },
  {
    id: 'libcutils-memfd',
    description: 'libcutils memfd mode (Android 10+, sys.use_memfd=true) on a kernel with the shim: as ack-memfd-shim at the kernel level; the user-space layer never pins',
    sources: '§7.1',
    features: { ...C_FINAL, flavor: 'memfd', memfdShim: true, fileId: true, compat: 'size-prot-fileid', pinning: 'stub' },
  },
  {
    id: 'ashmem-host',
    description: 'libcutils ashmem-host (host builds): a regular unlinked file; no ioctls, no pinning, no purging, MAP_PRIVATE is a normal private file mapping',
    sources: '§7.2',
    features: { ...C_FINAL, flavor: 'memfd', memfdShim: false },
  },
  {
    id: 'linux-memfd',
    description: 'A Linux kernel with no ashmem and no shim (this machine): memfds answer every ashmem ioctl with ENOTTY',
    sources: '§7.2 (same kernel view as ashmem-host)',
    features: { ...C_FINAL, flavor: 'memfd', memfdShim: false },
  },
];

/** A profile id that does not exist. */
export class UnknownProfileError extends Error {
  override readonly name = 'UnknownProfileError';
}

/** Looks a profile up by id. */
export function profileById(id: string): Profile {
  const p = PROFILES.find((x) => x.id === id);
  if (p === undefined) throw new UnknownProfileError(`unknown profile "${id}": run "ashmem-harness profiles" for the list`);
  return p;
}

/**
 * Facts about the machine the model stands for. They are not properties of the driver, so
 * they are not in a profile: the target reports them.
 */
export interface Environment {
  /** Kernel page size. */
  readonly pageSize: number;
  /** CAP_SYS_ADMIN in the initial namespace (root): PURGE_ALL_CACHES and drop_caches. */
  readonly root: boolean;
  /** The calling process's word size. */
  readonly callerBits: 32 | 64;
  /** The kernel's word size. */
  readonly kernelBits: 32 | 64;
  /** Linux 6.0+ seeks any file with an llseek op, so the §3.9 ESPIPE quirk is gone (§12). */
  readonly kernelSeeksWithoutFmode: boolean;
  /** Exec-only mappings are readable (true on x86; §10.10 is silent, UNVERIFIED on arm64). */
  readonly execImpliesRead: boolean;
  /**
   * The probe runs under qemu-user, which forwards only the ioctls it knows and answers ENOSYS
   * for the rest: ashmem's commands never reach the kernel. A fact of the runner, not the driver.
   */
  readonly ioctlEmulation: 'none' | 'qemu-user';
  /** Android API level of the Java layer (MemoryFile changed at 27, §8). */
  readonly apiLevel: number;
  /**
   * The kernel release `[major, minor]` (`uname -r`, the probe's hello): how a drop_caches write
   * repeats its passes over the shrinkers depends on it (§12), and so do some VFS ioctl answers
   * (`vfs-ioctl.ts`). Absent when unknown: every era is admitted.
   */
  readonly kernelVersion?: readonly [number, number];
  /**
   * Total RAM plus total swap in bytes when the target reported them: the most the kernel's
   * heuristic overcommit lets one mapping or shmem file commit (see `overcommit.ts`).
   */
  readonly memoryBytes?: number;
}

/** The environment of a 64-bit root caller on a 4 KiB-page 64-bit kernel. */
export const DEFAULT_ENVIRONMENT: Environment = {
  pageSize: 4096,
  root: true,
  callerBits: 64,
  kernelBits: 64,
  kernelSeeksWithoutFmode: false,
  execImpliesRead: true,
  ioctlEmulation: 'none',
  apiLevel: 33,
};
