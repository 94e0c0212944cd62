/**
 * The pipeline on this machine's real kernel: for every ABI, `run --profile auto` passes 200
 * generated cases through the real probe (natively or under qemu-user, as the trial finds), and the judge catches
 * each deliberate alteration of real local results.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { judge } from '../../harness/check/judge.js';
import { prepareTargets, runCases, type PreparedTarget } from '../../harness/check/run.js';
import { QUIET } from '../../harness/check/worlds.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';
import { LocalTarget } from '../../harness/targets/local-target.js';
import { ANDROID_ABIS } from '../../harness/targets/probe-binary.js';
import { skipUnlessRunnable } from '../probe/support.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

function ensureProbes(): void {
  const missing = ANDROID_ABIS.filter((abi) => !fs.existsSync(path.join(ROOT, 'apk-fixtures/probe/build', abi, 'ashmem-probe')));
  if (missing.length === 0) return;
  const r = spawnSync(path.join(ROOT, 'scripts/build-probe'), { encoding: 'utf8' });
  assert.equal(r.status, 0, `scripts/build-probe failed (run scripts/setup-host first):\n${r.stderr}`);
}

describe('run on this machine\'s kernel, every ABI', function () {
  this.timeout(300_000);
  before(ensureProbes);

  for (const abi of ANDROID_ABIS) {
    it(`local:${abi}: 200 generated cases, --profile auto, all consistent`, async function () {
      skipUnlessRunnable(this, abi);
      const out = fs.mkdtempSync(path.join(os.tmpdir(), `run-${abi}-`));
      const target = LocalTarget.fromId(`local:${abi}`);
      try {
        const prepared = await prepareTargets([target], 'auto');
        const p = prepared[0] as PreparedTarget;
        // This machine has no ashmem: the probe meets memfd, and auto must say so.
        assert.equal(p.info.profile, 'linux-memfd', p.info.profileReason);
        const { report, error } = await runCases(prepared, { cases: 200, seed: 20261125, length: 40, out, profile: 'auto', shrinkBudget: 50, judgeOptions: () => ({ ...QUIET, otherUsers: false }) });
        assert.equal(error, undefined);
        assert.equal(report.cases.length, 200);
        const bad = report.cases.filter((c) => c.status !== 'passed');
        assert.deepEqual(bad.map((c) => `${c.id}: ${c.status} ${c.reason ?? c.divergence?.rule ?? ''}`), []);
        // Results were streamed to disk, one line per case.
        assert.equal(fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').length, 200);
        // The cases really ran on the kernel: data went through mappings and came back.
        const raw = fs.readFileSync(path.join(out, 'raw.jsonl'), 'utf8');
        assert.match(raw, /"op":"check","ret":0,"rle":\[\[/);
      } finally {
        await target.close();
        fs.rmSync(out, { recursive: true, force: true });
      }
    });
  }
});

describe('the judge on real local results', function () {
  this.timeout(60_000);
  before(ensureProbes);
  const script = `open r0
truncate r0 16384
mmap m0 r0 16384 3 shared 0
fill m0 0 16384 0x5a
mmap m1 r0 8192 3 private 0
fill m1 0 4096 0x11
check m0 0 16384
check m1 0 8192
lseek r0 4096 set
read r0 100
unpin r0 0 4096
truncate r0 4096
check m0 0 8192
fork p1
p1: fill m0 0 10 7
exit p1
check m0 0 16
`;
  let results: OpResult[] = [];
  let target: LocalTarget;
  let p: PreparedTarget;
  const opts = { ...QUIET, otherUsers: false };

  before(async () => {
    target = new LocalTarget();
    [p] = (await prepareTargets([target], 'auto')) as [PreparedTarget];
    results = [...(await target.exec(script)).results];
  });
  after(async () => target.close());

  it('real results of a memfd script are consistent with linux-memfd', () => {
    assert.equal(results.length, parseScript(script).ops.length);
    const v = judge(parseScript(script), results, p.profile, p.env, opts);
    assert.equal(v.kind, 'consistent', JSON.stringify(v));
    // And they are not trivially so: the kernel's SIGBUS past a truncated size came back.
    assert.equal(results.find((r) => r.i === 13)?.signal, 'SIGBUS');
  });

  const alterations: [string, (r: OpResult[]) => void][] = [
    ['a byte changed in a check', (r) => Object.assign(r[6] as OpResult, { rle: [[0x5a, 4095], [0x5b, 1], [0x5a, 12288]] })],
    ['a private mapping showing the region (MAP_PRIVATE of a memfd is copy-on-write: pages not written show the file)', (r) => Object.assign(r[7] as OpResult, { rle: [[0x11, 8192]] })],
    ['a read returning fewer bytes', (r) => Object.assign(r[9] as OpResult, { ret: 99 })],
    ['an errno where the call succeeded', (r) => { const x = r[8] as { ret?: number; errno?: string }; delete x.ret; x.errno = 'EINVAL'; }],
    ['no SIGBUS past i_size', (r) => { const x = r[12] as { signal?: string; ret?: number; rle?: unknown }; delete x.signal; x.ret = 0; x.rle = [[0x5a, 4096], [0, 4096]]; }],
    ['the child\'s store not visible to the parent (MAP_SHARED across fork)', (r) => Object.assign(r[16] as OpResult, { rle: [[0x5a, 16]] })],
    ['the ENOTTY of an ashmem ioctl on a memfd turned into success', (r) => { const x = r[10] as { ret?: number; errno?: string }; delete x.errno; x.ret = 0; }],
  ];
  for (const [what, alter] of alterations) {
    it(`catches ${what}`, () => {
      const altered = results.map((r) => ({ ...r }));
      alter(altered);
      const v = judge(parseScript(script), altered, p.profile, p.env, opts);
      assert.equal(v.kind, 'diverged');
    });
  }
});

describe('conform on this machine\'s kernel, every ABI', function () {
  this.timeout(300_000);
  before(ensureProbes);

  for (const abi of ANDROID_ABIS) {
    it(`local:${abi}: every scenario is reported, passed or skipped with its reason, none diverged`, async function () {
      skipUnlessRunnable(this, abi);
      const { conformSuite, loadScenarios } = await import('../../harness/check/conform.js');
      const out = fs.mkdtempSync(path.join(os.tmpdir(), `conform-${abi}-`));
      const target = LocalTarget.fromId(`local:${abi}`);
      try {
        const scenarios = loadScenarios();
        assert.ok(scenarios.length >= 60, `only ${scenarios.length} scenarios`);
        const prepared = await prepareTargets([target], 'auto');
        const { report, error } = await conformSuite(prepared, scenarios, out, () => ({ ...QUIET, otherUsers: false }));
        assert.equal(error, undefined);
        assert.equal(report.cases.length, scenarios.length);
        for (const c of report.cases) {
          assert.ok(c.status === 'passed' || (c.status === 'skipped' && (c.reason ?? '').length > 10), `${c.id}: ${c.status} ${c.reason ?? c.divergence?.rule ?? ''}`);
        }
        // memfd only here: the ashmem scenarios must say so rather than pass.
        assert.ok(report.cases.filter((c) => c.status === 'skipped' && /needs \/dev\/ashmem/.test(c.reason ?? '')).length > scenarios.length / 2);
        assert.equal(fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').length, scenarios.length);
      } finally {
        await target.close();
        fs.rmSync(out, { recursive: true, force: true });
      }
    });
  }
});
