/**
 * Ground truth: the model must predict, and the judge must accept, the exact results two real
 * drivers gave (shared/real-driver-samples), and must reject them when altered.
 */
import assert from 'node:assert/strict';
import { judge } from '../../harness/check/judge.js';
import { resultKey } from '../../harness/check/match.js';
import { predict, type Prediction } from '../../harness/check/predict.js';
import { QUIET } from '../../harness/check/worlds.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';
import { DRIVERS, SAMPLES, sampleResults, sampleScript } from '../support/samples.js';

// The samples were recorded as root on Linux 6.1 x86_64 with 4 KiB pages (README of the samples).
const ENV = { ...DEFAULT_ENVIRONMENT, kernelSeeksWithoutFmode: true };
const FRESH_GUEST = { ...QUIET, otherUsers: false };

function admits(p: Prediction, r: OpResult): boolean {
  return 'oneOf' in p ? p.oneOf.some((x) => resultKey(x) === resultKey(r)) : resultKey(p) === resultKey(r);
}

describe('real-driver samples (shared/real-driver-samples)', () => {
  for (const d of DRIVERS) {
    for (const name of SAMPLES) {
      it(`${d.dir}/${name}: every recorded result is one the ${d.profile} profile predicts`, () => {
        const script = parseScript(sampleScript(name));
        const observed = sampleResults(d.dir, name);
        const predicted = predict(script, profileById(d.profile), ENV);
        assert.equal(predicted.length, observed.length);
        observed.forEach((o, k) => {
          const p = predicted[k] as Prediction;
          assert.equal(p.i, o.i);
          assert.ok(admits(p, o), `line ${o.i}: observed ${JSON.stringify(o)}, predicted ${JSON.stringify(p).slice(0, 300)}`);
        });
      });

      it(`${d.dir}/${name}: the judge finds it consistent with ${d.profile}`, () => {
        const v = judge(parseScript(sampleScript(name)), sampleResults(d.dir, name), profileById(d.profile), ENV, FRESH_GUEST);
        assert.equal(v.kind, 'consistent', JSON.stringify(v));
      });
    }
  }

  it('deterministic samples are predicted exactly, not as a set (06, 07, 30 on both drivers)', () => {
    for (const d of DRIVERS) {
      for (const name of ['06-purge-all-basic', '07-merge-purged-flag', '30-messy-pinning']) {
        const predicted = predict(parseScript(sampleScript(name)), profileById(d.profile), ENV);
        assert.ok(predicted.every((p) => !('oneOf' in p)), `${name} should have one admissible world throughout`);
      }
    }
  });

  it('31-lru-oldest-128 with the batch shrinker model: exactly the 128 oldest ranges, then the rest (§5.2, §12)', () => {
    const v = judge(parseScript(sampleScript('31-lru-oldest-128')), sampleResults('c-pre2019', '31-lru-oldest-128'), profileById('c-pre2019'), ENV, { ...FRESH_GUEST, shrinker: 'batches' });
    assert.equal(v.kind, 'consistent');
  });

  it('the pre-2019 driver diverges from the ack-c profile at the first NULL-argument GET_PIN_STATUS (§3.6 check order)', () => {
    const v = judge(parseScript(sampleScript('01-before-mmap')), sampleResults('c-pre2019', '01-before-mmap'), profileById('ack-c'), ENV, FRESH_GUEST);
    assert.equal(v.kind, 'diverged');
    if (v.kind !== 'diverged') return;
    assert.equal(v.divergence.line, 11);
    assert.equal(v.divergence.observed.errno, 'EINVAL');
    assert.deepEqual(v.divergence.expected.map((e) => e.errno), ['EFAULT']);
    assert.match(v.divergence.section, /§3\.6/);
  });

  it('the ACK driver diverges from c-pre2019 (GET_FILE_ID exists, §3.8; EFAULT first, §3.6)', () => {
    const v = judge(parseScript(sampleScript('01-before-mmap')), sampleResults('ack-c-5.10', '01-before-mmap'), profileById('c-pre2019'), ENV, FRESH_GUEST);
    assert.equal(v.kind, 'diverged');
  });

  describe('altered results are caught', () => {
    const name = '31-lru-oldest-128';
    const script = parseScript(sampleScript(name));
    const base = (): OpResult[] => sampleResults('c-pre2019', name).map((r) => ({ ...r }));
    const at = (rs: OpResult[], i: number): OpResult => rs.find((r) => r.i === i) as OpResult;
    const expectDivergence = (rs: OpResult[], rule: RegExp): void => {
      const v = judge(script, rs, profileById('c-pre2019'), ENV, FRESH_GUEST);
      assert.equal(v.kind, 'diverged', 'the alteration must be caught');
      if (v.kind === 'diverged') assert.match(v.divergence.rule, rule);
    };

    it('a purge out of LRU order (an older range kept, a younger one purged) is caught', () => {
      const rs = base();
      const check = at(rs, 318);
      // Page 0 of X was purged (oldest) and page 1 kept: swap them.
      const rle = [...(check.rle ?? [])];
      rle[0] = [170, 4096];
      rle[1] = [0, 4096];
      Object.assign(check, { rle });
      expectDivergence(rs, /LRU order/);
    });

    it('a partial range purge is caught (§5.2 whole ranges only)', () => {
      const script7 = parseScript(sampleScript('07-merge-purged-flag'));
      const rs = sampleResults('c-pre2019', '07-merge-purged-flag').map((r) => ({ ...r }));
      // After unpin [0,3] and PURGE_ALL_CACHES, only pages 0-1 read back as zeros.
      Object.assign(at(rs, 13), { rle: [[0, 8192], [90, 24576]] });
      const v = judge(script7, rs, profileById('c-pre2019'), ENV, FRESH_GUEST);
      assert.equal(v.kind, 'diverged');
      if (v.kind === 'diverged') assert.match(v.divergence.rule, /part of a range|not zeroed/);
    });

    it('a pinned page purged is caught', () => {
      const s6 = parseScript(sampleScript('06-purge-all-basic'));
      const rs = sampleResults('c-pre2019', '06-purge-all-basic').map((r) => ({ ...r }));
      // Page 0 is pinned; claim it read back as zeros.
      Object.assign(at(rs, 26), { rle: [[0, 4096], [165, 4096], [0, 8192], [165, 4096], [0, 4096], [165, 8192], [0, 8192], [165, 24576]] });
      const v = judge(s6, rs, profileById('c-pre2019'), ENV, FRESH_GUEST);
      assert.equal(v.kind, 'diverged');
      if (v.kind === 'diverged') assert.match(v.divergence.rule, /pinned page was purged/);
    });

    it('a purged page not zeroed is caught', () => {
      const s6 = parseScript(sampleScript('06-purge-all-basic'));
      const rs = sampleResults('c-pre2019', '06-purge-all-basic').map((r) => ({ ...r }));
      Object.assign(at(rs, 26), { rle: [[165, 65536]] });
      assert.equal(judge(s6, rs, profileById('c-pre2019'), ENV, FRESH_GUEST).kind, 'diverged');
    });

    it('a lost WAS_PURGED is caught (§4.3: the flag is per range)', () => {
      const s6 = parseScript(sampleScript('06-purge-all-basic'));
      const rs = sampleResults('c-pre2019', '06-purge-all-basic').map((r) => ({ ...r }));
      Object.assign(at(rs, 28), { ret: 0 }); // PIN [3,3] after PIN [2,2] of a purged [2,3]
      const v = judge(s6, rs, profileById('c-pre2019'), ENV, FRESH_GUEST);
      assert.equal(v.kind, 'diverged');
      if (v.kind === 'diverged') assert.match(v.divergence.rule, /WAS_PURGED/);
    });

    it('a wrong PURGE_ALL_CACHES count is caught on an exclusive machine, allowed as a lower bound on a shared one (§3.7)', () => {
      const s6 = parseScript(sampleScript('06-purge-all-basic'));
      const rs = sampleResults('c-pre2019', '06-purge-all-basic').map((r) => ({ ...r }));
      Object.assign(at(rs, 24), { ret: 7 });
      assert.equal(judge(s6, rs, profileById('c-pre2019'), ENV, FRESH_GUEST).kind, 'diverged');
      assert.equal(judge(s6, rs, profileById('c-pre2019'), ENV, { ...FRESH_GUEST, otherUsers: true }).kind, 'consistent');
    });

    it('a wrong errno is caught', () => {
      const rs = base();
      Object.assign(at(rs, 17), { ret: undefined, errno: 'EINVAL' });
      delete (at(rs, 17) as { ret?: number }).ret;
      expectDivergence(rs, /errno/);
    });

    it('results cut short at the end are incomplete (the target stopped), not consistent', () => {
      const rs = base().filter((r) => r.i < 200);
      const v = judge(script, rs, profileById('c-pre2019'), ENV, FRESH_GUEST);
      assert.equal(v.kind, 'incomplete');
      assert.equal(v.kind === 'incomplete' && v.line, 200);
    });

    it('a result missing before later ones is results that do not belong, naming the missing line (issue 11 §5)', () => {
      const rs = base().filter((r) => r.i !== 200);
      const v = judge(script, rs, profileById('c-pre2019'), ENV, FRESH_GUEST);
      assert.equal(v.kind, 'invalid');
      if (v.kind === 'invalid') assert.match(v.reason, /^no result for line 200 \(unpin r\d \d+ 4096\), though line \d+ has one: a result is missing$/);
    });
  });
});
