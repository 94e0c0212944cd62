/**
 * The judge's input checks (issue 11 §5): results that do not belong to the script — extra,
 * missing, duplicate or malformed lines, a line with two outcome fields, another op's name — are
 * a usage error naming the first bad result, never a divergence and never "consistent"; results
 * cut short at the end stay "incomplete" (the target stopped). The streaming session used by
 * `run` applies the same checks. Results are real ones (shared/real-driver-samples), altered.
 */
import assert from 'node:assert/strict';
import { judge, JudgeSession, type Verdict } from '../../harness/check/judge.js';
import { ResultsMismatchError } from '../../harness/check/result-checks.js';
import { QUIET } from '../../harness/check/worlds.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';
import { sampleResults, sampleScript } from '../support/samples.js';

const ENV = { ...DEFAULT_ENVIRONMENT, kernelSeeksWithoutFmode: true };
const OPTS = { ...QUIET, otherUsers: false };
const NAME = '06-purge-all-basic';
const SCRIPT = parseScript(sampleScript(NAME));
const PROFILE = profileById('c-pre2019');

/** The recorded results, copied so that a test may alter them. */
const real = (): OpResult[] => sampleResults('c-pre2019', NAME).map((r) => ({ ...r }));
const run = (rs: readonly unknown[]): Verdict => judge(SCRIPT, rs as OpResult[], PROFILE, ENV, OPTS);

/** Asserts a usage-error verdict whose reason matches and whose error names result `index`. */
function expectInvalid(v: Verdict, reason: RegExp, index: number): void {
  assert.equal(v.kind, 'invalid', JSON.stringify(v).slice(0, 300));
  if (v.kind !== 'invalid') return;
  assert.match(v.reason, reason);
  assert.ok(v.error instanceof ResultsMismatchError);
  assert.equal(v.error.index, index, `the first bad result is #${index}`);
}

describe('judge input checks (issue 11 §5)', () => {
  it('the real results are consistent (the baseline every alteration below starts from)', () => {
    assert.equal(run(real()).kind, 'consistent');
  });

  it('a result for a line without an op (extra line at the end) is invalid, not ignored', () => {
    const rs = [...real(), { i: 35, op: 'check', ret: 0, rle: [[165, 8192]] }];
    expectInvalid(run(rs), /^result for line 35 \(check\): the script has no op on line 35 \(the script's ops are on lines 8–34\)$/, rs.length - 1);
  });

  it('8 results against an empty script: invalid, not "consistent: 0 ops"', () => {
    const v = judge(parseScript(''), real().slice(0, 8), PROFILE, ENV, OPTS);
    expectInvalid(v, /^result for line 8 \(open\): the script has no op on line 8 \(the script has no ops\)$/, 0);
  });

  it('a result naming another op than the script\'s line is invalid (op names are compared)', () => {
    const rs = real();
    // Line 25 is "status r0 8192 4096"; claim it was a pin that returned the same value.
    Object.assign(rs[17] as OpResult, { op: 'pin' });
    expectInvalid(run(rs), /^result for line 25 is for "pin", but line 25 of the script is "status"$/, 17);
  });

  it('a result from another process than the script\'s is invalid', () => {
    const rs = real();
    Object.assign(rs[2] as OpResult, { proc: 'p1' });
    expectInvalid(run(rs), /^result for line 10 \(mmap\) ran in process p1, but the script runs line 10 in p0$/, 2);
  });

  it('a duplicate line is invalid, even with the same value (not "expected ret 2, observed ret 2")', () => {
    const rs = real();
    rs.splice(5, 0, { ...(rs[4] as OpResult) });
    expectInvalid(run(rs), /^a second result for line 12 \(pin\)$/, 5);
  });

  it('a result with two outcome fields (ret and errno) is invalid', () => {
    const rs = real();
    Object.assign(rs[16] as OpResult, { errno: 'EINVAL' }); // line 24 keeps ret 5 as well
    expectInvalid(run(rs), /^result for line 24 \(purge_all\): 2 outcome fields \(ret and errno\): a result has exactly one$/, 16);
  });

  it('malformed lines: no outcome, a string ret, a bad line number, bad byte runs, no op name', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ i: 24, op: 'purge_all' }, /^result for line 24 \(purge_all\): no outcome field/],
      [{ i: 24, op: 'purge_all', ret: '5' }, /^result for line 24 \(purge_all\): "ret" must be an integer, got "5"$/],
      [{ i: '24', op: 'purge_all', ret: 5 }, /^"i" must be the op's script line number \(a positive integer\), got "24"$/],
      [{ i: 0, op: 'purge_all', ret: 5 }, /"i" must be the op's script line number/],
      [{ i: 24, ret: 5 }, /^result for line 24: "op" must name the op, got undefined$/],
      [{ i: 24, op: 'purge_all', ret: 5, rle: [[300, 1]] }, /"rle" must be byte runs/],
      [{ op: 'purge_all', ret: 5 }, /"i" must be the op's script line number/],
    ];
    for (const [bad, reason] of cases) {
      const rs: unknown[] = real();
      rs[16] = bad;
      expectInvalid(run(rs), reason, 16);
    }
  });

  it('a result missing in the middle is invalid (named), one missing at the end is incomplete', () => {
    const gap = real().filter((r) => r.i !== 20);
    const v = run(gap);
    assert.equal(v.kind, 'invalid');
    if (v.kind === 'invalid') {
      assert.equal(v.reason, 'no result for line 20 (status r0 24576 8192), though line 34 has one: a result is missing');
      assert.equal(v.line, 20);
    }
    const cut = real().filter((r) => r.i < 30);
    assert.deepEqual(run(cut), { kind: 'incomplete', line: 30, reason: 'no result for line 30 (pin r0 20480 4096): the target stopped early' });
  });

  it('bad input wins over a divergence that comes before it', () => {
    const rs = real();
    Object.assign(rs[16] as OpResult, { ret: 7 }); // a real divergence at line 24 (PURGE_ALL_CACHES count)
    assert.equal(run(rs).kind, 'diverged');
    rs.push({ i: 99, op: 'open', ret: 0 });
    expectInvalid(run(rs), /no op on line 99/, rs.length - 1);
  });

  it('metadata lines (hello) are not results; a parse error names the word the target read', () => {
    const rs: unknown[] = [{ hello: { probe: '0.1.0' } }, ...real().slice(0, 3), { i: 11, op: 'fil', error: 'parse', message: 'unknown op' }];
    assert.equal(run(rs).kind, 'incomplete');
  });

  describe('JudgeSession (results streamed by run)', () => {
    const session = (): JudgeSession => new JudgeSession(SCRIPT, PROFILE, ENV, OPTS);

    it('the same result objects pushed while streaming and again at the end: consistent', () => {
      const s = session();
      const rs = real();
      for (const r of rs) s.push(r);
      for (const r of rs) s.push(r);
      assert.equal(s.finish().kind, 'consistent');
    });

    it('a second, different object for a line already judged is invalid, with its position', () => {
      const s = session();
      const rs = real();
      for (const r of rs.slice(0, 10)) s.push(r);
      s.push({ ...(rs[3] as OpResult) });
      for (const r of rs.slice(10)) s.push(r);
      const v = s.finish();
      assert.equal(v.kind, 'invalid');
      if (v.kind === 'invalid') {
        assert.match(v.reason, /^a second result for line 11 \(fill\)$/);
        assert.equal(v.error.index, 10);
      }
    });

    it('an op-name mismatch is caught as it streams in, and a later good stream does not undo it', () => {
      const s = session();
      const rs = real();
      Object.assign(rs[0] as OpResult, { op: 'close' });
      for (const r of rs) s.push(r);
      const v = s.finish();
      assert.equal(v.kind, 'invalid');
      if (v.kind === 'invalid') assert.equal(v.error.index, 0);
    });
  });
});
