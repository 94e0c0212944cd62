/**
 * Unit tests of the model's parts that scripts observe only indirectly: the LRU order (§4.5,
 * seen only through partial purges), the shrinker's admissible purges (§5.2, §5.3), ioctl
 * numbers and compat decoding (§1.3), the backing file's pages (§5.1), SEEK_DATA/SEEK_HOLE (§3.9),
 * and regions beyond 2^53 bytes (§3.6, §12). Each expectation cites its section.
 */
import assert from 'node:assert/strict';
import { Backing, materialize, writePage } from '../../harness/model/backing.js';
import { commandNumbers, decodeCommand } from '../../harness/model/ioctl.js';
import { Kernel } from '../../harness/model/kernel.js';
import { DEFAULT_ENVIRONMENT, profileById, type Environment } from '../../harness/model/profile.js';
import { admissiblePurgeAll, admissiblePurges, SHRINK_BATCH } from '../../harness/model/shrinker.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

function kernel(profile = 'c-final', env: Partial<Environment> = {}): Kernel {
  return new Kernel(profileById(profile).features, { ...DEFAULT_ENVIRONMENT, ...env });
}

/** What each kernel has run so far, so that a later chunk may use the handles of an earlier one. */
const history = new WeakMap<Kernel, string>();

function run(k: Kernel, text: string): OpResult[] {
  const before = history.get(k) ?? '';
  const all = before + (text.endsWith('\n') ? text : `${text}\n`);
  history.set(k, all);
  const skip = before === '' ? 0 : before.split('\n').length - 1;
  return parseScript(all).ops.filter((op) => op.line > skip).map((op) => k.apply(op));
}

/** The LRU as `area:pgstart-pgend`, oldest first. */
function lru(k: Kernel): string[] {
  return [...k.lru].map((r) => `${r.areaId}:${r.pgstart}-${r.pgend}`);
}

const REGION = (pages: number, r = 'r0', m = 'm0'): string => `open ${r}\nset_size ${r} ${pages * 4096}\nmmap ${m} ${r} ${pages * 4096} 3 shared 0\n`;

describe('model units', () => {
  describe('LRU order (§4.5, §12)', () => {
    it('UNPIN of a range already unpinned keeps its old slot; an overlapping UNPIN moves the merged range to the tail', () => {
      const k = kernel();
      run(k, `${REGION(16)}unpin r0 0 8192\nunpin r0 16384 8192\nunpin r0 0 8192\nunpin r0 4096 4096`);
      assert.deepEqual(lru(k), ['1:0-1', '1:4-5']);
      run(k, 'unpin r0 4096 8192');
      assert.deepEqual(lru(k), ['1:4-5', '1:0-2']);
    });

    it('PIN in the middle: the lower part keeps its slot, the upper part goes to the tail; trims keep slots', () => {
      const k = kernel();
      run(k, `${REGION(16)}unpin r0 0 40960\nunpin r0 49152 8192\npin r0 16384 8192`);
      assert.deepEqual(lru(k), ['1:0-3', '1:12-13', '1:6-9']);
      run(k, 'pin r0 0 4096\npin r0 53248 4096');
      assert.deepEqual(lru(k), ['1:1-3', '1:12-12', '1:6-9']);
      assert.equal(k.lru.count, 3 + 1 + 4);
    });

    it('the upper half of a purged range split by PIN stays purged and off the LRU (§4.3)', () => {
      const k = kernel();
      run(k, `${REGION(16)}unpin r0 0 40960\npurge_all r0\npin r0 8192 4096`);
      assert.deepEqual(lru(k), []);
      assert.equal(k.areas.get(1)?.unpinned.every((r) => r.purged), true);
      assert.equal(k.lru.count, 0);
    });

    it('a purge of k takes the k oldest ranges across areas, in unpin order (§4.5 global LRU)', () => {
      const k = kernel();
      run(k, `${REGION(4)}${REGION(4, 'r1', 'm1')}unpin r1 0 4096\nunpin r0 8192 4096\nunpin r1 8192 4096\nunpin r0 0 4096`);
      k.purge(2);
      const purged = [...k.areas.values()].flatMap((a) => a.unpinned.filter((r) => r.purged).map((r) => `${a.id}:${r.pgstart}`));
      assert.deepEqual(purged.sort(), ['1:2', '2:0']);
      assert.deepEqual(lru(k), ['2:2-2', '1:0-0']);
    });

    it('close releases the area\'s ranges from the LRU without purging them (§3.9)', () => {
      const k = kernel();
      run(k, `${REGION(4)}${REGION(4, 'r1', 'm1')}unpin r0 0 4096\nunpin r1 0 4096\nclose r0`);
      assert.deepEqual(lru(k), ['2:0-0']);
      assert.equal(k.lru.count, 1);
    });
  });

  describe('shrinker admissible purges (§5.2, §5.3)', () => {
    const f = (id: string) => profileById(id).features;
    it('any-prefix admits every prefix; memfd and stub pinning admit nothing; 3.0-3.11 all or nothing', () => {
      assert.deepEqual(admissiblePurges(f('c-final'), [1, 2, 3]), [0, 1, 2, 3]);
      assert.deepEqual(admissiblePurges(f('linux-memfd'), [1, 2, 3]), [0]);
      assert.deepEqual(admissiblePurges(f('ack-rust-stub'), [1, 2, 3]), [0]);
      assert.deepEqual(admissiblePurges(f('c-3.0'), [1, 2, 3]), [0, 3]);
      assert.deepEqual(admissiblePurges(f('c-3.0'), []), [0]);
    });

    it('batches in ranges (C 3.12+): multiples of 128 ranges, or all', () => {
      assert.equal(SHRINK_BATCH, 128);
      const pages = new Array<number>(300).fill(2);
      assert.deepEqual(admissiblePurges(f('c-pre2019'), pages, 'batches'), [0, 128, 256, 300]);
      assert.deepEqual(admissiblePurges(f('c-final'), new Array<number>(128).fill(1), 'batches'), [0, 128]);
      assert.deepEqual(admissiblePurges(f('c-final'), new Array<number>(129).fill(1), 'batches'), [0, 128, 129]);
    });

    it('batches in pages (Rust, C-orig): a call stops once it freed at least 128 pages', () => {
      assert.deepEqual(admissiblePurges(f('ack-rust'), new Array<number>(100).fill(3), 'batches'), [0, 43, 86, 100]);
      assert.deepEqual(admissiblePurges(f('c-orig'), [100, 28, 1, 127, 1], 'batches'), [0, 2, 4, 5]);
      assert.deepEqual(admissiblePurges(f('ack-rust'), [200], 'batches'), [0, 1]);
    });

    it('PURGE_ALL_CACHES under contention: everything, all or nothing, or any prefix (§3.7)', () => {
      assert.deepEqual(admissiblePurgeAll(f('c-final'), 3, false), [3]);
      assert.deepEqual(admissiblePurgeAll(f('c-pre2019'), 3, true), [3]);
      assert.deepEqual(admissiblePurgeAll(f('c-4.x'), 3, true), [0, 3]);
      assert.deepEqual(admissiblePurgeAll(f('c-4.x'), 0, true), [0]);
      assert.deepEqual(admissiblePurgeAll(f('c-final'), 2, true), [0, 1, 2]);
      const k = kernel('c-4.x');
      run(k, `${REGION(4)}unpin r0 0 4096`);
      assert.deepEqual(k.choices({ kind: 'purge_all', r: 'r0', line: 9, proc: 'p0' }, true), [0, 1]);
      assert.equal(k.choices({ kind: 'purge_all', r: 'r0', line: 9, proc: 'p0' }, false), undefined);
    });
  });

  describe('ioctl numbers and compat (§1.3)', () => {
    it('the 64-bit and 32-bit encodings are those of the table', () => {
      const n64 = commandNumbers(64);
      const n32 = commandNumbers(32);
      assert.deepEqual([n64.SET_NAME, n64.GET_NAME, n64.SET_SIZE, n64.GET_SIZE, n64.SET_PROT_MASK, n64.GET_PROT_MASK, n64.PIN, n64.UNPIN, n64.GET_PIN_STATUS, n64.PURGE_ALL_CACHES, n64.GET_FILE_ID],
        [0x41007701, 0x81007702, 0x40087703, 0x7704, 0x40087705, 0x7706, 0x40087707, 0x40087708, 0x7709, 0x770a, 0x8008770b]);
      assert.deepEqual([n32.SET_SIZE, n32.SET_PROT_MASK, n32.GET_FILE_ID, n32.PIN], [0x40047703, 0x40047705, 0x8004770b, 0x40087707]);
    });

    it('a 32-bit caller on a 64-bit kernel: compat translation as each lineage has it', () => {
      const n32 = commandNumbers(32);
      assert.equal(decodeCommand(n32.SET_SIZE, 32, 64, 'none'), undefined);
      assert.equal(decodeCommand(n32.SET_SIZE, 32, 64, 'size-prot'), 'SET_SIZE');
      assert.equal(decodeCommand(n32.SET_PROT_MASK, 32, 64, 'size-prot'), 'SET_PROT_MASK');
      assert.equal(decodeCommand(n32.SET_PROT_MASK, 32, 64, 'none'), undefined);
      assert.equal(decodeCommand(n32.GET_FILE_ID, 32, 64, 'size-prot'), undefined);
      assert.equal(decodeCommand(n32.GET_FILE_ID, 32, 64, 'size-prot-fileid'), 'GET_FILE_ID');
      assert.equal(decodeCommand(n32.PIN, 32, 64, 'none'), 'PIN');
      // A 64-bit caller's compat numbers are just unknown; a 32-bit kernel's own numbers are native.
      assert.equal(decodeCommand(n32.SET_SIZE, 64, 64, 'size-prot'), undefined);
      assert.equal(decodeCommand(n32.SET_SIZE, 32, 32, 'none'), 'SET_SIZE');
      assert.equal(decodeCommand(commandNumbers(64).SET_SIZE, 32, 32, 'none'), undefined);
    });

    it('SET_SIZE from a 32-bit caller: ENOTTY on C-orig (no compat), EINVAL-free elsewhere; -1 is 0xffffffff (§1.3, §3.3)', () => {
      assert.deepEqual(run(kernel('c-orig', { callerBits: 32 }), 'open r0\nset_size r0 4096\n')[1]?.errno, 'ENOTTY');
      const k = kernel('c-final', { callerBits: 32 });
      run(k, 'open r0\nset_size r0 -1');
      assert.equal(k.areas.get(1)?.size, 0xffff_ffffn);
      assert.equal(run(kernel('ack-c', { callerBits: 32 }), 'open r0\nfile_id r0\n')[1]?.errno, 'ENOTTY');
      assert.equal(run(kernel('ack-rust', { callerBits: 32 }), 'open r0\nfile_id r0\n')[1]?.errno, 'EINVAL');
    });

    it('qemu-user: every ashmem command answers ENOSYS (a fact of the runner)', () => {
      const rs = run(kernel('linux-memfd', { ioctlEmulation: 'qemu-user' }), 'open r0\npin r0 0 0\nget_size r0\nioctl r0 0x5451 0\n');
      assert.deepEqual(rs.map((r) => r.errno ?? r.ret), [0, 'ENOSYS', 'ENOSYS', 0]);
    });
  });

  describe('backing file pages (§5.1)', () => {
    it('punch removes exactly the pages of the range, by either walk', () => {
      const b = new Backing(1, 40960n, 4096);
      for (let p = 0; p < 10; p++) b.pages.set(p, p + 1);
      b.punch(2, 3); // fewer pages than the map holds: walks the range
      assert.deepEqual([...b.pages.keys()].sort((x, y) => x - y), [0, 1, 4, 5, 6, 7, 8, 9]);
      b.punch(0, 100); // more: walks the map
      assert.equal(b.pages.size, 0);
      b.pages.set(7, 1);
      b.punch(5, 4); // the empty interval punches nothing
      assert.equal(b.pages.size, 1);
    });

    it('truncate drops whole pages beyond the size and zeroes the tail of the last page', () => {
      const b = new Backing(1, 16384n, 4096);
      for (let p = 0; p < 4; p++) b.pages.set(p, 0xab);
      b.truncate(5000n);
      assert.deepEqual([...b.pages.keys()], [0, 1]);
      const last = b.pages.get(1) as Uint8Array;
      assert.equal(last[903], 0xab);
      assert.equal(last[904], 0);
      assert.equal(b.pageLimit(), 2);
      b.truncate(8192n);
      assert.equal(b.pageLimit(), 2);
      assert.equal(new Backing(1, 1n << 62n, 4096).pageLimit(), 2 ** 50);
      assert.equal(new Backing(1, 1n << 80n, 4096).pageLimit(), Number.MAX_SAFE_INTEGER);
    });

    it('pages are shared by clone and never written in place, uniform when whole', () => {
      const b = new Backing(1, 8192n, 4096);
      b.pages.set(0, writePage(undefined, 10, 20, 7, 4096));
      const c = b.clone();
      const shared = c.pages.get(0) as Uint8Array;
      b.pages.set(0, writePage(b.pages.get(0), 15, 16, 9, 4096));
      assert.equal((b.pages.get(0) as Uint8Array)[15], 9);
      assert.equal((c.pages.get(0) as Uint8Array)[15], 7);
      assert.equal(shared[15], 7);
      assert.equal(shared[20], 0);
      // The page written from is left as it was (a shared page has other readers).
      const page = writePage(undefined, 0, 8, 1, 4096) as Uint8Array;
      const written = writePage(page, 2, 4, 5, 4096) as Uint8Array;
      assert.notEqual(written, page);
      assert.deepEqual([...page.subarray(0, 8)], [1, 1, 1, 1, 1, 1, 1, 1]);
      assert.deepEqual([...written.subarray(0, 8)], [1, 1, 5, 5, 1, 1, 1, 1]);
      assert.equal(writePage(3, 0, 4096, 5, 4096), 5);
      assert.equal(writePage(5, 0, 10, 5, 4096), 5);
      assert.deepEqual([...materialize(3, 4)], [3, 3, 3, 3]);
      assert.deepEqual([...materialize(undefined, 2)], [0, 0]);
      const arr = new Uint8Array([1, 2]);
      const copy = materialize(arr, 2);
      copy[0] = 9;
      assert.equal(arr[0], 1);
    });
  });

  describe('SEEK_DATA / SEEK_HOLE and lseek bounds (§3.9, §12)', () => {
    const k = kernel('linux-memfd');
    const rs = run(k, 'open r0\ntruncate r0 20000\nmmap m0 r0 20000 3 shared 0\nfill m0 8192 100 1\nlseek r0 0 data\nlseek r0 9000 data\nlseek r0 0 hole\nlseek r0 8192 hole\nlseek r0 12288 data\nlseek r0 20000 data\nlseek r0 19999 hole\nlseek r0 5 end\nlseek r0 7 cur\nlseek r0 12000 set\nread r0 100\nread r0 10000\n');
    it('data from a hole jumps to the next data page; within data it stays', () => {
      assert.equal(rs[4]?.ret, 8192);
      assert.equal(rs[5]?.ret, 9000);
    });
    it('hole at 0 is 0; after the last data page it is that page\'s end; past the data there is none (ENXIO)', () => {
      assert.equal(rs[6]?.ret, 0);
      assert.equal(rs[7]?.ret, 12288);
      assert.equal(rs[8]?.errno, 'ENXIO');
      assert.equal(rs[9]?.errno, 'ENXIO');
      assert.equal(rs[10]?.ret, 19999);
    });
    it('SEEK_END and SEEK_CUR are relative; read stops at i_size', () => {
      assert.equal(rs[11]?.ret, 20005);
      assert.equal(rs[12]?.ret, 20012);
      assert.equal(rs[13]?.ret, 12000);
      assert.deepEqual(rs[14], { i: 15, op: 'read', ret: 100, rle: [[0, 100]] });
      assert.equal(rs[15]?.ret, 20000 - 12100);
    });
  });

  describe('regions beyond 4 GiB and 2^53 bytes (§3.6, §12)', () => {
    it('C: len 0 over a 2^60-byte region wraps to 0 pages (u32), Rust keeps it (usize)', () => {
      const c = kernel('c-pre2019');
      const rc = run(c, `open r0\nset_size r0 ${2n ** 60n}\nmmap m0 r0 4096 3 shared 0\nunpin r0 0 0\n`);
      assert.equal(rc[2]?.ret, 0); // no length check before 2018
      assert.equal(rc[3]?.ret, 0);
      assert.equal(c.lru.count, 0); // the empty interval [0, -1]
      const rust = kernel('ack-rust');
      // The 2018+ length check needs a mapping no longer than the region: 4096 is.
      run(rust, `open r0\nset_size r0 ${2n ** 60n}\nmmap m0 r0 4096 3 shared 0\nunpin r0 0 0\n`);
      assert.equal(rust.lru.count, 2 ** 48);
      assert.equal(run(rust, 'purge_all r0')[0]?.ret, 0); // 2^48 pages as an int: 0 (§12 truncation)
    });

    it('a size past MAX_LFS_FILESIZE cannot back a file: mmap EINVAL, and no file is created (§3.5 step 5)', () => {
      const k = kernel('c-pre2019');
      const rs = run(k, `open r0\nset_size r0 ${2n ** 63n}\nmmap m0 r0 4096 3 shared 0\nset_size r0 4096\nget_size r0\n`);
      assert.equal(rs[2]?.errno, 'EINVAL');
      assert.equal(rs[3]?.ret, 0);
      assert.equal(rs[4]?.ret, 4096);
    });

    it('offset + len overflowing 32 bits is EINVAL in C (§3.6 step 7)', () => {
      const rs = run(kernel('c-final'), `${REGION(4)}pin r0 0xfffff000 0x2000\n`);
      assert.equal(rs[3]?.errno, 'EINVAL');
    });
  });
});
