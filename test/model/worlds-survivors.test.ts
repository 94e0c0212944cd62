/**
 * The possible worlds of the judge (harness/check/worlds.ts) where an op's outcome is decided by
 * the target's configuration rather than by a purge: several variants that leave the same
 * answer and state are one world, more distinct variants than the limit are undecidable, and
 * a script that seeks data or holes keeps apart worlds that differ only by a zero page.
 * Answers are the model's own, never written by hand. Written against the mutation report
 * (issue 12 §7); the judge's own tests are in test/check/worlds.test.ts.
 */
import assert from 'node:assert/strict';
import { judge, type JudgeOptions } from '../../harness/check/judge.js';
import { forScript, initialWorlds, QUIET, step, WorldLimitError } from '../../harness/check/worlds.js';
import { Device } from '../../harness/model/device.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import type { Op } from '../../harness/ops/ast.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

const PROFILE = profileById('c-final');
/** No kernel version: the version-dependent VFS outcomes are all admissible. */
const ENV = DEFAULT_ENVIRONMENT;
const OPTS: JudgeOptions = { ...QUIET, otherUsers: false };

/**
 * FS_IOC_GETFSUUID with a plain value argument on a kernel of unknown version (fs/ioctl.c, as
 * harness/model/vfs-ioctl.ts reads it): before 6.8 the driver gets it (ENOTTY from C ashmem's
 * default case, §1.4); from 6.8 the driver again, ENOTTY from the VFS, or EFAULT from copying
 * the uuid to address 0. Four variants, two answers, no change of state.
 */
const UUID = 'open r0\nioctl r0 0x80111500 0';
const ops = parseScript(UUID).ops;
const uuid = ops[1] as Op;

/** The worlds after `open r0`. */
function opened(): Device[] {
  return step(initialWorlds(PROFILE.features, ENV), ops[0] as Op, QUIET).map((b) => b.world);
}

/** The model's answer to the ioctl in variant `v`. */
function answer(v: number): OpResult {
  const d = opened()[0] as Device;
  return d.apply(uuid, undefined, v);
}

describe('possible worlds of configuration-decided outcomes (worlds.ts)', () => {
  it('variants with the same answer and state are one world: GETFSUUID on an unknown kernel gives two, not four', () => {
    const worlds = opened();
    assert.equal((worlds[0] as Device).variants(uuid), 4);
    const branches = step(worlds, uuid, QUIET);
    assert.deepEqual(branches.map((b) => b.result.errno).sort(), ['EFAULT', 'ENOTTY']);
    // The judge keeps one world for an observed ENOTTY (variants 0, 1 and 3 are the same world).
    const enotty = answer(0);
    assert.equal(enotty.errno, 'ENOTTY');
    const v = judge(parseScript(UUID), [{ i: 1, op: 'open', ret: 0 }, enotty], PROFILE, ENV, OPTS);
    assert.deepEqual(v, { kind: 'consistent', worlds: 1, skipped: [] });
  });

  it('more distinct variants than maxWorlds is undecidable, counted after equal ones merged', () => {
    assert.equal(step(opened(), uuid, { ...QUIET, maxWorlds: 2 }).length, 2);
    assert.throws(
      () => step(opened(), uuid, { ...QUIET, maxWorlds: 1 }),
      (e: unknown) => e instanceof WorldLimitError && e.message === 'more than 1 admissible worlds at line 2',
    );
    const v = judge(parseScript(UUID), [{ i: 1, op: 'open', ret: 0 }, answer(2)], PROFILE, ENV, { ...OPTS, maxWorlds: 1 });
    assert.deepEqual(v, { kind: 'undecidable', line: 2, reason: 'more than 1 admissible worlds at line 2' });
  });

  it('a quiet machine still has a world limit: 1024 mmap outcomes times five purge choices is undecidable', () => {
    // Each private writable 1 GiB mapping may be refused by the commit limit (§3.5, overcommit.ts):
    // ten of them make 1024 worlds; pressure over four unpinned ranges may then purge 0-4 (§5.3).
    const lines = ['open r1', 'set_size r1 16384', 'mmap m9 r1 16384 3 shared 0', 'unpin r1 0 4096', 'unpin r1 4096 4096', 'unpin r1 8192 4096', 'unpin r1 12288 4096', 'open r0', 'set_size r0 1073741824'];
    for (let k = 0; k < 10; k++) lines.push(`mmap m${k} r0 1073741824 3 private 0`);
    lines.push('pressure 64 1');
    const script = parseScript(lines.join('\n')).ops;
    let worlds = initialWorlds(PROFILE.features, ENV);
    for (const op of script.slice(0, -1)) worlds = step(worlds, op, QUIET).map((b) => b.world);
    assert.equal(worlds.length, 1024);
    assert.ok(QUIET.maxWorlds < 1024 * 5);
    assert.throws(() => step(worlds, script[script.length - 1] as Op, QUIET), (e: unknown) => e instanceof WorldLimitError && e.message === `more than ${QUIET.maxWorlds} admissible worlds at line 20`);
  });

  describe('a page read back after its purge, then a second purge (§5.1, §3.7, §3.9): SEEK_DATA tells a zero page from a hole', () => {
    // Pressure may purge the range (line 5). Reading the mapping then allocates a zero page in
    // the hole (a read fault on shmem). A second pressure (line 7) purges only what is on the
    // LRU: in the world where line 5 purged, the range is off the LRU and the zero page stays;
    // in the world where line 5 did not, line 7 may punch it. Both leave a purged range, one
    // with a zero page, the other with a hole: SEEK_DATA answers 0 in the first, ENXIO in the
    // second, and the pin says purged in both (unlike the world where nothing purged).
    const text = 'open r0\nset_size r0 4096\nmmap m0 r0 4096 3 shared 0\nunpin r0 0 4096\npressure 64 1\ncheck m0 0 4096\npressure 64 1\nlseek r0 0 data\npin r0 0 4096\ncheck m0 0 4096';
    const script = parseScript(text);
    /** The model's answers when the pressure of line 5 purged `first` ranges and that of line 7 `second`. */
    const answers = (first: number, second: number): OpResult[] => {
      const d = Device.create(PROFILE.features, ENV);
      return script.ops.map((op) => d.apply(op, op.line === 5 ? first : op.line === 7 ? second : undefined));
    };

    it('the zero page of the early purge is admissible: consistent', () => {
      const rs = answers(1, 0);
      assert.deepEqual([rs[7]?.ret, rs[8]?.ret], [0, 1]);
      assert.equal(answers(0, 1)[7]?.errno, 'ENXIO');
      assert.equal(judge(script, rs, PROFILE, ENV, OPTS).kind, 'consistent');
    });

    it('a divergence after it is explained in that world', () => {
      const rs = answers(1, 0).map((r) => (r.i === 10 ? { ...r, rle: [[0x11, 4096]] as [number, number][] } : r));
      const v = judge(script, rs, PROFILE, ENV, OPTS);
      assert.equal(v.kind, 'diverged');
      const d = (v as { divergence: { line: number; expected: readonly OpResult[] } }).divergence;
      assert.equal(d.line, 10);
      assert.deepEqual(d.expected.map((e) => e.rle), [[[0, 4096]]]);
    });
  });

  it('a script that seeks data keeps apart worlds that differ only by a zero page; SEEK_DATA tells them apart (§3.9, §12)', () => {
    // A written-then-zeroed page is allocated: SEEK_DATA finds it at 0, where a hole has no data (ENXIO).
    const text = 'open r0\nset_size r0 4096\nmmap m0 r0 4096 3 shared 0\nfill m0 0 4096 7\nfill m0 0 4096 0\nget_size r0\nlseek r0 0 data';
    const all = parseScript(text).ops;
    const hole = Device.create(PROFILE.features, ENV);
    for (const op of all.slice(0, 3)) hole.apply(op);
    const zero = hole.clone();
    zero.apply(all[3] as Op);
    zero.apply(all[4] as Op);
    const getSize = all[5] as Op;
    const seek = all[6] as Op;
    const opts = forScript(QUIET, all);
    assert.equal(opts.distinguishHoles, true);
    const after = step([hole, zero], getSize, opts).map((b) => b.world);
    assert.equal(after.length, 2);
    const seeks = after.map((w) => w.apply(seek));
    assert.deepEqual(seeks.map((r) => r.ret ?? r.errno).sort(), [0, 'ENXIO']);
    // Without a seek in the script the two are the same world.
    const hole2 = Device.create(PROFILE.features, ENV);
    for (const op of all.slice(0, 3)) hole2.apply(op);
    const zero2 = hole2.clone();
    zero2.apply(all[3] as Op);
    zero2.apply(all[4] as Op);
    assert.equal(step([hole2, zero2], getSize, forScript(QUIET, all.slice(0, 6))).length, 1);
  });
});
