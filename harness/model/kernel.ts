/**
 * The kernel as the model sees it: every area, the one global LRU, processes with their
 * handles and mappings. `apply` runs one op of the native probe and returns its result; the
 * driver-specific answers live in `driver.ts` (ashmem) and `memfd.ts` (memfd modes). The kernel
 * knows nothing of the Java layer: `device.ts` runs that above it, through libcutils.
 */
import { mapType, type KernelOp, type Op } from '../ops/ast.js';
import type { OpResult } from '../ops/result.js';
import { JAVA_KINDS } from '../ops/signatures.js';
import { fail, ok, resultOf, UNMODELLED, type Answer } from './answer.js';
import { Area, PROT_EXEC, PROT_READ, PROT_WRITE, SEAL } from './area.js';
import { Backing } from './backing.js';
import * as driver from './driver.js';
import { hasSysAdmin, type KernelState, type Proc } from './kernel-state.js';
import { Lru, rangePages } from './lru.js';
import { appendPage, check, cloneMapping, fill, mappingPages, protOf, type Mapping } from './mapping.js';
import * as memfd from './memfd.js';
import { DEFAULT_ENVIRONMENT, type Environment, type Features } from './profile.js';
import { mmapCommit, type MmapCommit } from './commit.js';
import { mayRefuseCommit } from './overcommit.js';
import { Range } from './range.js';
import { VFS_IOCTL } from './vfs-ioctl.js';
import { admissiblePurgeAll, admissiblePurges, type ShrinkerModel } from './shrinker.js';
import { decodeDropChoice, dropCachesOutcomes, encodeDropChoice, rulesFor } from './drop-caches.js';

/** The kernel state and the op interpreter. */
export class Kernel implements KernelState {
  readonly lru = new Lru<Range>();
  readonly areas = new Map<number, Area>();
  readonly procs = new Map<string, Proc>();
  nextArea = 1;
  nextIno = 1;
  /**
   * ashmem's shrinker's deferred scan count (`nr_deferred`, §5.3): 0 on a fresh guest, tracked
   * through drop_caches writes under `--shrinker batches`; undefined once something the model
   * does not follow (memory pressure, the app's purge) may have changed it.
   */
  shrinkerDeferred: number | undefined = 0;

  constructor(
    readonly features: Features,
    readonly env: Environment = DEFAULT_ENVIRONMENT,
  ) {
    this.procs.set('p0', { fds: new Map(), unnamed: [], maps: new Map(), readImpliesExec: false, noSysAdmin: false });
  }

  /** PAGE_ALIGN in the kernel's size_t. */
  pageAlign(x: bigint): bigint {
    const p = BigInt(this.env.pageSize);
    const mask = (1n << BigInt(this.env.kernelBits)) - 1n;
    return ((x + p - 1n) & ~(p - 1n)) & mask;
  }

  /** Marks the `k` oldest LRU ranges purged and punches their holes (§5.1). */
  purge(k: number): void {
    for (let n = 0; n < k; n++) {
      const r = this.lru.head;
      if (r === null) return;
      r.purged = true;
      this.lru.remove(r);
      this.areas.get(r.areaId)?.file?.punch(r.pgstart, r.pgend);
    }
  }

  /** Page counts of the LRU ranges, oldest first. */
  lruPages(): number[] {
    const out: number[] = [];
    for (const r of this.lru) out.push(rangePages(r));
    return out;
  }

  /** Release on the last close (§3.9): ranges leave the list and the LRU; nothing is purged. */
  release(area: Area): void {
    for (const r of area.unpinned) this.lru.remove(r);
    area.unpinned = [];
    this.areas.delete(area.id);
  }

  /**
   * For an op whose outcome the kernel does not fix, the admissible choices (prefix lengths
   * of the LRU that it may purge); undefined for a deterministic op.
   * @param contended - another party may hold the ashmem lock (a busy device)
   */
  choices(op: Op, contended = false, shrinker: ShrinkerModel = 'any-prefix'): number[] | undefined {
    if (op.kind === 'drop_caches') {
      if (!this.env.root) return undefined;
      return this.followsDropSlab(shrinker) ? this.dropCachesChoices() : admissiblePurges(this.features, this.lruPages(), shrinker);
    }
    if (op.kind === 'pressure') return admissiblePurges(this.features, this.lruPages(), shrinker);
    const proc = this.procs.get(op.proc);
    if (op.kind === 'purge_all' && contended && proc !== undefined && hasSysAdmin(this.env, proc) && this.features.flavor === 'ashmem' && this.features.pinning === 'real') {
      return admissiblePurgeAll(this.features, this.lru.length, contended);
    }
    return undefined;
  }

  /**
   * Whether a drop_caches write is worked out pass by pass with the kernel's arithmetic
   * (drop-caches.ts): an exclusive guest (`batches`), a 3.12+ count/scan shrinker that really
   * purges, and a known deferred count.
   */
  private followsDropSlab(shrinker: ShrinkerModel): boolean {
    const s = this.features.shrinker;
    return shrinker === 'batches' && this.shrinkerDeferred !== undefined && this.features.flavor === 'ashmem' && this.features.pinning === 'real' && (s === 'ranges' || s === 'ranges-trylock' || s === 'rust-pages');
  }

  /** The admissible ends of a drop_caches write, encoded (the target's kernel version decides the pass loop, §12). */
  private dropCachesChoices(): number[] {
    const pages = this.lruPages();
    const unit = this.features.shrinker === 'rust-pages' ? 'pages' : 'ranges';
    const out = new Set<number>();
    for (const rules of rulesFor(this.env.kernelVersion)) {
      for (const o of dropCachesOutcomes(pages, this.shrinkerDeferred ?? 0, unit, rules)) out.add(encodeDropChoice(o, pages.length));
    }
    return [...out].sort((a, b) => a - b);
  }

  /** How many LRU ranges a choice of {@link choices} purges, in this state. */
  purgedBy(choice: number): number {
    return decodeDropChoice(choice, this.lru.length)?.purged ?? choice;
  }

  /**
   * How many outcomes the kernel admits for an op in this state, apart from purge choices: 1
   * for a deterministic op; more where the target's configuration decides (a first mmap that
   * may exceed the commit limit, an ioctl whose VFS answer changed by kernel version). Variant
   * `v` of {@link apply} is the v-th of them; variant 0 is the one a quiet, default machine gives.
   */
  variants(op: Op): number {
    if (op.kind === 'mmap') return this.mmapMayBeRefused(op) ? 2 : 1;
    if (op.kind !== 'ioctl' && op.kind !== 'ioctl_buf') return 1;
    const proc = this.procs.get(op.proc);
    const area = proc?.fds.get(op.r) ?? null;
    if (proc === undefined || area === null || area.kind !== 'ashmem' || this.env.ioctlEmulation !== 'none') return 1;
    return driver.ioctlVariants(this, proc, op);
  }

  /**
   * Runs one op.
   * @param choice - for ops with {@link choices}, which admissible choice happened (default:
   *   the first, i.e. the least purging for triggers; PURGE_ALL_CACHES purges everything)
   * @param variant - for ops with several {@link variants}, which one happened
   */
  apply(op: Op, choice?: number, variant = 0): OpResult {
    // Ops of the Java layer never reach a kernel: answering one here (EBADF from a handle
    // lookup) would be a silent wrong prediction.
    if (JAVA_KINDS.has(op.kind)) throw new Error(`${op.kind} (line ${op.line}) is an op of the Java layer: run it on a Device, not on the Kernel`);
    return resultOf(op, this.answer(op as KernelOp, choice, variant));
  }

  /** The charges an mmap would make in this state (`commit.ts`), or null when it has no region. */
  private mmapCharges(op: Extract<Op, { kind: 'mmap' }>): MmapCommit | null {
    const area = this.procs.get(op.proc)?.fds.get(op.r) ?? null;
    if (area === null) return null;
    const ashmem = area.kind === 'ashmem';
    return mmapCommit({
      map: op.map,
      prot: op.prot,
      alignedLen: this.pageAlign(BigInt(op.len)),
      ashmem,
      newFileSize: ashmem && area.file === null ? this.pageAlign(area.size) : null,
    });
  }

  /** Some charge of this mmap is above the commit limit: ENOMEM is admissible beside success (`overcommit.ts`). */
  private mmapMayBeRefused(op: Extract<Op, { kind: 'mmap' }>): boolean {
    const c = this.mmapCharges(op);
    return c !== null && (mayRefuseCommit(this.env, c.mapping) || mayRefuseCommit(this.env, c.backingFile) || mayRefuseCommit(this.env, c.transient));
  }

  private proc(op: Op): Proc {
    const p = this.procs.get(op.proc);
    if (p === undefined) throw new Error(`process ${op.proc} is not running (the parser should have caught this)`);
    return p;
  }

  private answer(op: KernelOp, choice: number | undefined, variant: number): Answer {
    const proc = this.proc(op);
    switch (op.kind) {
      case 'open': {
        const area = new Area(this.nextArea++, this.features.flavor, op.mode === 'rdwr');
        if (area.kind === 'memfd') area.file = new Backing(this.nextIno++, 0n, this.env.pageSize);
        this.areas.set(area.id, area);
        this.rename(proc, op.r, area);
        return ok(0);
      }
      case 'close': {
        const area = proc.fds.get(op.r) ?? null;
        if (area === null) return fail('EBADF');
        proc.fds.set(op.r, null);
        if (--area.refs === 0) this.release(area);
        return ok(0);
      }
      case 'dup': {
        const area = proc.fds.get(op.from) ?? null;
        if (area === null) return fail('EBADF');
        // A new fd on the same open file description (even `dup r0 r0`).
        area.refs++;
        this.rename(proc, op.r, area);
        return ok(0);
      }
      case 'mmap':
        return this.mmap(proc, op, variant);
      case 'munmap': {
        if ((proc.maps.get(op.m) ?? null) === null) return stateError(op.m);
        proc.maps.set(op.m, null);
        return ok(0);
      }
      case 'munmap_range':
        return this.munmapRange(proc, op);
      case 'mprotect':
        return this.mprotect(proc, op);
      case 'drop_cap':
        // capset only narrows the sets, which any process may do; the bounding set goes too
        // when the process may change it, so nothing it runs later regains the capability.
        proc.noSysAdmin = true;
        return ok(0);
      case 'fill':
      case 'check':
      case 'mincore': {
        const m = proc.maps.get(op.m) ?? null;
        if (m === null) return stateError(op.m);
        if (op.offset + op.len > m.len) return { error: 'state', message: `window [${op.offset}, ${op.offset + op.len}) is outside mapping ${op.m} of ${m.len} bytes` };
        if (op.kind === 'mincore') {
          if (this.env.ioctlEmulation === 'qemu-user' && (m.holes !== null || this.unreadableIn(m, op.offset, op.len))) return EMULATED_MEMORY;
          return this.holeIn(m, op.offset, op.len) ? fail('ENOMEM') : ok(0);
        }
        const { pageSize, execImpliesRead } = this.env;
        const a = op.kind === 'fill' ? fill(m, op.offset, op.len, op.byte, pageSize, execImpliesRead) : check(m, op.offset, op.len, pageSize, execImpliesRead);
        if (a.signal !== null) return { signal: a.signal };
        return op.kind === 'check' ? { ret: 0, rle: a.runs } : ok(0);
      }
      case 'personality':
        proc.readImpliesExec = op.personality === 'read_implies_exec';
        return ok(0);
      case 'drop_caches': {
        if (!this.env.root) return fail('EACCES');
        const end = decodeDropChoice(choice ?? 0, this.lru.length);
        this.purge(end?.purged ?? choice ?? 0);
        if (end !== undefined) this.shrinkerDeferred = end.deferred;
        return ok(0);
      }
      case 'pressure':
        this.purge(choice ?? 0);
        // Reclaim ran the shrinker at a priority the model does not follow.
        this.shrinkerDeferred = undefined;
        return ok(0);
      case 'fork': {
        const child: Proc = { fds: new Map(proc.fds), unnamed: [...proc.unnamed], maps: new Map(), readImpliesExec: proc.readImpliesExec, noSysAdmin: proc.noSysAdmin };
        // The child gets a copy of every open fd, named or not.
        for (const a of proc.fds.values()) if (a !== null) a.refs++;
        for (const a of proc.unnamed) a.refs++;
        // Shared pages stay shared (the same backing); private pages, holes and per-page
        // protections are copied into the child.
        for (const [h, m] of proc.maps) child.maps.set(h, m === null ? null : cloneMapping(m, m.area, m.backing));
        this.procs.set(op.child, child);
        return ok(0);
      }
      case 'exit': {
        const child = this.procs.get(op.child);
        if (child === undefined) return stateError(op.child);
        // Exit closes every fd of the child, the ones no handle names included.
        for (const a of [...child.fds.values(), ...child.unnamed]) if (a !== null && --a.refs === 0) this.release(a);
        this.procs.delete(op.child);
        return ok(0);
      }
      default:
        return this.fdOp(proc, op, choice, variant);
    }
  }

  /**
   * Points handle `r` at a new fd on `area`. An fd the handle named stays open, unnamed: the probe
   * closes only what `close` asks for (seen on the vm target's 5.10 driver: the old area's
   * unpinned ranges stay on the LRU, PURGE_ALL_CACHES counts them).
   */
  private rename(proc: Proc, r: string, area: Area): void {
    const old = proc.fds.get(r) ?? null;
    if (old !== null) proc.unnamed.push(old);
    proc.fds.set(r, area);
  }

  /** munmap of a window inside a mapping (`munmap_range`): the pages become holes. */
  private munmapRange(proc: Proc, op: Extract<KernelOp, { kind: 'munmap_range' }>): Answer {
    const m = proc.maps.get(op.m) ?? null;
    if (m === null) return stateError(op.m);
    if (op.offset + op.len > m.len) return { error: 'state', message: `window [${op.offset}, ${op.offset + op.len}) is outside mapping ${op.m} of ${m.len} bytes` };
    const ps = this.env.pageSize;
    // mm/mmap.c do_munmap: the start must be page-aligned and the length non-zero; the length is
    // rounded up to whole pages. The window stays inside the mapping's pages, so no other vma goes.
    if (op.offset % ps !== 0 || op.len === 0) return fail('EINVAL');
    const holes = m.holes ?? new Set<number>();
    const last = Math.ceil((op.offset + op.len) / ps);
    for (let j = op.offset / ps; j < last; j++) holes.add(j);
    m.holes = holes;
    return ok(0);
  }

  /**
   * mprotect of a whole mapping. With holes (mm/mprotect.c): a hole at the start is ENOMEM with
   * nothing changed; otherwise the vmas before the first hole are changed, then ENOMEM.
   */
  private mprotect(proc: Proc, op: Extract<KernelOp, { kind: 'mprotect' }>): Answer {
    const m = proc.maps.get(op.m) ?? null;
    if (m === null) return stateError(op.m);
    const firstHole = this.firstHole(m);
    if (firstHole !== undefined && this.env.ioctlEmulation === 'qemu-user') return EMULATED_MEMORY;
    if (firstHole === 0) return fail('ENOMEM');
    if ((op.prot & 7 & ~m.mayProt) !== 0) return fail('EACCES');
    let prot = op.prot;
    if (proc.readImpliesExec && (prot & PROT_READ) !== 0 && (m.mayProt & PROT_EXEC) !== 0) prot |= PROT_EXEC;
    if (firstHole === undefined) {
      m.prot = prot;
      m.pageProt = null;
      return ok(0);
    }
    const pageProt = m.pageProt ?? new Map<number, number>();
    for (let j = 0; j < firstHole; j++) pageProt.set(j, prot);
    m.pageProt = pageProt;
    return fail('ENOMEM');
  }

  /** The lowest unmapped page of a mapping's window, if any. */
  private firstHole(m: Mapping): number | undefined {
    if (m.holes === null) return undefined;
    const n = mappingPages(m, this.env.pageSize);
    for (let j = 0; j < n; j++) if (m.holes.has(j)) return j;
    return undefined;
  }

  /**
   * Some page of the window lacks PROT_READ (write-only, exec-only or PROT_NONE): qemu-user
   * before 8.1 checks a mincore range for guest read access (linux-user/syscall.c).
   */
  private unreadableIn(m: Mapping, offset: number, len: number): boolean {
    const ps = this.env.pageSize;
    for (let j = Math.floor(offset / ps); j < Math.ceil((offset + len) / ps); j++) if ((protOf(m, j) & PROT_READ) === 0) return true;
    return false;
  }

  /** True when [offset, offset+len) of a mapping touches an unmapped page. */
  private holeIn(m: Mapping, offset: number, len: number): boolean {
    if (m.holes === null || len === 0) return false;
    const ps = this.env.pageSize;
    for (let j = Math.floor(offset / ps); j < Math.ceil((offset + len) / ps); j++) if (m.holes.has(j)) return true;
    return false;
  }

  /** Ops on a region handle. */
  private fdOp(proc: Proc, op: Exclude<KernelOp, { kind: 'open' | 'close' | 'dup' | 'mmap' | 'munmap' | 'munmap_range' | 'mprotect' | 'fill' | 'check' | 'mincore' | 'personality' | 'drop_caches' | 'pressure' | 'fork' | 'exit' | 'drop_cap' }>, choice: number | undefined, variant: number): Answer {
    const area = proc.fds.get(op.r) ?? null;
    // qemu-user refuses an ioctl number it has no table entry for before it calls the host
    // (linux-user/syscall.c do_ioctl: -TARGET_ENOSYS), so a closed fd is never looked at.
    if (area === null) return (FD_SYSCALLS.has(op.kind) ? undefined : this.emulatorAnswer(op as Parameters<typeof driver.ioctl>[3])) ?? fail('EBADF');
    switch (op.kind) {
      case 'read':
        return this.read(area, op.len);
      case 'write':
        if (!area.writable) return fail('EBADF');
        return area.kind === 'ashmem' ? fail('EINVAL') : memfd.write(area, op.len);
      case 'lseek':
        return area.kind === 'ashmem' ? driver.lseek(this, area, op.offset, op.whence) : memfd.lseek(area, op.offset, op.whence);
      case 'fstat':
        return area.kind === 'ashmem' ? { ret: 0, mode: 'chr', size: 0 } : { ret: 0, mode: 'reg', size: Number((area.file as Backing).iSize) };
      case 'truncate':
        return area.kind === 'ashmem' ? fail('EINVAL') : memfd.truncate(area, BigInt(op.size));
      case 'add_seals':
        // memfd_add_seals checks FMODE_WRITE before it looks for a seals field: EPERM on a read-only
        // ashmem fd, EINVAL on a writable one (mm/memfd.c; seen on Debian's 5.10 driver).
        if (area.kind === 'ashmem') return fail(area.writable ? 'EINVAL' : 'EPERM');
        return memfd.addSeals(this, area, op.seals);
      case 'get_seals':
        return area.kind === 'ashmem' ? fail('EINVAL') : ok(area.seals);
      case 'pin':
      case 'unpin':
      case 'status':
        // PIN/UNPIN/GET_PIN_STATUS have one number in every encoding (§1.3): skip decoding.
        if (area.kind === 'ashmem' && this.env.ioctlEmulation === 'none' && this.features.pinning === 'real') return driver.pinRequest(this, area, op.kind, op.offset, op.len);
        return this.ioctl(proc, area, op, choice, variant);
      default:
        return this.ioctl(proc, area, op, choice, variant);
    }
  }

  /**
   * What qemu-user answers itself, before any host call (so before the fd is looked at):
   * ENOSYS for the ashmem numbers (its table has none of them, linux-user/syscall.c do_ioctl);
   * other numbers it forwards if it knows them (FIOCLEX and FIONCLEX among them) and answers
   * ENOSYS for the rest; which it knows is the emulator's business, not the kernel's.
   */
  private emulatorAnswer(op: Parameters<typeof driver.ioctl>[3]): Answer | undefined {
    if (this.env.ioctlEmulation !== 'qemu-user') return undefined;
    const cmd = driver.ioctlCall(op, this.env.callerBits).cmd;
    if (((cmd >>> 8) & 0xff) === 0x77) return fail('ENOSYS');
    const passed = cmd === VFS_IOCTL.FIOCLEX || cmd === VFS_IOCTL.FIONCLEX;
    if ((op.kind === 'ioctl' || op.kind === 'ioctl_buf') && !passed) return { error: UNMODELLED, message: 'under qemu-user the emulator decides which non-ashmem ioctls reach the kernel' };
    return undefined;
  }

  private ioctl(proc: Proc, area: Area, op: Parameters<typeof driver.ioctl>[3], choice: number | undefined, variant: number): Answer {
    return this.emulatorAnswer(op) ?? (area.kind === 'ashmem' ? driver.ioctl(this, proc, area, op, choice, variant) : memfd.ioctl(this, proc, area, op));
  }

  private mmap(proc: Proc, op: Extract<KernelOp, { kind: 'mmap' }>, variant: number): Answer {
    proc.maps.set(op.m, null);
    const { pageSize } = this.env;
    // An unaligned offset is refused before the fd is looked up: by the mmap syscall itself
    // (arch sys_mmap: `off & ~PAGE_MASK`), or by the C library before mmap2 on 32-bit ABIs.
    if (op.offset % pageSize !== 0) return fail('EINVAL');
    // qemu-user's target_mmap refuses length 0 itself, before any host call (so before fget).
    if (op.len === 0 && this.env.ioctlEmulation === 'qemu-user') return fail('EINVAL');
    const area = proc.fds.get(op.r) ?? null;
    if (area === null) return fail('EBADF');
    // Generic checks come before the driver's (mm/mmap.c): length 0 only after fget.
    if (op.len === 0) return fail('EINVAL');
    const shared = mapType(op.map) === 'shared';
    if (shared && (op.prot & 2) !== 0 && !area.writable) return fail('EACCES');
    // Variant 1 is the world where the kernel refuses the first charge above the commit limit
    // (overcommit.ts); mmap_region charges a private writable mapping before the driver runs.
    const charges = variant === 1 ? this.mmapCharges(op) : null;
    const refuse = (bytes: bigint | undefined): boolean => bytes !== undefined && mayRefuseCommit(this.env, bytes);
    if (refuse(charges?.mapping)) return fail('ENOMEM');
    let prot = op.prot;
    if (proc.readImpliesExec && (prot & PROT_READ) !== 0) prot |= PROT_EXEC;
    // do_mmap drops VM_SHARED (and VM_MAYWRITE) for MAP_SHARED on a read-only fd, so the driver
    // sees a private vma: vma_set_anonymous, no shmem_zero_setup (§3.5 step 6; mm/mmap.c). Seen on
    // Debian's 5.10 driver: reads through it allocate no file page (SEEK_DATA finds none).
    const vmShared = shared && area.writable;
    const r = area.kind === 'ashmem'
      ? driver.mmap(this, area, op.len, prot, { file: refuse(charges?.backingFile), transient: vmShared && refuse(charges?.transient) })
      : memfd.mmap(area, shared, prot);
    if ('errno' in r) return r;
    let may = r.mayProt;
    if (shared && !area.writable) may &= ~2;
    const backing = area.file as Backing;
    const anonymous = area.kind === 'ashmem' && !vmShared; // §3.5 step 6: vma_set_anonymous
    proc.maps.set(op.m, {
      kind: anonymous ? 'private' : mapType(op.map),
      area,
      backing: anonymous ? null : backing,
      own: shared && !anonymous ? null : new Map(),
      pgoff: op.offset / pageSize,
      len: op.len,
      prot,
      mayProt: may,
      holes: null,
      pageProt: null,
    });
    return ok(0);
  }

  private read(area: Area, len: number): Answer {
    if (area.kind === 'ashmem') {
      // §3.9: size 0 is EOF even without a file; no file is EBADF; no prot_mask check.
      if (area.size === 0n) return { ret: 0, rle: [] };
      if (area.file === null) return fail('EBADF');
    }
    const b = area.file as Backing;
    const avail = b.iSize > area.pos ? b.iSize - area.pos : 0n;
    const n = Number(avail < BigInt(len) ? avail : BigInt(len));
    const runs: [number, number][] = [];
    const ps = this.env.pageSize;
    let x = Number(area.pos);
    const end = x + n;
    while (x < end) {
      const p = Math.floor(x / ps);
      const to = Math.min(ps, end - p * ps);
      appendPage(runs, b.pages.get(p), x - p * ps, to);
      x = p * ps + to;
    }
    area.pos += BigInt(n);
    return { ret: n, rle: runs };
  }

  /**
   * True when some process has a shared mapping of this file that may be made writable (VM_MAYWRITE,
   * whatever its protection now): memfd's WRITE seal is refused while one exists (mm/memfd.c
   * mapping_deny_writable; mm/mmap.c counts every such vma, as mprotect could make it writable).
   */
  hasWritableSharedMapping(b: Backing): boolean {
    for (const p of this.procs.values()) for (const m of p.maps.values()) if (m !== null && m.kind === 'shared' && m.backing === b && (m.mayProt & PROT_WRITE) !== 0) return true;
    return false;
  }

  /** A deep copy: another possible world. */
  clone(): Kernel {
    const k = new Kernel(this.features, this.env);
    k.nextArea = this.nextArea;
    k.nextIno = this.nextIno;
    k.shrinkerDeferred = this.shrinkerDeferred;
    k.procs.clear();
    const areaMap = new Map<Area, Area>();
    const fileMap = new Map<Backing, Backing>();
    const fileOf = (b: Backing | null): Backing | null => {
      if (b === null) return null;
      let c = fileMap.get(b);
      if (c === undefined) fileMap.set(b, (c = b.clone()));
      return c;
    };
    const rangeMap = new Map<Range, Range>();
    const areaOf = (a: Area): Area => {
      let c = areaMap.get(a);
      if (c === undefined) {
        c = a.cloneShallow();
        c.file = fileOf(a.file);
        c.unpinned = a.unpinned.map((r) => {
          const n = new Range(r.areaId, r.pgstart, r.pgend, r.purged);
          rangeMap.set(r, n);
          return n;
        });
        areaMap.set(a, c);
      }
      return c;
    };
    for (const [id, a] of this.areas) k.areas.set(id, areaOf(a));
    for (const r of this.lru) {
      const n = rangeMap.get(r);
      if (n !== undefined) k.lru.add(n);
    }
    for (const [name, p] of this.procs) {
      const fds = new Map<string, Area | null>();
      for (const [h, a] of p.fds) fds.set(h, a === null ? null : areaOf(a));
      const unnamed = p.unnamed.map(areaOf);
      const maps = new Map<string, Mapping | null>();
      for (const [h, m] of p.maps) maps.set(h, m === null ? null : cloneMapping(m, areaOf(m.area), fileOf(m.backing)));
      k.procs.set(name, { fds, unnamed, maps, readImpliesExec: p.readImpliesExec, noSysAdmin: p.noSysAdmin });
    }
    return k;
  }
}

/**
 * Under qemu-user the guest's address space is the emulator's: a munmap'ed hole stays reserved
 * (so mprotect across it succeeds) and mincore refuses pages the guest may not read (ENOMEM for
 * PROT_NONE, write-only and exec-only pages before qemu 8.1), as its page flags, not the kernel's
 * vmas, decide. Seen with qemu-user 7.2 on this project's hosts; the model leaves those answers
 * to the emulator.
 */
const EMULATED_MEMORY: Answer = { error: UNMODELLED, message: 'under qemu-user the emulator answers mprotect and mincore over unmapped or PROT_NONE guest pages' };

/** Ops on a region handle that are system calls of their own, not ioctls. */
const FD_SYSCALLS: ReadonlySet<KernelOp['kind']> = new Set(['read', 'write', 'lseek', 'fstat', 'truncate', 'add_seals', 'get_seals']);

/** The `state` error for a mapping or process handle that is not live. */
function stateError(handle: string): Answer {
  return { error: 'state', message: `${handle} is not live (its mmap failed, it was unmapped, or it exited)` };
}

export { SEAL };
