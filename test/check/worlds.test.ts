/**
 * The judge's possible worlds under the options of a busy or shared machine (harness/check/
 * worlds.ts): background reclaim may purge an LRU prefix before any op (design.md, §5.3), a
 * contended PURGE_ALL_CACHES may purge less (§3.7), too many worlds is "undecidable", never a
 * divergence, and the §11 invariants are checked when asked. Results are the model's own for a
 * chosen purge (what a target that purged those ranges answers), never written by hand.
 * Written against the mutation report (issue 12 §7).
 */
import assert from 'node:assert/strict';
import { judge, type JudgeOptions } from '../../harness/check/judge.js';
import { collapse, forScript, initialWorlds, QUIET, step, WorldLimitError } from '../../harness/check/worlds.js';
import { Device } from '../../harness/model/device.js';
import { InvariantError } from '../../harness/model/invariants.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import type { Op } from '../../harness/ops/ast.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

const PROFILE = profileById('c-final');
const ENV = DEFAULT_ENVIRONMENT;
const OPTS: JudgeOptions = { ...QUIET, otherUsers: false };

/**
 * What a target answers when `purges` (line → ranges purged just before that op) happened, and
 * a nondeterministic op took `choices` (line → ranges it purged).
 */
function observe(text: string, purges: ReadonlyMap<number, number> = new Map(), choices: ReadonlyMap<number, number> = new Map()): OpResult[] {
  const d = Device.create(PROFILE.features, ENV);
  return parseScript(text).ops.map((op) => {
    const k = purges.get(op.line);
    if (k !== undefined) d.purge(k);
    return d.apply(op, choices.get(op.line));
  });
}

/** Two one-page ranges unpinned in order: page 0 is the LRU's oldest, page 1 the newest (§4.5). */
const TWO_RANGES = [
  'open r0',
  'set_size r0 8192',
  'mmap m0 r0 8192 3 shared 0',
  'fill m0 0 8192 0xA5',
  'unpin r0 0 4096',
  'unpin r0 4096 4096',
  'pin r0 0 4096',
  'pin r0 4096 4096',
  'check m0 0 8192',
].join('\n');

const verdict = (text: string, results: readonly OpResult[], opts: Partial<JudgeOptions> = {}): string =>
  judge(parseScript(text), results, PROFILE, ENV, { ...OPTS, ...opts }).kind;

describe('possible worlds (worlds.ts)', () => {
  it('a quiet machine purges nothing behind the script: a purge before a pin is a divergence', () => {
    assert.equal(verdict(TWO_RANGES, observe(TWO_RANGES)), 'consistent');
    assert.equal(verdict(TWO_RANGES, observe(TWO_RANGES, new Map([[7, 1]]))), 'diverged');
  });

  it('background reclaim admits any LRU prefix before an op, never a range out of LRU order (§5.3)', () => {
    const busy = { backgroundReclaim: true };
    assert.equal(verdict(TWO_RANGES, observe(TWO_RANGES), busy), 'consistent');
    assert.equal(verdict(TWO_RANGES, observe(TWO_RANGES, new Map([[7, 1]])), busy), 'consistent');
    assert.equal(verdict(TWO_RANGES, observe(TWO_RANGES, new Map([[7, 2]])), busy), 'consistent');
    // Purging the newer range alone is not a prefix: the judge still catches it.
    const outOfOrder = observe(TWO_RANGES).map((r) => (r.i === 8 ? { ...r, ret: 1 } : r));
    assert.equal(verdict(TWO_RANGES, outOfOrder, busy), 'diverged');
  });

  it('background reclaim forks each world into its prefixes before the op, collapsing equal states', () => {
    const ops = parseScript(TWO_RANGES).ops;
    let worlds = initialWorlds(PROFILE.features, ENV);
    for (const op of ops.slice(0, 6)) worlds = step(worlds, op, QUIET).map((b) => b.world);
    assert.equal(worlds.length, 1);
    const pin = ops[6] as Op;
    // Quiet: one world, pin answers 0. Busy: 0, 1 or 2 ranges purged first; pin [0] answers 1 for 1 and 2.
    assert.deepEqual(step(worlds.map((w) => w.clone()), pin, QUIET).map((b) => b.result.ret), [0]);
    const busy = step(worlds, pin, { ...QUIET, backgroundReclaim: true });
    assert.deepEqual(busy.map((b) => b.result.ret).sort(), [0, 1, 1]);
    assert.equal(new Set(busy.map((b) => b.world.key())).size, 3);
  });

  describe('PURGE_ALL_CACHES under contention (§3.7: the trylock may purge part or nothing)', () => {
    const text = TWO_RANGES.replace('\npin r0 0 4096\n', '\npurge_all r0\npin r0 0 4096\n');
    const purgeLine = 7;
    it('quiet: it purges the whole LRU, so a pin that finds its range unpurged diverges', () => {
      assert.equal(verdict(text, observe(text)), 'consistent');
      for (const k of [0, 1]) {
        const partial = observe(text, new Map(), new Map([[purgeLine, k]]));
        assert.equal(verdict(text, partial), 'diverged', `${k} ranges purged`);
        assert.equal(verdict(text, partial, { contended: true }), 'consistent', `${k} ranges purged`);
      }
      assert.equal(verdict(text, observe(text), { contended: true }), 'consistent');
    });
  });

  describe('the world limit', () => {
    // Three ranges and a pressure trigger: any prefix, 0–3 ranges, four worlds (§5.3).
    const text = ['open r0', 'set_size r0 12288', 'mmap m0 r0 12288 3 shared 0', 'fill m0 0 12288 1', 'unpin r0 0 4096', 'unpin r0 4096 4096', 'unpin r0 8192 4096', 'pressure 64 1'].join('\n');
    const ops = parseScript(text).ops;
    const before = (): Device[] => {
      let w = initialWorlds(PROFILE.features, ENV);
      for (const op of ops.slice(0, -1)) w = step(w, op, QUIET).map((b) => b.world);
      return w;
    };
    const pressure = ops[ops.length - 1] as Op;

    it('exactly maxWorlds worlds are decidable, one more is not', () => {
      assert.equal(step(before(), pressure, { ...QUIET, maxWorlds: 4 }).length, 4);
      assert.throws(() => step(before(), pressure, { ...QUIET, maxWorlds: 3 }), (e: unknown) => e instanceof WorldLimitError && e.name === 'WorldLimitError' && e.message === 'more than 3 admissible worlds at line 8');
    });

    it('the judge says undecidable at that line, never diverged', () => {
      const v = judge(parseScript(text), observe(text), PROFILE, ENV, { ...OPTS, maxWorlds: 3 });
      assert.deepEqual(v, { kind: 'undecidable', line: 8, reason: 'more than 3 admissible worlds at line 8' });
      assert.equal(verdict(text, observe(text), { maxWorlds: 4 }), 'consistent');
    });
  });

  it('checks the §11 invariants of every world after the op when asked, not otherwise', () => {
    const ops = parseScript(TWO_RANGES).ops;
    let worlds = initialWorlds(PROFILE.features, ENV);
    for (const op of ops.slice(0, 5)) worlds = step(worlds, op, QUIET).map((b) => b.world);
    // Break the model by hand: the unpinned range is marked purged while still on the LRU.
    const range = [...(worlds[0] as Device).kernel.lru][0];
    assert.ok(range !== undefined);
    range.purged = true;
    const next = ops[5] as Op;
    assert.doesNotThrow(() => step(worlds.map((w) => w.clone()), next, QUIET));
    assert.throws(() => step(worlds, next, { ...QUIET, checkInvariants: true }), InvariantError);
  });

  it('tells a hole from a zero page only for scripts that seek data or holes (§3.9, §12)', () => {
    const ops = (t: string): readonly Op[] => parseScript(t).ops;
    assert.equal(forScript(QUIET, ops('open r0\nlseek r0 0 data')).distinguishHoles, true);
    assert.equal(forScript(QUIET, ops('open r0\nlseek r0 0 hole')).distinguishHoles, true);
    assert.equal(forScript(QUIET, ops('open r0\nlseek r0 0 set')).distinguishHoles, false);
    assert.equal(forScript({ ...QUIET, distinguishHoles: true }, ops('open r0')).distinguishHoles, false);
  });

  it('collapse keeps one world per state, and a zero page equals a hole only when asked', () => {
    // A page written and then zeroed is allocated: SEEK_DATA finds it, where it finds no data in a hole (§12).
    const ops = parseScript('open r0\nset_size r0 4096\nmmap m0 r0 4096 3 shared 0\nfill m0 0 4096 7\nfill m0 0 4096 0\nlseek r0 0 data').ops;
    const a = Device.create(PROFILE.features, ENV);
    for (const op of ops.slice(0, 3)) a.apply(op);
    const zero = a.clone();
    zero.apply(ops[3] as Op);
    zero.apply(ops[4] as Op);
    const seek = ops[5] as Op;
    assert.notDeepEqual(a.clone().apply(seek), zero.clone().apply(seek));
    assert.equal(collapse([a, a.clone(), a.clone()]).length, 1);
    assert.equal(collapse([a, zero]).length, 2);
    assert.equal(collapse([a, zero], true).length, 1);
    // A world's own fingerprint tells them apart unless asked not to.
    assert.notEqual(a.key(), zero.key());
    assert.equal(a.key(true), zero.key(true));
    assert.deepEqual(collapse([a]), [a]);
    assert.deepEqual(collapse([]), []);
  });
});
