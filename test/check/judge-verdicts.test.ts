/**
 * The judge's verdicts besides "diverged" (harness/check/judge.ts): a gated op that did not run
 * leaves the worlds as they were, a line the target could not parse stops the judging
 * (incomplete), a target that stopped early is incomplete at the first op without a result, and
 * "consistent" counts the worlds still admissible. Results are the model's own answers for a
 * chosen purge (what a target that purged those ranges reports), never written by hand.
 * Written against the mutation report (issue 12 §7).
 */
import assert from 'node:assert/strict';
import { judge, JudgeSession, type JudgeOptions, type Verdict } from '../../harness/check/judge.js';
import { QUIET } from '../../harness/check/worlds.js';
import { Device } from '../../harness/model/device.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

const PROFILE = profileById('c-final');
const ENV = DEFAULT_ENVIRONMENT;
const OPTS: JudgeOptions = { ...QUIET, otherUsers: false };

/** Two ranges (pages 0 and 1, LRU oldest first), a pressure trigger, then each page's pin. */
const TEXT = [
  'open r0',
  'set_size r0 8192',
  'mmap m0 r0 8192 3 shared 0',
  'fill m0 0 8192 0xA5',
  'unpin r0 0 4096',
  'unpin r0 4096 4096',
  'pressure 64 1',
  'pin r0 0 4096',
  'pin r0 4096 4096',
].join('\n');
const SCRIPT = parseScript(TEXT);
const PRESSURE = 7;

/** The model's answers when the trigger on line `PRESSURE` purged `k` ranges. */
function observe(k: number): OpResult[] {
  const d = Device.create(PROFILE.features, ENV);
  return SCRIPT.ops.map((op) => d.apply(op, op.line === PRESSURE ? k : undefined));
}
const run = (rs: readonly OpResult[]): Verdict => judge(SCRIPT, rs, PROFILE, ENV, OPTS);

describe('judge verdicts (judge.ts)', () => {
  it('every LRU prefix a trigger may purge is consistent; the pins leave one world (§5.3)', () => {
    for (const k of [0, 1, 2]) assert.deepEqual(run(observe(k)), { kind: 'consistent', worlds: 1, skipped: [] }, `${k} ranges purged`);
  });

  it('"consistent" counts the worlds no result has told apart yet', () => {
    // Up to the trigger: 0, 1 or 2 ranges purged are three different states.
    const cut = { ops: SCRIPT.ops.slice(0, PRESSURE) };
    assert.deepEqual(judge(cut, observe(0).slice(0, PRESSURE), PROFILE, ENV, OPTS), { kind: 'consistent', worlds: 3, skipped: [] });
    // The first pin tells 0 from 1-2 purged; 1 and 2 stay apart until the second pin.
    const two = { ops: SCRIPT.ops.slice(0, PRESSURE + 1) };
    assert.deepEqual(judge(two, observe(1).slice(0, PRESSURE + 1), PROFILE, ENV, OPTS), { kind: 'consistent', worlds: 2, skipped: [] });
    assert.deepEqual(judge(two, observe(0).slice(0, PRESSURE + 1), PROFILE, ENV, OPTS), { kind: 'consistent', worlds: 1, skipped: [] });
  });

  for (const gate of ['skipped', 'unsupported']) {
    it(`an op reported "${gate}" did not run: the worlds stay as they were and the line is listed`, () => {
      const rs = observe(0).map((r) => (r.i === PRESSURE ? { i: r.i, op: r.op, error: gate, message: 'gated' } : r));
      assert.deepEqual(run(rs), { kind: 'consistent', worlds: 1, skipped: [PRESSURE] });
      // Had it run, a purge would be admissible; as it did not, a purged page is a divergence.
      const purged = observe(1).map((r) => (r.i === PRESSURE ? { i: r.i, op: r.op, error: gate, message: 'gated' } : r));
      const v = run(purged);
      assert.equal(v.kind, 'diverged');
      if (v.kind === 'diverged') assert.equal(v.divergence.line, PRESSURE + 1);
    });
  }

  it('another error (the op ran into a state error) is judged, not skipped', () => {
    const rs = observe(0).map((r) => (r.i === 2 ? { i: 2, op: 'set_size', error: 'state', message: 'x' } : r));
    const v = run(rs);
    assert.equal(v.kind, 'diverged');
    if (v.kind === 'diverged') assert.equal(v.divergence.line, 2);
  });

  it('a line the target could not parse stops the judging: incomplete, with the target\'s words', () => {
    const rs = observe(0).map((r) => (r.i === 5 ? { i: 5, op: 'unpin', error: 'parse', message: 'bad number' } : r));
    assert.deepEqual(run(rs), { kind: 'incomplete', line: 5, reason: 'line 5: the target could not run it (parse: bad number)' });
    const bare = observe(0).map((r) => (r.i === 5 ? { i: 5, op: 'unpin', error: 'parse' } : r));
    assert.deepEqual(run(bare), { kind: 'incomplete', line: 5, reason: 'line 5: the target could not run it (parse: )' });
  });

  it('a target that stopped early: incomplete at the first op without a result', () => {
    assert.deepEqual(run(observe(0).slice(0, 4)), { kind: 'incomplete', line: 5, reason: 'no result for line 5 (unpin r0 0 4096): the target stopped early' });
    assert.deepEqual(run([]), { kind: 'incomplete', line: 1, reason: 'no result for line 1 (open r0): the target stopped early' });
  });

  it('a divergence before the end wins over the missing results after it', () => {
    // PIN answers 0 or WAS_PURGED (1) after the trigger (§4.3), never 7.
    const rs = observe(0).slice(0, 8).map((r) => (r.i === 8 ? { ...r, ret: 7 } : r));
    const v = run(rs);
    assert.equal(v.kind, 'diverged');
    if (v.kind === 'diverged') assert.deepEqual([v.divergence.line, v.divergence.expected.map((e) => e.ret).sort()], [8, [0, 1]]);
  });

  it('a session judges each op as its result streams in: a divergence is there before the end', () => {
    const s = new JudgeSession(SCRIPT, PROFILE, ENV, OPTS);
    const rs = observe(0);
    for (const r of rs.slice(0, 2)) s.push(r);
    s.push({ ...(rs[2] as OpResult), errno: 'EINVAL', ret: undefined } as unknown as OpResult);
    const v = s.finish();
    // Line 3 diverged; nothing after it was pushed, and that is not "incomplete".
    assert.equal(v.kind, 'diverged');
  });

  it('the first divergence is the verdict, whatever diverges after it', () => {
    const rs = observe(0).map((r) => (r.i === 2 || r.i === 8 ? { ...r, ret: 7 } : r));
    // In order, and in reverse (a target's results may arrive in any order: all are judged at once).
    for (const order of [rs, [...rs].reverse()]) {
      const v = run(order);
      assert.equal(v.kind, 'diverged');
      if (v.kind === 'diverged') assert.equal(v.divergence.line, 2);
    }
  });

  it('an invalid result names its own line, or line 0 when its line number is unusable', () => {
    const rs: unknown[] = observe(0);
    rs[3] = { i: 'four', op: 'fill', ret: 0 };
    const v = judge(SCRIPT, rs as OpResult[], PROFILE, ENV, OPTS);
    assert.deepEqual(v.kind === 'invalid' ? [v.line, v.error.index] : v, [0, 3]);
    const w = run(observe(0).map((r) => (r.i === 4 ? { ...r, op: 'check' } : r)));
    assert.deepEqual(w.kind === 'invalid' ? [w.line, w.error.index] : w, [4, 3]);
  });

  it('a gap is proved by the result of the highest line, even when it came before a lower one', () => {
    // Results for lines 1-4, then 8, then 6: line 5 (and 7) have none, and line 8 shows the target went past them.
    const all = observe(0);
    const rs = [...all.slice(0, 4), all[7] as OpResult, all[5] as OpResult];
    const v = run(rs);
    assert.equal(v.kind, 'invalid');
    if (v.kind === 'invalid') {
      assert.equal(v.reason, 'no result for line 5 (unpin r0 0 4096), though line 8 has one: a result is missing');
      assert.equal(v.error.index, 4);
    }
  });

  describe('a divergence is explained against the closest admissible world', () => {
    // Pressure may purge none, the older or both of two one-page ranges (§5.3); the check then
    // reads one of three patterns. Each observation below is none of them.
    const text = [...TEXT.split('\n').slice(0, PRESSURE), 'check m0 0 8192'].join('\n');
    const script = parseScript(text);
    const explainCheck = (rle: [number, number][]): { rule: string; section: string; expected: number } => {
      const d = Device.create(PROFILE.features, ENV);
      const rs = script.ops.map((op) => d.apply(op, op.line === PRESSURE ? 0 : undefined)).map((r) => (r.op === 'check' ? { ...r, rle } : r));
      const v = judge(script, rs, PROFILE, ENV, OPTS);
      assert.equal(v.kind, 'diverged', JSON.stringify(rle));
      if (v.kind !== 'diverged') throw new Error('unreachable');
      return { rule: v.divergence.rule, section: v.divergence.section, expected: v.divergence.expected.length };
    };

    it('only the newer range zeroed: out of LRU order, against the world that purged nothing (the first of two equally close)', () => {
      const e = explainCheck([[0xa5, 4096], [0, 4096]]);
      assert.match(e.rule, /^purged out of LRU order: .*first difference at byte 4096 .*expected 0xA5, observed 0x00$/);
      assert.deepEqual([e.section, e.expected], ['§4.5, §5.3', 3]);
    });

    it('bytes are counted: 4096 differing bytes beat 4097', () => {
      // Against "nothing purged" 4096 bytes differ, against "both purged" 4097, against "older purged" 8192.
      const e = explainCheck([[0xa5, 4096], [0, 4095], [1, 1]]);
      assert.match(e.rule, /first difference at byte 4096 .*expected 0xA5, observed 0x00$/);
    });

    it('one byte off "both purged": that world, and the trigger that purged the newer range is named (§4.5)', () => {
      const e = explainCheck([[0, 4095], [0xa5, 1], [0, 4096]]);
      assert.match(e.rule, /^purged out of LRU order: page 0 kept its data though memory pressure at line 7 purged newer ranges \(1:1\); .*first difference at byte 4095 .*expected 0x00, observed 0xA5$/);
    });

    it('data no purge explains, closest to "older purged": the stored data differs (§5.1)', () => {
      const e = explainCheck([[0, 4096], [0xa5, 4095], [7, 1]]);
      assert.match(e.rule, /^data differs from what was stored .*first difference at byte 8191 .*expected 0xA5, observed 0x07$/);
      assert.deepEqual([e.section, e.expected], ['§3.5, §5.1', 3]);
    });
  });
});
