/**
 * What an mmap commits (overcommit accounting), and how MAP_NORESERVE changes it. Whether a
 * charge may be refused with ENOMEM is the target's memory's business (the caller decides); this
 * file says which charges the kernel makes at all. From the kernel source:
 *
 * - `do_mmap` (mm/mmap.c) turns MAP_NORESERVE into VM_NORESERVE "if allowed to overcommit",
 *   i.e. unless `vm.overcommit_memory` is OVERCOMMIT_NEVER (2). The probe does not report the
 *   mode; the model takes the default heuristic mode (0) or ALWAYS (1), where the flag is
 *   honoured. A target in mode 2 ignores the flag and charges as without it.
 * - `mmap_region` charges a private writable mapping its length before the driver's mmap runs
 *   (`accountable_mapping`: VM_WRITE without VM_SHARED or VM_NORESERVE), for ashmem and memfd
 *   alike; shared mappings are not charged there.
 * - `ashmem_mmap` (drivers/staging/android/ashmem.c) creates the backing file on the first
 *   mmap with `shmem_file_setup(name, asma->size, vma->vm_flags)`: the mapping's VM_NORESERVE
 *   reaches `shmem_acct_size` (mm/shmem.c), which charges PAGE_ALIGN(size) unless it is set. The
 *   charge stays with the file for its life; a file created under MAP_NORESERVE instead charges
 *   page by page as pages are allocated (`shmem_acct_block`), which the model never reaches
 *   (a refused page would be SIGBUS on a fault, far beyond the sizes scripts touch).
 * - For MAP_SHARED, ashmem (2012 on) first gives the vma its own `/dev/zero` shmem file with
 *   `shmem_zero_setup(vma)`, which charges the mapping's length under the same rule and is
 *   released when ashmem swaps in the backing file: a transient charge of the length. (The
 *   2.6/3.0 driver's `shmem_set_file` charged nothing there; the model charges for every lineage,
 *   which can only admit ENOMEM too often, and only above the commit limit.)
 * - A memfd is created with VM_NORESERVE (`memfd_create` → `shmem_file_setup(name, 0,
 *   VM_NORESERVE)`), and `shmem_mmap` charges nothing: only the private writable charge applies.
 */
import { mapNoReserve, mapType, type MapKind } from '../ops/ast.js';
import { PROT_WRITE } from './area.js';

/** The charges of one mmap, in bytes (page-rounded); 0 where nothing is charged. */
export interface MmapCommit {
  /** `shmem_acct_size` of a new ashmem backing file: kept while the file lives. */
  readonly backingFile: bigint;
  /** `shmem_zero_setup` of a shared ashmem mapping: released before mmap returns. */
  readonly transient: bigint;
  /** `mmap_region` for a private writable mapping: kept while the mapping lives. */
  readonly mapping: bigint;
}

/** What the kernel knows about the mmap when it accounts it. */
export interface MmapAccounting {
  readonly map: MapKind;
  readonly prot: number;
  /** PAGE_ALIGN(len). */
  readonly alignedLen: bigint;
  /** The region is an ashmem area (not a memfd). */
  readonly ashmem: boolean;
  /** PAGE_ALIGN(size) of the area when this mmap would create its backing file; null when it exists. */
  readonly newFileSize: bigint | null;
}

/** The charges an mmap makes, by the rules above. */
export function mmapCommit(a: MmapAccounting): MmapCommit {
  // VM_NORESERVE: MAP_NORESERVE, honoured under the overcommit modes the model assumes.
  const noreserve = mapNoReserve(a.map);
  const shared = mapType(a.map) === 'shared';
  const none = 0n;
  if (noreserve) return { backingFile: none, transient: none, mapping: none };
  return {
    backingFile: a.ashmem && a.newFileSize !== null ? a.newFileSize : none,
    transient: a.ashmem && shared ? a.alignedLen : none,
    mapping: !shared && (a.prot & PROT_WRITE) !== 0 ? a.alignedLen : none,
  };
}
