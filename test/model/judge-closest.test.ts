/**
 * Which admissible world a divergence is explained against (harness/check/judge.ts `explain`,
 * `closeness`): the one whose prediction shares the outcome (ret, errno, signal) with the
 * observation, then the one whose bytes differ in the fewest places. Also the results the judge
 * takes apart by line (`byLine`) and divergences where one side has bytes and the other a
 * fault. Observations are the model's own answers, altered one way each. Written against the
 * mutation report (issue 12 §7).
 */
import assert from 'node:assert/strict';
import { modelState } from '../../harness/check/explain.js';
import { byLine, judge, type Divergence, type JudgeOptions } from '../../harness/check/judge.js';
import { QUIET } from '../../harness/check/worlds.js';
import { Device } from '../../harness/model/device.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import type { Op } from '../../harness/ops/ast.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { ByteRun, OpResult } from '../../harness/ops/result.js';

const PROFILE = profileById('c-final');
const ENV = DEFAULT_ENVIRONMENT;
const OPTS: JudgeOptions = { ...QUIET, otherUsers: false };

/** The model's answers in the world where every purge choice is `choice` (undefined: the default). */
function modelRun(text: string, choice?: number, profile = PROFILE, env = ENV): OpResult[] {
  const d = Device.create(profile.features, env);
  return parseScript(text).ops.map((op) => d.apply(op, d.choices(op) === undefined ? undefined : choice));
}

/** The divergence the altered results must give. */
function divergence(text: string, rs: readonly OpResult[], profile = PROFILE, env = ENV): Divergence {
  const v = judge(parseScript(text), rs, profile, env, OPTS);
  assert.equal(v.kind, 'diverged', JSON.stringify(v).slice(0, 300));
  return (v as { divergence: Divergence }).divergence;
}

/** Replaces line `i`'s result. */
const alter = (rs: readonly OpResult[], i: number, r: Partial<OpResult>): OpResult[] => rs.map((x) => (x.i === i ? ({ i, op: x.op, ...r } as OpResult) : x));

/** The bytes of a run list. */
function bytes(rle: readonly ByteRun[]): number[] {
  return rle.flatMap(([b, n]) => Array<number>(n).fill(b));
}

describe('the world a divergence is explained against (judge.ts)', () => {
  it('byLine keys results by their line and drops metadata lines without one', () => {
    const open = { i: 1, op: 'open', ret: 0 } as OpResult;
    const size = { i: 2, op: 'set_size', ret: 0 } as OpResult;
    const hello = { hello: 'probe', version: 1 } as unknown as OpResult;
    const m = byLine([hello, open, size]);
    assert.deepEqual([...m.keys()], [1, 2]);
    assert.equal(m.get(1), open);
  });

  it('only too many worlds is undecidable: a model error while stepping several worlds propagates', () => {
    // Two worlds after the pressure (range purged or not); the op of a process that was never
    // forked (a Script built past the parser, which refuses it) is a bug of the caller or model.
    const full = parseScript('open r0\nset_size r0 4096\nmmap m0 r0 4096 3 shared 0\nunpin r0 0 4096\npressure 64 1\nfork p1\np1: get_size r0');
    const script = { ...full, ops: full.ops.filter((op) => op.kind !== 'fork') };
    const rs = modelRun('open r0\nset_size r0 4096\nmmap m0 r0 4096 3 shared 0\nunpin r0 0 4096\npressure 64 1');
    rs.push({ i: 7, op: 'get_size', proc: 'p1', ret: 4096 });
    assert.throws(() => judge(script, rs, PROFILE, ENV, OPTS), /process p1 is not running/);
  });

  describe('a fault on one side, bytes on the other (§3.5: PROT_NONE pages fault on access)', () => {
    const text = 'open r0\nset_size r0 4096\nmmap m0 r0 4096 0 shared 0\ncheck m0 0 4096';
    it('the model faults where the target read bytes', () => {
      const rs = modelRun(text);
      assert.equal(rs[3]?.signal, 'SIGSEGV');
      const d = divergence(text, alter(rs, 4, { ret: 0, rle: [[0, 4096]] }));
      assert.equal(d.line, 4);
      assert.match(d.rule, /^fault mismatch: expected SIGSEGV, observed no fault/);
    });
    it('the target faulted where the model reads bytes', () => {
      const ok = text.replace(' 4096 0 shared', ' 4096 3 shared');
      const rs = modelRun(ok);
      assert.deepEqual(rs[3]?.rle, [[0, 4096]]);
      const d = divergence(ok, alter(rs, 4, { signal: 'SIGSEGV' }));
      assert.match(d.rule, /^fault mismatch: expected no fault, observed SIGSEGV/);
    });
  });

  it('a read that returned more bytes than the model predicts names both fields (§3.9)', () => {
    const text = 'open r0\nset_size r0 4096\nmmap m0 r0 4096 3 shared 0\nfill m0 0 4096 7\nread r0 8192';
    const rs = modelRun(text);
    assert.equal(rs[4]?.ret, 4096);
    const d = divergence(text, alter(rs, 5, { ret: 8192, rle: [[7, 4096], [9, 4096]] }));
    assert.equal(d.rule, 'ret differs (expected 4096, observed 8192); rle differs (expected [[7,4096]], observed [[7,4096],[9,4096]])');
  });

  it('a MemoryFile read is explained against the world with the same outcome, not the purged one (§8.1)', () => {
    // After app_wait the region may be purged (readBytes throws) or not (it reads 4 zero bytes).
    const text = 'mf_create f0 "x" 8192\nmf_allow_purging f0 true\napp_wait "purge" 1000\nmf_read f0 4 0 0 4';
    const env = { ...ENV, apiLevel: 33 };
    const rs = modelRun(text, 0, PROFILE, env);
    assert.deepEqual(rs[3], { i: 4, op: 'mf_read', ret: 4, rle: [[0, 4]] });
    const d = divergence(text, alter(rs, 4, { ret: 4, rle: [[7, 4]] }), PROFILE, env);
    assert.equal(d.rule, 'rle differs (expected [[0,4]], observed [[7,4]])');
    assert.deepEqual(d.expected.map((e) => e.exception ?? e.ret), [4, 'java.io.IOException']);
  });

  it('a fault no world predicts: an exception is no closer to it than bytes, so the first (unpurged) world explains it', () => {
    const text = 'mf_create f0 "x" 8192\nmf_allow_purging f0 true\napp_wait "purge" 1000\nmf_read f0 4 0 0 4';
    const env = { ...ENV, apiLevel: 33 };
    const d = divergence(text, alter(modelRun(text, 0, PROFILE, env), 4, { signal: 'SIGSEGV' }), PROFILE, env);
    assert.deepEqual(d.expected.map((e) => e.exception ?? e.ret), [4, 'java.io.IOException']);
    assert.match(d.rule, /^fault mismatch: expected no fault, observed SIGSEGV/);
    assert.deepEqual(d.state.lru, ['1:0-1']);
  });

  it('an mmap refused with EINVAL is explained against the world where it succeeds, not the ENOMEM one (§3.5)', () => {
    // A 1 GiB region above the default commit limit: the mmap may succeed or fail with ENOMEM.
    const text = 'open r0\nset_size r0 1073741824\nmmap m0 r0 1073741824 3 shared 0';
    const d = divergence(text, alter(modelRun(text), 3, { errno: 'EINVAL' }));
    assert.deepEqual(d.expected.map((e) => e.errno ?? e.ret), [0, 'ENOMEM']);
    assert.equal(d.rule, 'wrong errno or success: expected ret 0, observed EINVAL');
  });

  describe('among purged worlds, the one whose bytes differ in the fewest places (§5.3: any LRU prefix)', () => {
    // Two one-page ranges, oldest first; pressure may purge 0, 1 or 2 of them.
    const text = 'open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared 0\nfill m0 0 8192 0xA5\nunpin r0 0 4096\nunpin r0 4096 4096\npressure 64 1\ncheck m0 0 8192';
    const ops = parseScript(text).ops;
    /** Each world before the check (by prefix purged) and what it predicts. */
    const worlds = [0, 1, 2].map((k) => {
      const d = Device.create(PROFILE.features, ENV);
      for (const op of ops.slice(0, -1)) d.apply(op, op.kind === 'pressure' ? k : undefined);
      const state = modelState(d.kernel);
      return { state, predicted: d.apply(ops[ops.length - 1] as Op).rle ?? [] };
    });
    const observations: [string, ByteRun[]][] = [
      ['mostly the one-range world', [[0, 4096], [0xa5, 4095], [0x11, 1]]],
      ['a split first page', [[0, 100], [0xa5, 3996], [0xa5, 4000], [0, 96]]],
      ['zeros with a short run of data', [[0, 5000], [0xa5, 10], [0, 3182]]],
      ['data with zeros late', [[0xa5, 6000], [0, 2192]]],
      ['one byte differs from the untouched world', [[0xa5, 8000], [0x3c, 1], [0xa5, 191]]],
      ['zeros until late, then data', [[0, 8000], [0xa5, 192]]],
      ['many short runs', [[0, 1000], [0xa5, 1000], [0, 1000], [0xa5, 1500], [0, 3000], [0xa5, 692]]],
    ];
    for (const [name, observed] of observations) {
      it(`${name}`, () => {
        const seen = bytes(observed);
        const differing = worlds.map((w) => {
          const p = bytes(w.predicted);
          let n = 0;
          for (let b = 0; b < p.length; b++) if (p[b] !== seen[b]) n++;
          return n;
        });
        const best = differing.indexOf(Math.min(...differing));
        const rs = alter(modelRun(text, 0), 8, { ret: 0, rle: observed });
        const d = divergence(text, rs);
        assert.deepEqual(d.state, worlds[best]?.state, `differing bytes per world: ${differing.join(', ')}`);
      });
    }
  });
});
