/**
 * run's orchestration when targets fail or the run is stopped, on this machine's real probe: two
 * targets over the local kernel, each wrapped so the test decides when it fails and how. Case i
 * is planned for target i mod 2. A lost target's remaining cases and its case in flight (once) go
 * to the survivor; a second loss with it, or a failure that is a
 * finding (a kernel crash), records it as an error instead; an interrupt bounds the cases in
 * flight and records them as not run.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareTargets, runCases } from '../../harness/check/run.js';
import { QUIET } from '../../harness/check/worlds.js';
import type { OpResult } from '../../harness/ops/result.js';
import { LocalTarget } from '../../harness/targets/local-target.js';
import { DeviceVanishedError, type ExecOutcome, type Target, type TargetFacts } from '../../harness/targets/target.js';
import { ensureProbesBuilt } from '../probe/support.js';

/** A kernel crash during a case: the target is gone, and the crash is a result. */
class CrashError extends DeviceVanishedError {
  override readonly name = 'CrashError';
  override readonly isResult = true;
}

/** The local probe under another id; `fail(n, script)` says whether its n-th case (from 1) fails, and how. */
class Wrapped implements Target {
  private readonly inner = new LocalTarget();
  private n = 0;
  readonly scripts: string[] = [];
  constructor(readonly id: string, private readonly fail: (n: number, script: string) => Error | 'hang' | undefined = () => undefined) {}
  facts(): Promise<TargetFacts> {
    return this.inner.facts();
  }
  async exec(script: string, onResult?: (r: OpResult) => void): Promise<ExecOutcome> {
    this.n += 1;
    const f = this.fail(this.n, script);
    if (f === 'hang') return new Promise<ExecOutcome>(() => undefined);
    if (f !== undefined) throw f;
    this.scripts.push(script);
    return this.inner.exec(script, onResult);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('run: lost targets and interrupts (local probe, wrapped targets)', function () {
  this.timeout(120_000);
  const outs: string[] = [];
  const out = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-'));
    outs.push(d);
    return d;
  };
  before(() => ensureProbesBuilt());
  after(() => {
    for (const d of outs) fs.rmSync(d, { recursive: true, force: true });
  });

  async function run(targets: Target[], cases: number, extra: { signal?: AbortSignal; graceMs?: number; onCase?: () => void } = {}) {
    const prepared = await prepareTargets(targets, 'linux-memfd');
    return runCases(prepared, { cases, seed: 11, length: 8, out: out(), profile: 'linux-memfd', shrinkBudget: 0, judgeOptions: () => ({ ...QUIET, otherUsers: false }), ...extra });
  }

  it('a lost target\'s case in flight goes to the survivor; every case runs once', async () => {
    let victimCase = '';
    const a = new Wrapped('a');
    const b = new Wrapped('b', (n, s) => {
      if (n !== 3) return undefined;
      victimCase = s;
      return new DeviceVanishedError('b unplugged');
    });
    const { report, error } = await run([a, b], 12);
    assert.ok(error instanceof DeviceVanishedError);
    assert.deepEqual(report.cases.map((c) => c.status), new Array<string>(12).fill('passed'));
    // b ran case-1 and case-3 (its plan: the odd cases), then was lost at case-5: it and b's
    // remaining cases went to a.
    const lost = report.lost?.[0];
    assert.deepEqual([lost?.id, lost?.casesDone, lost?.unfinished, lost?.unfinishedWent], ['b', 2, ['case-5', 'case-7', 'case-9', 'case-11'], 'to other targets']);
    assert.deepEqual(report.cases.filter((c) => c.target === 'b').map((c) => c.id), ['case-1', 'case-3']);
    for (const id of lost?.unfinished ?? []) assert.equal(report.cases.find((c) => c.id === id)?.target, 'a', id);
    assert.ok(a.scripts.includes(victimCase), 'the survivor ran the very case');
  });

  it('a case in flight on two lost targets is handed over once, then recorded as the error it met; the rest are not run', async () => {
    let poison = '';
    const a = new Wrapped('a', (n, s) => {
      if (n === 2) {
        poison = s;
        return new DeviceVanishedError('a went away');
      }
      return undefined;
    });
    const b = new Wrapped('b', (_n, s) => (s === poison ? new DeviceVanishedError('b went away') : undefined));
    const { report } = await run([a, b], 10);
    const errors = report.cases.filter((c) => c.status === 'error');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.target, 'b');
    assert.match(errors[0]?.reason ?? '', /b went away/);
    // a owed case-2 (in flight), 4, 6, 8; b ran its own (the odd ones), then took a's, and was
    // lost on case-2: nobody is left for 4, 6, 8.
    assert.equal(errors[0]?.id, 'case-2');
    assert.deepEqual(report.lost?.map((l) => [l.id, l.unfinished, l.unfinishedWent]), [['a', ['case-2', 'case-4', 'case-6', 'case-8'], 'to other targets'], ['b', [], 'not run']]);
    assert.deepEqual(report.cases.filter((c) => c.notRun === true).map((c) => [c.id, c.target]), [['case-4', '(none)'], ['case-6', '(none)'], ['case-8', '(none)']]);
    assert.equal(report.stopped?.cause, 'targets-lost');
    assert.equal(report.cases.length, 10);
    assert.equal(report.cases.filter((c) => c.notRun === true).length + report.cases.filter((c) => c.status === 'passed').length + 1, 10);
  });

  it('a failure that is a finding (a kernel crash) is recorded with its case, never re-run elsewhere', async () => {
    const a = new Wrapped('a', (n) => (n === 2 ? new CrashError('kernel BUG during the case') : undefined));
    const b = new Wrapped('b');
    const { report } = await run([a, b], 8);
    const crashed = report.cases.filter((c) => c.status === 'error');
    assert.deepEqual(crashed.map((c) => [c.target, c.reason]), [['a', 'kernel BUG during the case']]);
    // The crashed case is not handed over; a's other cases are.
    assert.deepEqual(report.lost?.[0]?.unfinished, ['case-4', 'case-6']);
    // a ran one case before the crash; b ran the six left.
    assert.deepEqual(report.cases.filter((c) => c.status === 'passed').map((c) => c.target).sort(), ['a', 'b', 'b', 'b', 'b', 'b', 'b']);
    assert.ok(!b.scripts.some((s) => report.cases.find((c) => c.status === 'error')?.script === s), 'b never ran the crashing case');
  });

  it('an interrupt: no new case starts, a case that does not end within the bound is recorded as not run', async () => {
    const ctl = new AbortController();
    let started = 0;
    const a = new Wrapped('a', (n) => {
      started = n;
      if (n === 3) {
        setTimeout(() => ctl.abort('SIGINT'), 50);
        return 'hang';
      }
      return undefined;
    });
    const t0 = Date.now();
    const { report } = await run([a], 50, { signal: ctl.signal, graceMs: 300 });
    assert.ok(Date.now() - t0 < 20_000);
    assert.equal(started, 3, 'no case started after the interrupt');
    assert.deepEqual(report.stopped, { cause: 'interrupted', reason: 'interrupted by SIGINT', notRun: 48, total: 50 });
    const cut = report.cases.find((c) => c.id === 'case-2');
    assert.equal(cut?.target, 'a');
    assert.match(cut?.reason ?? '', /^not run: interrupted by SIGINT while in flight; it did not end within 0\.3 s/);
    assert.equal(report.cases.filter((c) => c.status === 'passed').length, 2);
  });
});
