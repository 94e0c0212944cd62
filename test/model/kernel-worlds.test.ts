/**
 * What the model kernel leaves open (harness/model/kernel.ts `choices`, `variants`, `purgedBy`,
 * `purge`): which purges a drop_caches write admits on an exclusive guest (`--shrinker batches`,
 * §5.2: C 3.12+ consumes `nr_to_scan` in ranges, Rust in pages; before 3.12 and with an unknown
 * deferred count the model does not follow the passes), which ops are deterministic, how many
 * outcomes an ioctl (VFS answers by kernel version) and an mmap (overcommit, commit.ts) admit.
 * Kills mutation survivors of kernel.ts.
 */
import assert from 'node:assert/strict';
import { Kernel } from '../../harness/model/kernel.js';
import { DEFAULT_ENVIRONMENT, profileById, type Environment } from '../../harness/model/profile.js';
import type { Op } from '../../harness/ops/ast.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

const PAGE = 4096;

/** A kernel after `text`, and the ops of `more` parsed in the same script (not run). */
function after(profile: string, text: string, more = '', env: Environment = DEFAULT_ENVIRONMENT): { k: Kernel; ops: Op[] } {
  const k = new Kernel(profileById(profile).features, env);
  const n = text.split('\n').length - 1;
  const all = parseScript(text + more).ops;
  for (const op of all.filter((o) => o.line <= n)) k.apply(op);
  return { k, ops: all.filter((o) => o.line > n) };
}

/**
 * A 260-page region with two unpinned ranges on the LRU, oldest first: pages [0, 256) and page
 * 258 (a pinned page between, so they stay two ranges).
 */
const TWO_RANGES = `open r0\nset_size r0 ${260 * PAGE}\nmmap m0 r0 ${260 * PAGE} 3 shared 0\nunpin r0 0 ${256 * PAGE}\nunpin r0 ${258 * PAGE} ${PAGE}\n`;
/** After a trigger: PIN of each range again (1 = ASHMEM_WAS_PURGED, §3.6/§4.3). */
const REPIN = `pin r0 0 ${256 * PAGE}\npin r0 ${258 * PAGE} ${PAGE}\n`;

/** For each admissible choice of `trigger` (in `k`), which of the two ranges it purged. */
function purgedRanges(k: Kernel, trigger: Op, repin: readonly Op[], choices: readonly number[]): number[][] {
  return choices.map((c) => {
    const w = k.clone();
    w.apply(trigger, c);
    return repin.map((op) => w.apply(op).ret as number);
  }).sort();
}

describe('kernel: drop_caches on an exclusive guest (--shrinker batches)', () => {
  // One write with no deferred work: freeable 257 pages, delta 128 (257·4/8), one scan call of
  // nr_to_scan 128 (§5.3 ≥3.12 arithmetic). The next passes find too little to scan.
  for (const profile of ['c-final', 'c-3.12']) {
    it(`${profile}: the scan call counts ranges, so both ranges go, and that is the only outcome`, () => {
      const { k, ops } = after(profile, TWO_RANGES, `drop_caches\n${REPIN}`);
      const [drop, ...repin] = ops as [Op, ...Op[]];
      assert.deepEqual(purgedRanges(k, drop, repin, k.choices(drop, false, 'batches') ?? []), [[1, 1]]);
    });
  }

  it('ack-rust: the scan call counts pages, so it stops after the 256-page range; the 1-page range stays', () => {
    const { k, ops } = after('ack-rust', TWO_RANGES, `drop_caches\n${REPIN}`);
    const [drop, ...repin] = ops as [Op, ...Op[]];
    assert.deepEqual(purgedRanges(k, drop, repin, k.choices(drop, false, 'batches') ?? []), [[1, 0]]);
  });

  it('c-orig (before the count/scan API): the passes are not followed, so purging nothing is admitted too', () => {
    const { k, ops } = after('c-orig', TWO_RANGES, `drop_caches\n${REPIN}`);
    const [drop, ...repin] = ops as [Op, ...Op[]];
    const worlds = purgedRanges(k, drop, repin, k.choices(drop, false, 'batches') ?? []);
    assert.ok(worlds.length > 1, JSON.stringify(worlds));
    assert.deepEqual(worlds[0], [0, 0]);
  });

  it('after memory pressure the deferred count is unknown: purging nothing is admitted too', () => {
    const { k, ops } = after('c-final', TWO_RANGES, `pressure 64 1\ndrop_caches\n${REPIN}`);
    const [pressure, drop, ...repin] = ops as [Op, Op, ...Op[]];
    k.apply(pressure, 0);
    const worlds = purgedRanges(k, drop, repin, k.choices(drop, false, 'batches') ?? []);
    assert.ok(worlds.length > 1, JSON.stringify(worlds));
    assert.deepEqual(worlds[0], [0, 0]);
  });
});

describe('kernel: deterministic ops have no choices', () => {
  it('PURGE_ALL_CACHES on a quiet machine purges everything: no choice unless contended', () => {
    const { k, ops } = after('c-final', TWO_RANGES, 'purge_all r0\nstatus r0 0 0\n');
    const [purgeAll, status] = ops as [Op, Op];
    assert.equal(k.choices(purgeAll), undefined);
    assert.deepEqual(k.choices(purgeAll, true), [0, 1, 2], '§3.7: 5.1+ may stop part-way when the lock is contended');
    assert.equal(k.choices(status, true), undefined, 'GET_PIN_STATUS purges nothing, contended or not');
  });

  it('PURGE_ALL_CACHES where it purges nothing (a memfd, stubbed pinning) has no choice even when contended', () => {
    for (const profile of ['linux-memfd', 'ack-rust-stub']) {
      const { k, ops } = after(profile, 'open r0\n', 'purge_all r0\n');
      assert.equal(k.choices(ops[0] as Op, true), undefined, profile);
    }
  });

  it('PURGE_ALL_CACHES of a process that is not running has no choice (the parser refuses such a script)', () => {
    const { k, ops } = after('c-final', TWO_RANGES, 'purge_all r0\n');
    assert.equal(k.choices({ ...(ops[0] as Op), proc: 'p4' } as Op, true), undefined);
  });

  it('drop_caches without root is EACCES: no choice', () => {
    const { k, ops } = after('c-final', TWO_RANGES, 'drop_caches\n', { ...DEFAULT_ENVIRONMENT, root: false });
    const drop = ops[0] as Op;
    assert.equal(k.choices(drop), undefined);
    assert.equal(k.choices(drop, false, 'batches'), undefined);
    assert.equal(k.apply(drop).errno, 'EACCES');
  });

  it('a plain prefix choice purges that many ranges; purging more than the LRU holds purges it all', () => {
    const { k } = after('c-final', TWO_RANGES);
    assert.equal(k.purgedBy(1), 1);
    assert.equal(k.purgedBy(2), 2);
    k.purge(5);
    assert.deepEqual(k.lruPages(), []);
  });
});

describe('kernel: variants', () => {
  // FS_IOC_FSSETXATTR with a faulting pointer: EFAULT from the VFS from 5.13 on, the driver's
  // ENOTTY before (vfs-ioctl.ts); the kernel version is unknown here, so both are admitted.
  const FSSETXATTR = 'ioctl r0 0x401c5820 0\n';

  it('an ioctl whose VFS answer depends on the unknown kernel version has two variants on an ashmem fd, each its own answer', () => {
    const { k, ops } = after('c-final', 'open r0\n', FSSETXATTR);
    const op = ops[0] as Op;
    assert.equal(k.variants(op), 2);
    const answers = [0, 1].map((v) => {
      const r: OpResult = k.clone().apply(op, undefined, v);
      return r.errno;
    });
    assert.deepEqual(answers.sort(), ['EFAULT', 'ENOTTY']);
  });

  it('ioctl_buf FS_IOC_GETFSSYSFSPATH on 6.8+: the driver\'s ENOTTY or the VFS\'s copy of the sysfs path; before 6.8 only the driver', () => {
    const op = 'ioctl_buf r0 0x80811501 "x"\n';
    const { k, ops } = after('c-final', 'open r0\n', op, { ...DEFAULT_ENVIRONMENT, kernelVersion: [6, 8] });
    const buf = ops[0] as Op;
    assert.equal(k.variants(buf), 2);
    assert.deepEqual([0, 1].map((v) => k.clone().apply(buf, undefined, v)).map((r) => r.errno ?? r.ret).sort(), [0, 'ENOTTY']);
    assert.equal(variantsOf('c-final', 'open r0\n', op, { ...DEFAULT_ENVIRONMENT, kernelVersion: [6, 7] }), 1);
  });

  it('the same ioctl has one variant on a memfd, on a closed fd, under qemu-user and in a process that is not running', () => {
    assert.equal(variantsOf('linux-memfd', 'open r0\n', FSSETXATTR), 1);
    assert.equal(variantsOf('c-final', 'open r0\nclose r0\n', FSSETXATTR), 1);
    assert.equal(variantsOf('c-final', 'open r0\n', FSSETXATTR, { ...DEFAULT_ENVIRONMENT, ioctlEmulation: 'qemu-user' }), 1);
    const { k, ops } = after('c-final', 'open r0\n', FSSETXATTR);
    assert.equal(k.variants({ ...(ops[0] as Op), proc: 'p4' } as Op), 1);
  });

  // A target with 512 MiB of RAM and swap: a commit above it may be refused (overcommit.ts).
  const SMALL: Environment = { ...DEFAULT_ENVIRONMENT, memoryBytes: 512 * 1024 * 1024 };
  const GIB = 1024 * 1024 * 1024;

  it('mmap: a small one has one variant; the first of a 1 GiB ashmem region two (its file); the next one (file made) one', () => {
    const { k, ops } = after('c-final', `open r0\nset_size r0 ${GIB}\n`, 'mmap m0 r0 4096 3 shared 0\nmmap m1 r0 4096 1 private 0\nopen r1\nset_size r1 4096\nmmap m2 r1 4096 3 private 0\n', SMALL);
    const [m0, m1, open, size, m2] = ops as [Op, Op, Op, Op, Op];
    assert.equal(k.variants(m0), 2);
    k.apply(m0);
    assert.equal(k.variants(m1), 1);
    k.apply(open);
    k.apply(size);
    assert.equal(k.variants(m2), 1);
  });

  it('mmap: a shared 1 GiB map of a memfd charges nothing (one variant); a private writable one charges its length (two)', () => {
    const { k, ops } = after('linux-memfd', `open r0\ntruncate r0 ${GIB}\n`, `mmap m0 r0 ${GIB} 3 shared 0\nmmap m1 r0 ${GIB} 3 private 0\n`, SMALL);
    assert.deepEqual(ops.map((op) => k.variants(op)), [1, 2]);
  });

  it('mmap: one variant on a closed fd and in a process that is not running', () => {
    const { k, ops } = after('c-final', `open r0\nset_size r0 ${GIB}\nclose r0\n`, `mmap m0 r0 ${GIB} 3 private 0\n`, SMALL);
    assert.equal(k.variants(ops[0] as Op), 1);
    const alive = after('c-final', `open r0\nset_size r0 ${GIB}\n`, `mmap m0 r0 ${GIB} 3 private 0\n`, SMALL);
    assert.equal(alive.k.variants({ ...(alive.ops[0] as Op), proc: 'p4' } as Op), 1);
  });

  it('mmap shared after the file exists: the transient shmem_zero_setup charge of 1 GiB may be refused (ENOMEM)', () => {
    // The first map is MAP_NORESERVE: no charge, but it creates the backing file.
    const { k, ops } = after('c-final', `open r0\nset_size r0 ${GIB}\nmmap m0 r0 4096 1 shared_noreserve 0\n`, `mmap m1 r0 ${GIB} 1 shared 0\n`, SMALL);
    const m1 = ops[0] as Op;
    assert.equal(k.variants(m1), 2);
    assert.deepEqual([0, 1].map((v) => k.clone().apply(m1, undefined, v).errno), [undefined, 'ENOMEM']);
  });

  it('c-pre2019 (no length check): a 1 GiB shared map of a 1-page region may be refused only after the driver made the file', () => {
    // The file's charge (one page) passes; the transient 1 GiB one does not: ENOMEM, and the
    // file stays, so SET_SIZE is EINVAL afterwards (§3.3, §3.5 step 5).
    const { k, ops } = after('c-pre2019', 'open r0\nset_size r0 4096\n', `mmap m0 r0 ${GIB} 1 shared 0\nset_size r0 8192\n`, SMALL);
    const [m0, size] = ops as [Op, Op];
    assert.equal(k.variants(m0), 2);
    assert.equal(k.apply(m0, undefined, 1).errno, 'ENOMEM');
    assert.equal(k.apply(size).errno, 'EINVAL');
  });
});

function variantsOf(profile: string, text: string, op: string, env: Environment = DEFAULT_ENVIRONMENT): number {
  const { k, ops } = after(profile, text, op, env);
  return k.variants(ops[0] as Op);
}
