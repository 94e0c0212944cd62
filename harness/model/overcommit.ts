/**
 * When a commit of memory may fail with ENOMEM (issue 12 §1; ashmem-semantics §3.5 step 5 and
 * §12, "A first mmap of a region larger than the memory the kernel will commit failed with
 * ENOMEM and created no backing file").
 *
 * The rule, from the kernel source:
 * - `ashmem_mmap` creates the backing file with `shmem_file_setup(name, asma->size,
 *   vma->vm_flags)`; `__shmem_file_setup` refuses sizes beyond MAX_LFS_FILESIZE (EINVAL) and
 *   then calls `shmem_acct_size(flags, size)`, which is 0 for VM_NORESERVE and otherwise
 *   `security_vm_enough_memory_mm(current->mm, VM_ACCT(size))`: PAGE_ALIGN(size) in pages. A
 *   failure there is ENOMEM, returned before the file exists, so the area keeps its size and
 *   name unfrozen (a later SET_SIZE succeeds).
 * - A MAP_PRIVATE writable mapping is accounted by `mmap_region` itself (`accountable_mapping`:
 *   VM_WRITE without VM_SHARED or VM_NORESERVE) for its length, before the driver's mmap runs;
 *   shared mappings are not accounted there.
 * - `__vm_enough_memory` (mm/util.c) under the default OVERCOMMIT_GUESS of 5.10 and 6.x fails
 *   exactly when `pages > totalram_pages() + total_swap_pages`; OVERCOMMIT_ALWAYS never fails;
 *   OVERCOMMIT_NEVER fails above the commit limit minus what is already committed (unknown to
 *   the model). Which mode a target runs is not reported, so above the limit both outcomes are
 *   admissible worlds, and below it only success.
 * - The limit is the target's RAM plus swap (`sysinfo`, reported in the probe's hello). When the
 *   target did not report them the model uses {@link UNKNOWN_MEMORY_FLOOR}: smaller than any
 *   machine this harness targets (Android's CDD asks at least 416 MiB of memory, the project's
 *   QEMU guests have 512 MiB), so ENOMEM is admitted for sizes every real target could refuse,
 *   never for small ones.
 * Not admitted (documented limits): kernels before the 2019 simplification of OVERCOMMIT_GUESS
 * compared against free memory and can refuse smaller sizes on a busy machine; OVERCOMMIT_NEVER
 * targets can refuse below the limit.
 *
 * Small kernel allocations are never admitted to fail: `range_alloc` (PIN/UNPIN) and the area of
 * `open` come from `kmem_cache_zalloc(..., GFP_KERNEL)` of objects far below a page, and the page
 * allocator does not fail such low-order GFP_KERNEL requests (it reclaims and, failing that, OOM-
 * kills); only a task already chosen as the OOM victim can see ENOMEM there, and it dies of its
 * pending SIGKILL before the result reaches user space, so no surviving caller observes it.
 */
import type { Environment } from './profile.js';

/** The commit limit assumed for a target that did not report its memory: 256 MiB. */
export const UNKNOWN_MEMORY_FLOOR = 256 * 1024 * 1024;

/** The most one commit may take before OVERCOMMIT_GUESS refuses it, in bytes. */
export function commitLimit(env: Environment): bigint {
  return BigInt(env.memoryBytes ?? UNKNOWN_MEMORY_FLOOR);
}

/**
 * True when committing `alignedBytes` (already PAGE_ALIGNed) may fail with ENOMEM on this
 * target, so that ENOMEM is an admissible world beside success.
 */
export function mayRefuseCommit(env: Environment, alignedBytes: bigint): boolean {
  return alignedBytes > commitLimit(env);
}
