/**
 * Random op scripts (fast-check arbitraries), reproducible from a seed. Offsets and lengths are
 * drawn in pages inside small regions so that requests overlap, split, touch and abut often;
 * `len == 0`, the empty interval, purges between pins and second processes are all in the mix.
 *
 * Some regions are huge (sizes at and around 2^31, 2^32 and 2^63, and values whose low 32 bits
 * read as an errno), so that GET_SIZE's truncation to the ioctl's int, SET_SIZE of any word,
 * `len == 0` above 4 GiB and the u32 overflow of pin arguments are reached. Every case stays
 * runnable on a real driver in a small machine: only a window of at most `maxPages` pages of a
 * huge region is ever mapped, filled or checked (its first mmap, plain or MAP_NORESERVE, touches
 * nothing: a plain one may be refused with ENOMEM, which the model admits); no other op allocates more than a few pages (`pressure` asks for
 * at most 32 MiB for a second).
 *
 * The mix was weighed by what `npm run coverage` reports the cases miss of the model, not by
 * hand-picked cases: each family below names the model paths it is there for.
 */
import fc from 'fast-check';
import { MAIN_PROC, MAP_KINDS, type MapKind, type Op } from './ast.js';
import { parseScript } from './parse.js';
import { printScript, quote } from './print.js';

/** What the generator needs to know about the target and how to weigh ops. */
export interface GenerateSettings {
  readonly pageSize: number;
  /** Ops after the prelude, at most. */
  readonly length: number;
  /** Regions are memfds (set sizes with ftruncate rather than ASHMEM_SET_SIZE). */
  readonly memfd: boolean;
  /** Largest region (and largest window of a huge region), in pages. */
  readonly maxPages: number;
  /** Relative weights per op family (0 turns one off). */
  readonly mix: Readonly<Record<OpFamily, number>>;
  /**
   * The probe runs under qemu-user: the emulator, not the kernel, decides what an mprotect across
   * a munmap'ed hole did (kernel.ts), so nothing touches the mapping after one.
   */
  readonly emulated: boolean;
}

/** The op families the generator mixes. */
export type OpFamily =
  | 'unpin' | 'pin' | 'status' | 'purge' | 'drop' | 'check' | 'fill' | 'file' | 'prot' | 'errors' | 'mapping' | 'fds' | 'fork' | 'bulk'
  | 'size' | 'name' | 'raw' | 'memory' | 'lifecycle' | 'personality' | 'seals' | 'pressure';

/**
 * Weighted toward pin, unpin and purge, as the driver's interesting states come from them; the
 * rest reach the checks and answers around them (sizes, names, raw ioctl numbers, mapping
 * permissions and faults, closing and reopening, memfd seals).
 */
export const DEFAULT_MIX: Readonly<Record<OpFamily, number>> = {
  unpin: 25, pin: 20, status: 10, purge: 8, drop: 2, check: 8, fill: 3, file: 5, prot: 3, errors: 3, mapping: 8, fds: 2, fork: 3, bulk: 1,
  size: 4, name: 3, raw: 8, memory: 8, lifecycle: 2, personality: 1, seals: 2, pressure: 0.6,
};

/** Default settings for a page size. */
export function defaultSettings(pageSize: number, memfd = false): GenerateSettings {
  // On memfd regions seals are where the flavour's own answers are (§6, §7.1).
  return { pageSize, length: 40, memfd, maxPages: 12, mix: memfd ? { ...DEFAULT_MIX, seals: 10 } : DEFAULT_MIX, emulated: false };
}

/**
 * The settings `run` generates with for a target: its page size, memfd regions where the
 * profile's regions are memfds, no drop_caches or pressure without root (drop_caches could
 * only say EACCES; pressure is left to root targets, whose memory the harness may load), and
 * no touch after an mprotect across a hole where the probe runs under qemu-user (its facts'
 * `ioctlEmulation`; qemu-aarch64 7.2 hung on such a store, and the model leaves the mprotect's
 * effect to the emulator). A vm guest or a device runs the probe on a real kernel, which answers it.
 */
export function settingsForTarget(target: { readonly pageSize: number; readonly root: boolean; readonly memfd: boolean; readonly ioctlEmulation: 'none' | 'qemu-user' }, length: number): GenerateSettings {
  const s = defaultSettings(target.pageSize, target.memfd);
  return { ...s, length, mix: { ...s.mix, drop: target.root ? s.mix.drop : 0, pressure: target.root ? s.mix.pressure : 0 }, emulated: target.ioctlEmulation === 'qemu-user' };
}

/**
 * A vast region: 2^62 bytes, a backing file far past 2^53 that a 64-bit kernel still creates
 * (below MAX_LFS_FILESIZE), so the pin checks run on sizes no double holds (the model's bigint
 * path). Two things are never asked of it: SEEK_END (the offset, past 2^53, is no result a JSON
 * number carries exactly) and UNPIN with len 0 (where len 0 is "to the end" in 64 bits, the
 * range would hold 2^50 pages, which a drop_caches walks 128 at a time, on the guest and in the model).
 */
const VAST = 1n << 62n;

/**
 * Huge region sizes, as functions of the page size: around 2^31 and 2^32 (int truncation of
 * GET_SIZE, len == 0 past 4 GiB, u32 overflow), low 32 bits that read as an errno (-22, -4095),
 * unaligned, {@link VAST}, and beyond MAX_LFS_FILESIZE (the first mmap fails with EINVAL). `memfd`
 * sizes stay below 2^53 (ftruncate takes a count).
 */
function hugeSizes(ps: bigint, memfd: boolean): bigint[] {
  const g31 = 1n << 31n;
  const g32 = 1n << 32n;
  const common = [g31, g31 + 2n * ps, g32 - ps, g32, g32 + 2n * ps, g32 + ps + 1n, 0xffff_ffean, 0xffff_f001n, (1n << 33n) + ps];
  return memfd ? common : [...common, VAST, 1n << 63n, (1n << 64n) - 1n, (1n << 64n) - ps];
}

/**
 * SET_SIZE values for a later set_size: small page counts, zero, unaligned, huge. Not
 * {@link VAST}: the region is then taken as a small one, whose unpins may say len 0.
 */
function sizeValues(ps: bigint, maxPages: number): bigint[] {
  return [0n, ps, 2n * ps + 1n, BigInt(maxPages) * ps, ...hugeSizes(ps, false).filter((v) => v !== VAST)];
}

/**
 * ioctl numbers (asm-generic `_IOC`, §1.3): the ashmem set in its native 64-bit encodings and the
 * 32-bit compat ones of SET_SIZE, SET_PROT_MASK and GET_FILE_ID; numbers in the ashmem type
 * outside the set; a tty number (TCGETS); and the VFS's own (`harness/model/vfs-ioctl.ts`: FIOCLEX,
 * FIONCLEX, FIONBIO, FIOASYNC, FIONREAD, FIOQSIZE, FIBMAP, FIGETBSZ, FIFREEZE and FITHAW, which a
 * tmpfs device node refuses, FS_IOC_FIEMAP, the flags and fsxattr ioctls, the clone and dedupe
 * requests, which the model leaves open). None changes anything: the clone and dedupe requests
 * name the ashmem fd as the one written to, or no file to write at all.
 */
const RAW_COMMANDS = [
  0x41007701, 0x81007702, 0x40087703, 0x7704, 0x40087705, 0x7706, 0x40087707, 0x40087708, 0x7709, 0x770a, 0x8008770b,
  0x40047703, 0x40047705, 0x8004770b, 0x7700, 0x770c, 0x77ff,
  0x5401, 0x5451, 0x5450, 0x5421, 0x5452, 0x541b, 0x5460, 0x1, 0x2, 0xc0045877, 0xc0045878, 0xc020660b,
  0x80086601, 0x40086602, 0x80046601, 0x40046602, 0x801c581f, 0x401c5820,
  // FICLONE and FICLONERANGE (the ashmem fd is the destination: a character device is never cloned
  // into; the source fd is only read), FIDEDUPERANGE (the ashmem fd is the source; a zeroed
  // request names no destination), FS_IOC_GETFSUUID and FS_IOC_GETFSSYSFSPATH (6.8+), and x86-64's
  // compat FS_IOC_RESVSP_32 (reads a struct, then refuses a character device).
  0x40049409, 0x4020940d, 0xc0189436, 0x80111500, 0x80811501, 0x402c5828,
] as const;

/**
 * Commands an `ioctl_buf` may carry: not SET_SIZE (native or compat number), which would store the
 * buffer's address as the size, a value no model can know (the area's later answers would follow it).
 */
const BUF_COMMANDS = RAW_COMMANDS.filter((c) => c !== 0x40087703 && c !== 0x40047703);

/** Raw ioctl arguments: a plain value is never a valid pointer (docs/op-scripts.md). */
const RAW_ARGS = [0n, 1n, 3n, 0x1000n, 8192n, -1n] as const;

/** An op before handles and byte offsets are fixed: region index and page numbers. */
type Abstract =
  | { t: 'pin' | 'unpin' | 'status'; reg: number; off: number; len: number; odd: boolean; far: number }
  | { t: 'purge'; reg: number }
  | { t: 'drop' }
  | { t: 'check' | 'fill'; reg: number; off: number; len: number; byte: number; bytes: number }
  | { t: 'read'; reg: number; len: number }
  | { t: 'lseek'; reg: number; off: number; whence: 'set' | 'cur' | 'end' | 'data' | 'hole'; negative: boolean }
  | { t: 'get_size' | 'get_prot' | 'get_name' | 'pin_null' | 'unpin_null' | 'status_null' | 'set_name_null' | 'get_name_null' | 'write' | 'fstat' | 'file_id' | 'file_id_null' | 'get_seals'; reg: number }
  | { t: 'set_prot'; reg: number; prot: number }
  | { t: 'set_size'; reg: number; value: number }
  | { t: 'set_name'; reg: number; name: string; repeat: number; get: boolean }
  | { t: 'ioctl'; reg: number; cmd: number; arg: number }
  | { t: 'ioctl_buf'; reg: number; cmd: number; off: number; len: number; text: number }
  | { t: 'set_name_at_page_end'; reg: number; name: string; repeat: number }
  | { t: 'munmap_range'; map: number; off: number; len: number; then: number }
  | { t: 'mincore'; map: number; off: number; len: number }
  | { t: 'drop_cap'; reg: number; child: boolean }
  | { t: 'mmap'; reg: number; pages: number; prot: number; kind: MapKind; off: number; shape: number; mask: number; reprot: number }
  | { t: 'munmap'; map: number }
  | { t: 'mprotect'; map: number; prot: number }
  | { t: 'touch'; map: number; off: number; len: number; byte: number; store: boolean }
  | { t: 'dup'; reg: number }
  | { t: 'dup_onto'; reg: number; onto: number }
  | { t: 'close'; reg: number; reopen: boolean }
  | { t: 'personality'; rie: boolean }
  | { t: 'add_seals'; reg: number; seals: number }
  | { t: 'truncate'; reg: number; value: number; odd: number }
  | { t: 'pressure'; mib: number }
  | { t: 'fork'; reg: number; off: number; len: number; kind: 'pin' | 'unpin' | 'fill' | 'check' | 'close' | 'outlive' }
  // A region of its own with many unpinned ranges, so one shrinker batch (128) is exceeded (§5.2).
  | { t: 'bulk'; count: number; width: number; gap: number };

interface Region {
  pages: number;
  /** Bytes short of a whole last page (an unaligned size). */
  short: number;
  /** Index into the huge sizes, or -1 for a small region of `pages` pages. */
  huge: number;
  named: string | null;
  mapped: boolean;
  /** The prelude's mmap: MAP_NORESERVE or not (a huge region always is). */
  noreserve: boolean;
  rdonly: boolean;
}

function abstractOp(s: GenerateSettings): fc.Arbitrary<Abstract> {
  const reg = fc.nat(2);
  const page = fc.nat(s.maxPages);
  const small = (n: number): fc.Arbitrary<number> => fc.nat(n);
  // A mapping: usually the newest one (0), so loads, stores, holes and mprotect meet on one mapping.
  const mapIndex = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat(7) });
  // Lengths: often 0 ("to the end"), usually short so ranges abut and overlap.
  const len = fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.nat(s.maxPages) });
  const pinLike = (t: 'pin' | 'unpin' | 'status'): fc.Arbitrary<Abstract> =>
    fc.record({
      t: fc.constant(t), reg, off: page, len,
      odd: fc.oneof({ weight: 19, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      // On a huge region: where the range sits (near 0, 2^31, 2^32 or the end) and how long it is.
      far: small(15),
    });
  const byteRange = (t: 'check' | 'fill'): fc.Arbitrary<Abstract> =>
    fc.record({ t: fc.constant(t), reg, off: page, len: fc.integer({ min: 1, max: s.maxPages }), byte: fc.integer({ min: 1, max: 255 }), bytes: small(7) });
  const nameArb = fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.constantFrom('\0x', 'a\0') },
  );
  const w = s.mix;
  const families: { weight: number; arbitrary: fc.Arbitrary<Abstract> }[] = [
    { weight: w.unpin, arbitrary: pinLike('unpin') },
    { weight: w.pin, arbitrary: pinLike('pin') },
    { weight: w.status, arbitrary: pinLike('status') },
    { weight: w.purge, arbitrary: fc.record({ t: fc.constant('purge' as const), reg }) },
    { weight: w.drop, arbitrary: fc.constant({ t: 'drop' as const }) },
    { weight: w.check, arbitrary: byteRange('check') },
    { weight: w.fill, arbitrary: byteRange('fill') },
    {
      weight: w.file,
      arbitrary: fc.oneof(
        fc.record({ t: fc.constant('read' as const), reg, len: fc.integer({ min: 0, max: 3 * s.pageSize }) }),
        fc.record({
          t: fc.constant('lseek' as const), reg, off: fc.nat((s.maxPages + 2) * s.pageSize), whence: fc.constantFrom('set' as const, 'cur' as const, 'end' as const, 'data' as const, 'hole' as const),
          // Negative offsets: back from the position or the end, EINVAL before the start, ENXIO for DATA/HOLE.
          negative: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        }),
        fc.record({ t: fc.constantFrom('get_size' as const, 'get_name' as const, 'fstat' as const, 'write' as const), reg }),
      ),
    },
    {
      weight: w.prot,
      arbitrary: fc.oneof(
        fc.record({ t: fc.constant('get_prot' as const), reg }),
        fc.record({ t: fc.constant('set_prot' as const), reg, prot: fc.integer({ min: 0, max: 8 }) }),
      ),
    },
    {
      // NULL arguments: EFAULT where the driver reads them, EINVAL where the file check comes first (§3.6).
      weight: w.errors,
      arbitrary: fc.record({ t: fc.constantFrom('pin_null' as const, 'unpin_null' as const, 'status_null' as const, 'file_id' as const, 'file_id_null' as const, 'set_name_null' as const, 'get_name_null' as const), reg }),
    },
    {
      // SET_SIZE of any word before the first mmap, EINVAL after it; GET_SIZE truncated to int (§3.3, §12).
      weight: w.size,
      arbitrary: fc.oneof(
        fc.record({ t: fc.constant('set_size' as const), reg, value: small(63) }),
        fc.record({ t: fc.constant('get_size' as const), reg }),
      ),
    },
    {
      // Names: empty (unnamed again in C, "" in Rust), embedded NULs, 255/256/300 bytes without a NUL (§3.2).
      weight: w.name,
      arbitrary: fc.oneof(
        { weight: 3, arbitrary: fc.record({ t: fc.constant('set_name' as const), reg, name: nameArb, repeat: fc.constant(1), get: fc.boolean() }) },
        { weight: 1, arbitrary: fc.record({ t: fc.constant('set_name' as const), reg, name: fc.constantFrom('a', 'xy'), repeat: fc.constantFrom(127, 128, 255, 256, 300), get: fc.boolean() }) },
        // The name and its NUL end a readable page: a fixed 256-byte copy faults (C-orig, early Rust).
        { weight: 2, arbitrary: fc.record({ t: fc.constant('set_name_at_page_end' as const), reg, name: nameArb, repeat: fc.constantFrom(1, 1, 1, 254, 255, 256) }) },
        { weight: 2, arbitrary: fc.record({ t: fc.constant('get_name' as const), reg }) },
      ),
    },
    {
      // Raw numbers with a plain value, or with a pointer to bytes (an ashmem_pin, a name, an int flag).
      weight: w.raw,
      arbitrary: fc.oneof(
        // Every number as likely as any other (fast-check's bias would favour the first few).
        { weight: 1, arbitrary: fc.record({ t: fc.constant('ioctl' as const), reg, cmd: fc.noBias(fc.nat(RAW_COMMANDS.length - 1)), arg: fc.nat(RAW_ARGS.length - 1) }) },
        { weight: 2, arbitrary: fc.record({ t: fc.constant('ioctl_buf' as const), reg, cmd: fc.noBias(fc.nat(BUF_COMMANDS.length - 1)), off: page, len: fc.nat(4), text: fc.nat(4) }) },
      ),
    },
    {
      // Further mappings: every kind, prot (EPERM past the mask, EACCES on an O_RDONLY fd), length 0,
      // unaligned and beyond-the-region offsets, longer than the region (§3.5).
      weight: w.mapping,
      // Some first narrow the prot mask (the mapping then lacks VM_MAY bits: mprotect EACCES, §3.5 step 4).
      arbitrary: fc.record({ t: fc.constant('mmap' as const), reg, pages: fc.integer({ min: 1, max: s.maxPages + 2 }), prot: fc.constantFrom(0, 1, 3, 3, 3, 3, 2, 4, 5, 7), kind: fc.constantFrom(...MAP_KINDS), off: small(3), shape: small(11), mask: small(11), reprot: fc.constantFrom(0, 1, 3, 5, 7) }),
    },
    {
      // Loads and stores through any live mapping, at byte offsets: partial pages, faults
      // (SIGSEGV without the right, SIGBUS past i_size), copy-on-write of private pages; mprotect; munmap.
      weight: w.memory,
      arbitrary: fc.oneof(
        { weight: 4, arbitrary: fc.record({ t: fc.constant('touch' as const), map: mapIndex, off: fc.nat(s.maxPages * s.pageSize), len: fc.integer({ min: 1, max: 2 * s.pageSize }), byte: fc.integer({ min: 0, max: 255 }), store: fc.boolean() }) },
        { weight: 2, arbitrary: fc.record({ t: fc.constant('mprotect' as const), map: mapIndex, prot: fc.constantFrom(0, 1, 3, 4, 5, 7) }) },
        { weight: 1, arbitrary: fc.record({ t: fc.constant('munmap' as const), map: mapIndex }) },
        // A hole inside a mapping: faults there, mprotect and mincore over it fail with ENOMEM; a hole
        // at the start leaves mprotect nothing to change.
        { weight: 2, arbitrary: fc.record({ t: fc.constant('munmap_range' as const), map: mapIndex, off: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.nat(s.maxPages) }), len: fc.nat(5), then: fc.nat(4) }) },
        // Residency of a window of a whole mapping, whatever its protection (qemu-user answers unreadable pages itself).
        { weight: 1, arbitrary: fc.record({ t: fc.constant('mincore' as const), map: mapIndex, off: fc.nat(s.maxPages), len: fc.nat(s.maxPages) }) },
      ),
    },
    {
      weight: w.fds,
      arbitrary: fc.oneof(
        { weight: 2, arbitrary: fc.record({ t: fc.constant('dup' as const), reg }) },
        // Over a live handle (its own included): the fd it named stays open, unnamed, with its area.
        { weight: 1, arbitrary: fc.record({ t: fc.constant('dup_onto' as const), reg, onto: fc.nat(2) }) },
      ),
    },
    {
      // close (the last one releases the area's ranges, §3.9), and a fresh open under the same handle.
      weight: w.lifecycle,
      arbitrary: fc.oneof(
        { weight: 4, arbitrary: fc.record({ t: fc.constant('close' as const), reg, reopen: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) }) },
        // Dropping CAP_SYS_ADMIN (PURGE_ALL_CACHES: EPERM even as root), mostly in a child so the case keeps purging.
        { weight: 1, arbitrary: fc.record({ t: fc.constant('drop_cap' as const), reg, child: fc.oneof({ weight: 2, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) }) },
      ),
    },
    { weight: w.personality, arbitrary: fc.record({ t: fc.constant('personality' as const), rie: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) }) },
    {
      // memfd seals and ftruncate (EINVAL on an ashmem fd, §6, §7.1).
      weight: w.seals,
      arbitrary: fc.oneof(
        // 0x40: no seal of any kernel so far (EINVAL); 0x20 is F_SEAL_EXEC from 6.3 on, left out.
        { weight: 2, arbitrary: fc.record({ t: fc.constant('add_seals' as const), reg, seals: fc.constantFrom(1, 1, 2, 4, 4, 8, 16, 6, 31, 0x40) }) },
        { weight: 1, arbitrary: fc.record({ t: fc.constant('get_seals' as const), reg }) },
        // Sizes around the current one; some end inside a page (the tail of a written page is zeroed).
        { weight: 2, arbitrary: fc.record({ t: fc.constant('truncate' as const), reg, value: small(8), odd: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: s.pageSize - 1 }) }) }) },
        // What the seals refuse: a write that grows the file (F_SEAL_GROW) or any write (F_SEAL_WRITE),
        // and a prot mask without PROT_WRITE, which the memfd shim turns into F_SEAL_FUTURE_WRITE (§7.1).
        { weight: 1, arbitrary: fc.record({ t: fc.constant('write' as const), reg }) },
        { weight: 1, arbitrary: fc.record({ t: fc.constant('set_prot' as const), reg, prot: fc.constantFrom(0, 1, 3, 5, 7) }) },
      ),
    },
    { weight: w.pressure, arbitrary: fc.record({ t: fc.constant('pressure' as const), mib: fc.integer({ min: 8, max: 32 }) }) },
    { weight: w.fork, arbitrary: fc.record({ t: fc.constant('fork' as const), reg, off: page, len, kind: fc.constantFrom('pin' as const, 'unpin' as const, 'fill' as const, 'check' as const, 'close' as const, 'outlive' as const) }) },
    { weight: w.bulk, arbitrary: fc.record({ t: fc.constant('bulk' as const), count: fc.integer({ min: 100, max: 200 }), width: fc.integer({ min: 1, max: 3 }), gap: fc.integer({ min: 0, max: 1 }) }) },
  ];
  // fast-check wants integer weights; tenths keep the rare families (pressure) rare.
  return fc.oneof(...families.filter((f) => f.weight > 0).map((f) => ({ weight: Math.max(1, Math.round(f.weight * 10)), arbitrary: f.arbitrary })));
}

function regionArb(s: GenerateSettings): fc.Arbitrary<Region> {
  const huge = hugeSizes(BigInt(s.pageSize), s.memfd).length;
  return fc.record({
    pages: fc.integer({ min: 1, max: s.maxPages }),
    short: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: s.pageSize - 1 }) }),
    huge: fc.oneof({ weight: 6, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.nat(huge - 1) }),
    named: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }),
    // A quarter of regions are never mapped: pinning before the first mmap is where lineages differ (§3.6, §10.1).
    mapped: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    noreserve: fc.boolean(),
    // O_RDONLY ashmem fds (EACCES for writable shared maps, EBADF for write); memfd regions stay O_RDWR.
    rdonly: s.memfd ? fc.constant(false) : fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  });
}

/** A mapping the rendered script made: its handle, bytes and how it may be touched. */
interface LiveMap {
  readonly name: string;
  readonly len: number;
  live: boolean;
  /**
   * munmap_range made a hole in it. Any later mapping, the script's or one the probe makes for
   * its own buffers, may reuse the hole's addresses, so nothing but munmap touches it again.
   */
  holed: boolean;
}

/** The text of a generated case: a prelude that creates 1-3 regions, then the body. */
function render(s: GenerateSettings, regions: readonly Region[], body: readonly Abstract[]): string {
  const ps = s.pageSize;
  const bps = BigInt(ps);
  const huges = hugeSizes(bps, s.memfd);
  const window = s.maxPages * ps;
  const lines: string[] = [];
  const size = (r: Region): bigint => (r.huge >= 0 ? (huges[r.huge] as bigint) : BigInt(r.pages * ps - r.short));
  const vast = (r: Region): boolean => r.huge >= 0 && huges[r.huge] === VAST;
  // Bytes of the region a mapping may cover: all of a small region, a window of a huge one.
  const span = (r: Region): number => (r.huge >= 0 ? window : r.pages * ps - r.short);
  const setSize = (h: string, v: bigint): string => (s.memfd ? `truncate ${h} ${v}` : `set_size ${h} ${v < 0n ? v : `0x${v.toString(16)}`}`);
  const maps: LiveMap[] = [];
  const prelude = (r: Region, k: number): void => {
    lines.push(r.rdonly ? `open r${k} rdonly` : `open r${k}`);
    if (r.named !== null) lines.push(`set_name r${k} ${JSON.stringify(r.named.replace(/[^\x20-\x7e]/g, '?'))}`);
    lines.push(setSize(`r${k}`, size(r)));
    if (r.mapped) {
      // A plain first mmap of a huge region commits the whole file: ENOMEM on a small machine
      // (the model admits it), nothing touched on a large one; MAP_NORESERVE commits nothing.
      const kind = r.noreserve ? 'shared_noreserve' : 'shared';
      lines.push(`mmap m${k} r${k} ${span(r)} ${r.rdonly ? 1 : 3} ${kind} 0`);
      if (!r.rdonly) lines.push(`fill m${k} 0 ${span(r)} ${0x10 + k}`);
      maps.push({ name: `m${k}`, len: span(r), live: true, holed: false });
    }
  };
  regions.forEach((r, k) => prelude(r, k));
  const state = regions.map((r) => ({ ...r }));
  let forks = 0;
  let dups = 0;
  let bulks = 0;
  // Handles of their own: prelude regions r0-r2 / m0-m2, bulk regions r13.. / m13.., the rest from 100.
  let nextMap = 100;
  let reopens = 0;
  const newMap = (len: number): LiveMap => {
    const m = { name: `m${nextMap++}`, len, live: true, holed: false };
    maps.push(m);
    return m;
  };
  for (const a of body) {
    if (a.t === 'drop') { lines.push('drop_caches'); continue; }
    if (a.t === 'pressure') { lines.push(`pressure ${a.mib} 1`); continue; }
    if (a.t === 'personality') { lines.push(`personality ${a.rie ? 'read_implies_exec' : 'default'}`); continue; }
    if (a.t === 'bulk') {
      // One per case: each drop_caches over hundreds of ranges admits that many worlds.
      if (bulks > 0) { lines.push('purge_all r0'); continue; }
      const k = 3 + bulks++;
      const bytes = a.count * (a.width + a.gap) * ps;
      lines.push(`open r${k + 10}`, s.memfd ? `truncate r${k + 10} ${bytes}` : `set_size r${k + 10} ${bytes}`, `mmap m${k + 10} r${k + 10} ${bytes} 3 shared 0`, `fill m${k + 10} 0 ${bytes} ${0x40 + k}`);
      // Adjacent ranges never merge (§4.1), so gap 0 still makes `count` ranges.
      for (let i = 0; i < a.count; i++) lines.push(`unpin r${k + 10} ${i * (a.width + a.gap) * ps} ${a.width * ps}`);
      // The check tells which prefix went; closing the region then takes its ranges off the LRU
      // (§3.9), so later purge triggers do not each admit hundreds of worlds.
      lines.push('drop_caches', `check m${k + 10} 0 ${bytes}`, `close r${k + 10}`);
      continue;
    }
    if (a.t === 'touch' || a.t === 'mprotect' || a.t === 'munmap' || a.t === 'munmap_range' || a.t === 'mincore') {
      const m = maps.length === 0 ? undefined : (maps[maps.length - 1 - (a.map % maps.length)] as LiveMap);
      if (m === undefined) { lines.push('get_size r0'); continue; }
      if (m.holed) { lines.push(`munmap ${m.name}`); m.live = false; continue; }
      if (a.t === 'munmap_range') {
        // Page-aligned inside the mapping, 1-4 pages; or (len 5) one byte off, or length 0: EINVAL.
        const off = Math.min(a.off, Math.ceil(m.len / ps) - 1) * ps + (a.len === 5 ? 1 : 0);
        const n = a.len === 0 ? 0 : Math.max(1, Math.min((a.len % 5) * ps || ps, m.len - off));
        if (off >= m.len) continue;
        lines.push(`munmap_range ${m.name} ${off} ${n}`);
        // At once, before anything can map into the hole: a touch across it, mprotect or mincore over the mapping.
        const whole = Math.min(m.len, off + n + ps);
        if (a.then === 1) lines.push(`check ${m.name} 0 ${whole}`);
        else if (a.then === 2) lines.push(`fill ${m.name} 0 ${whole} 0x3c`);
        else if (a.then === 3) {
          // The pages before the hole took the new protection, the rest kept theirs: a touch across
          // the hole shows which (not under qemu-user, where the emulator decides what it did, kernel.ts).
          lines.push(`mprotect ${m.name} ${a.off % 2 === 0 ? 1 : 3}`);
          if (!s.emulated) lines.push(a.len % 2 === 0 ? `check ${m.name} 0 ${whole}` : `fill ${m.name} 0 ${whole} 0x2d`);
        } else if (a.then === 4) {
          // The whole mapping, or only the pages before the hole (no hole in the window).
          lines.push(`mincore ${m.name} 0 ${a.off % 2 === 1 && off >= ps ? Math.floor(off / ps) * ps : m.len}`);
        }
        m.holed = true;
        continue;
      }
      if (a.t === 'munmap') { lines.push(`munmap ${m.name}`); m.live = false; continue; }
      if (a.t === 'mincore') {
        const off = Math.min(a.off, Math.ceil(m.len / ps) - 1) * ps;
        lines.push(`mincore ${m.name} ${off} ${Math.min(a.len * ps, m.len - off)}`);
        continue;
      }
      if (a.t === 'mprotect') { lines.push(`mprotect ${m.name} ${a.prot}`); continue; }
      // A window inside the mapping (else the probe refuses it as a `state` error).
      const off = a.off % m.len;
      const n = Math.min(a.len, m.len - off);
      lines.push(a.store ? `fill ${m.name} ${off} ${n} ${a.byte}` : `check ${m.name} ${off} ${n}`);
      continue;
    }
    const k = a.reg % state.length;
    const r = state[k] as Region;
    const R = `r${k}`;
    switch (a.t) {
      case 'pin': case 'unpin': case 'status': {
        if (r.huge >= 0) {
          const len = farLength(a.far, a.len, bps);
          lines.push(`${a.t} ${R} ${farOffset(a.far, a.off, size(r), bps) + (a.odd ? 1n : 0n)} ${len === 0n && a.t === 'unpin' && vast(r) ? bps : len}`);
          break;
        }
        const off = Math.min(a.off, r.pages) * ps + (a.odd ? 1 : 0);
        const len = Math.min(a.len, r.pages + 1) * ps;
        lines.push(`${a.t} ${R} ${off} ${len}`);
        break;
      }
      case 'purge': lines.push(`purge_all ${R}`); break;
      case 'check': case 'fill': {
        const own = maps.find((m) => m.name === `m${k}`);
        if (!r.mapped || (r.rdonly && a.t === 'fill') || own === undefined || own.holed) { lines.push(`status ${R} 0 0`); break; }
        const limit = span(r);
        // Usually whole pages; sometimes a partial page at a byte offset.
        const off = Math.min(Math.min(a.off, Math.ceil(limit / ps) - 1) * ps + (a.bytes > 5 ? a.bytes * 97 : 0), limit - 1);
        const len = Math.max(1, Math.min(a.len * ps - (a.bytes > 5 ? a.bytes * 31 : 0), limit - off));
        lines.push(a.t === 'check' ? `check m${k} ${off} ${len}` : `fill m${k} ${off} ${len} ${a.byte}`);
        break;
      }
      case 'read': lines.push(`read ${R} ${a.len}`); break;
      case 'write': lines.push(`write ${R} ${ps}`); break;
      case 'lseek': lines.push(`lseek ${R} ${a.negative ? -(a.off + 1) : a.off} ${a.whence === 'end' && vast(r) ? 'set' : a.whence}`); break;
      case 'set_prot': lines.push(`set_prot ${R} ${a.prot}`); break;
      case 'set_size': {
        const values = sizeValues(bps, s.maxPages);
        lines.push(`set_size ${R} ${printWord(values[a.value % values.length] as bigint)}`);
        break;
      }
      case 'set_name': case 'set_name_at_page_end':
        lines.push(`${a.t} ${R} ${quote(latin1(a.name))}${a.repeat > 1 ? `*${a.repeat}` : ''}`);
        if (a.t === 'set_name' && a.get) lines.push(`get_name ${R}`);
        break;
      case 'ioctl_buf': lines.push(`ioctl_buf ${R} 0x${(BUF_COMMANDS[a.cmd] as number).toString(16)} ${quote(bufferBytes(a.text, a.off * ps, (vast(r) ? Math.max(1, a.len) : a.len) * ps))}`); break;
      case 'drop_cap':
        if (!a.child) { lines.push('drop_cap sys_admin'); break; }
        lines.push(`fork p${++forks}`, `p${forks}: drop_cap sys_admin`, `p${forks}: purge_all ${R}`, `exit p${forks}`);
        break;
      case 'ioctl': lines.push(`ioctl ${R} 0x${(RAW_COMMANDS[a.cmd] as number).toString(16)} ${printWord(RAW_ARGS[a.arg] as bigint)}`); break;
      case 'mmap': {
        // Shapes: mostly a window inside the region; sometimes length 0, an unaligned offset, an
        // offset past the region, or longer than the region (EINVAL since 2018, SIGBUS before).
        const inside = a.shape >= 4 && r.huge < 0;
        const len = a.shape === 0 ? 0 : a.shape === 3 ? span(r) + 2 * ps : Math.min(a.pages * ps, inside ? r.pages * ps : span(r));
        const off = a.shape === 1 ? 1 : a.shape === 2 ? (r.pages + a.off) * ps : inside ? Math.min(a.off, r.pages - len / ps) * ps : 0;
        const kind = r.huge >= 0 && !a.kind.endsWith('_noreserve') ? (`${a.kind}_noreserve` as MapKind) : a.kind;
        const m = newMap(Math.max(len, 1));
        if (a.mask < 4) lines.push(`set_prot ${R} ${[1, 3, 5, 0][a.mask] as number}`);
        lines.push(`mmap ${m.name} ${R} ${len} ${a.prot} ${kind} ${off}`);
        if (len === 0) m.live = false;
        else {
          // Use it at once: a store where it may be written (copy-on-write for a private one), then a load.
          if ((a.prot & 2) !== 0) lines.push(`fill ${m.name} ${a.off} ${Math.min(len - a.off, ps + 5)} 0x5e`);
          if ((a.prot & 1) !== 0) lines.push(`check ${m.name} 0 ${Math.min(len, ps + 7)}`);
        }
        if (a.mask < 6) lines.push(`mprotect ${m.name} ${a.reprot}`);
        break;
      }
      case 'dup': {
        const d = `r${100 + dups++}`;
        lines.push(`dup ${d} ${R}`, `status ${d} 0 0`, `close ${d}`);
        break;
      }
      case 'dup_onto': {
        const j = a.onto % state.length;
        lines.push(`dup r${j} ${R}`);
        // r{j} names this area from here on; its mapping m{j} stays on the old one, so fills and
        // checks through r{j} become status (a window of this region may not fit m{j}).
        if (j !== k) state[j] = { ...r, mapped: false };
        break;
      }
      case 'close': {
        lines.push(`close ${R}`);
        if (!a.reopen) break;
        // The handle names a new, unmapped region from here on (the old mapping stays live, §3.9).
        reopens++;
        const fresh: Region = { ...r, huge: -1, pages: 1 + (reopens % s.maxPages), short: 0, mapped: false, rdonly: false };
        state[k] = fresh;
        lines.push(`open ${R}`, setSize(R, size(fresh)));
        break;
      }
      case 'add_seals': lines.push(`add_seals ${R} ${a.seals}`); break;
      case 'get_seals': lines.push(`get_seals ${R}`); break;
      case 'truncate': lines.push(`truncate ${R} ${a.value === 0 ? 0 : Math.max(1, r.pages + a.value - 4) * ps - (a.value === 8 ? 1 : a.odd)}`); break;
      case 'fork': {
        const p = `p${++forks}`;
        const off = Math.min(a.off, r.pages) * ps;
        if (a.kind === 'outlive') {
          // The child holds the last reference once the parent closes: its exit releases the area (§3.9).
          lines.push(`fork ${p}`, `${p}: status ${R} 0 0`, `close ${R}`, `exit ${p}`);
          reopens++;
          const fresh: Region = { ...r, huge: -1, pages: 1 + (reopens % s.maxPages), short: 0, mapped: false, rdonly: false };
          state[k] = fresh;
          lines.push(`open ${R}`, setSize(R, size(fresh)));
          break;
        }
        const child =
          a.kind === 'pin' || a.kind === 'unpin' ? `${a.kind} ${R} ${off} ${(vast(r) ? Math.max(1, Math.min(a.len, r.pages)) : Math.min(a.len, r.pages)) * ps}`
          : a.kind === 'close' ? `close ${R}`
          : maps.length === 0 || (maps[a.off % maps.length] as LiveMap).holed ? `status ${R} 0 0`
          : touchInChild(a.kind, maps[a.off % maps.length] as LiveMap, ps);
        lines.push(`fork ${p}`, `${p}: ${child}`, `exit ${p}`);
        break;
      }
      default: lines.push(`${a.t} ${R}`);
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * The bytes an `ioctl_buf` passes: nothing (the pointer alone), an int flag of 1, an
 * `ashmem_pin` {offset, len} (two little-endian u32), a name, or a zero int.
 */
function bufferBytes(kind: number, offset: number, len: number): string {
  const u32 = (v: number): string => String.fromCharCode(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  switch (kind) {
    case 0: return '';
    case 1: return '\x01';
    case 2: return u32(offset) + u32(len);
    case 3: return 'by-number';
    default: return '\0\0\0\0';
  }
}

/** A child's access to an inherited mapping: a store it keeps (private) or shares (shared). */
function touchInChild(kind: 'fill' | 'check', m: LiveMap, ps: number): string {
  const n = Math.min(m.len, ps);
  return kind === 'fill' ? `fill ${m.name} 0 ${n} 0x7e` : `check ${m.name} 0 ${n}`;
}

/**
 * A pin offset in a huge region (a u32): near page 0, just below 2^31, just below 2^32, or at
 * PAGE_ALIGN(size) when that fits (the empty interval).
 */
function farOffset(far: number, page: number, size: bigint, ps: bigint): bigint {
  const aligned = ((size + ps - 1n) / ps) * ps;
  const p = BigInt(page % 4);
  switch (far % 4) {
    case 0: return p * ps;
    case 1: return (1n << 31n) - p * ps;
    case 2: return (1n << 32n) - (p + 1n) * ps;
    default: return aligned <= 0xffff_ffffn ? aligned : (1n << 32n) - ps;
  }
}

/** A pin length in a huge region: 0 (to the end), a few pages, or long enough to pass 2^32. */
function farLength(far: number, pages: number, ps: bigint): bigint {
  switch (far >> 2) {
    case 0: return 0n;
    case 1: return BigInt(pages % 4) * ps;
    case 2: return 2n * ps;
    default: return (1n << 31n) + ps;
  }
}

/** A string's chars above 0xFF as '?' (a script string is bytes). */
function latin1(s: string): string {
  return [...s].map((c) => (c.charCodeAt(0) > 0xff ? '?' : c)).join('');
}

/** A machine word as the grammar reads it: hex, negative for the top half. */
function printWord(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** An arbitrary of whole scripts (as text, so the probe and the model see the same bytes). */
export function scriptArbitrary(s: GenerateSettings): fc.Arbitrary<string> {
  return fc
    // size 'medium': fast-check's default ('small') keeps arrays to about a quarter of maxLength
    // (4.75 ops on average, at most 10, for a length of 40); medium spreads them over the whole length.
    .record({ regions: fc.array(regionArb(s), { minLength: 1, maxLength: 3 }), body: fc.array(abstractOp(s), { maxLength: s.length, size: 'medium' }) })
    .map(({ regions, body }) => render(s, regions, body));
}

/** `count` cases from a seed: the same seed gives the same cases. */
export function generateCases(s: GenerateSettings, count: number, seed: number): string[] {
  return fc.sample(scriptArbitrary(s), { seed, numRuns: count });
}

/** Parses a generated script (generated text is always valid; this guards the generator). */
export function parsedCase(text: string): readonly Op[] {
  return parseScript(text).ops;
}

/** Prints ops as a script text (for shrunk cases). */
export function caseText(ops: readonly Op[]): string {
  return printScript(ops);
}

export { MAIN_PROC };
