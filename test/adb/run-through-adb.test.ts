/**
 * The `run` verb's orchestration (harness/check/run.ts) over adb targets end to end: generated
 * cases sharded over two loopback devices through the real adb server, judged against the model;
 * then a device killed mid-run: the other device goes on with the lost one's share, the loss is
 * recorded (which, when, why) and the results that arrived are on disk; with no device left, the
 * remaining cases are recorded as not run. Run on this machine's shell and on a vm guest
 * (test/support/adb-backends.ts): two daemons serve the one guest, judged under the profile
 * detected there (c-final, the real driver); a killed daemon is the cable pulled.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { prepareTargets, runCases } from '../../harness/check/run.js';
import { judgeOptionsFor } from '../../harness/commands.js';
import type { AdbTarget } from '../../harness/targets/adb/index.js';
import { DeviceVanishedError } from '../../harness/targets/target.js';
import { adbBackends, type BackendDevice } from '../support/adb-backends.js';
import { useAdbSuite } from '../support/adb-suite.js';

for (const backend of adbBackends()) describe(`run over adb targets (two loopback devices, real adb server), on ${backend.title}`, function () {
  this.timeout(180_000);
  const suite = useAdbSuite(backend);

  /** `n` connected devices and a target on each. */
  async function devices(n: number): Promise<{ device: BackendDevice; target: AdbTarget }[]> {
    const made: { device: BackendDevice; target: AdbTarget }[] = [];
    for (let i = 0; i < n; i++) {
      const device = await suite.connectedDevice({ abis: ['x86_64'] });
      made.push({ device, target: suite.target(device, { timeouts: { deviceMs: 5000 } }) });
    }
    return made;
  }

  function rawLines(dir: string): Record<string, unknown>[] {
    return fs
      .readFileSync(path.join(dir, 'raw.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  it('shards generated cases over both devices, streams raw results, and judges every case', async function () {
    const [a, b] = (await devices(2)).map((d) => d.target);
    assert.ok(a !== undefined && b !== undefined);
    const prepared = await prepareTargets([a, b], 'auto');
    assert.deepEqual(prepared.map((p) => p.info.id), [a.id, b.id]);
    if (backend.name === 'vm') assert.deepEqual(prepared.map((p) => p.info.profile), ['c-final', 'c-final']);
    const out = suite.tempDir('adb-run-');
    const { report, error } = await runCases(prepared, {
      cases: 12,
      seed: 7,
      length: 10,
      out,
      profile: 'auto',
      shrinkBudget: 10,
      // The loopback device is this machine, exclusive and quiet: judged as the CLI judges --quiet.
      judgeOptions: (t) => judgeOptionsFor(t.id, { quiet: true }),
    });
    assert.equal(error, undefined);
    assert.equal(report.cases.length, 12);
    assert.deepEqual(report.cases.filter((c) => c.status === 'error'), []);
    assert.deepEqual(new Set(report.cases.map((c) => c.target)), new Set([a.id, b.id]));
    const raw = rawLines(out);
    assert.deepEqual(new Set(raw.map((r) => r['target'])), new Set([a.id, b.id]));
    assert.equal(new Set(raw.map((r) => r['case'])).size, 12);
  });

  it('a device killed mid-run: the other goes on and runs every case, the lost one\'s case in flight included; the loss is recorded', async function () {
    const [first, second] = await devices(2);
    assert.ok(first !== undefined && second !== undefined);
    const [a, b] = [first.target, second.target];
    const victim = second.device.daemon;
    const prepared = await prepareTargets([a, b], 'auto');
    const out = suite.tempDir('adb-run-');
    let bCases = 0;
    let killedAt = '';
    const lostSeen: string[] = [];
    const { report, error } = await runCases(prepared, {
      cases: 40,
      seed: 3,
      length: 10,
      out,
      profile: 'auto',
      shrinkBudget: 0,
      judgeOptions: (t) => judgeOptionsFor(t.id, { quiet: true }),
      onCase: (c) => {
        if (c.target === b.id && ++bCases === 3) {
          killedAt = new Date().toISOString();
          victim.kill();
        }
      },
      onLost: (l) => lostSeen.push(l.id),
    });
    assert.ok(error instanceof DeviceVanishedError, String(error));
    assert.match(error.message, new RegExp(victim.serial.replace(/\./g, '\\.')));
    // Every case ran and was judged: the survivor took the lost device's share. Here every case
    // passes; in the guest a case may diverge — the model meeting the real driver, a finding with
    // its repro like any other, and not what this test is about — but none errs or goes unrun.
    const judged = backend.name === 'host' ? ['passed'] : ['passed', 'diverged'];
    assert.equal(report.cases.length, 40);
    assert.deepEqual(report.cases.filter((c) => !judged.includes(c.status)).map((c) => `${c.id} on ${c.target}: ${c.status} ${c.reason ?? ''}`), []);
    assert.deepEqual(new Set(report.cases.map((c) => c.id)).size, 40);
    assert.equal(report.cases.filter((c) => c.target === b.id).length, 3);
    assert.equal(report.cases.filter((c) => c.target === a.id).length, 37);
    assert.equal(report.stopped, undefined);
    // The report says which device was lost, when, and what became of its case in flight.
    assert.deepEqual(lostSeen, [b.id]);
    const lost = report.lost?.[0];
    assert.ok(lost !== undefined && report.lost?.length === 1);
    assert.equal(lost.id, b.id);
    assert.equal(lost.error, 'AdbDeviceVanishedError');
    assert.equal(lost.casesDone, 3);
    assert.ok(lost.at >= killedAt, `${lost.at} before the kill at ${killedAt}`);
    assert.equal(lost.unfinishedWent, 'to other targets');
    for (const id of lost.unfinished) assert.equal(report.cases.find((c) => c.id === id)?.target, a.id, `${id} was re-run on the survivor`);
    const raw = rawLines(out);
    const bRaw = raw.filter((r) => r['target'] === b.id);
    assert.ok(new Set(bRaw.map((r) => r['case'])).size >= 3, 'the vanished device kept its results on disk');
  });

  it('every device lost: the case in flight is the error it met (with the logs), the cases left are not run, with why', async function () {
    const [only] = await devices(1);
    assert.ok(only !== undefined);
    const a = only.target;
    const victim = only.device.daemon;
    const prepared = await prepareTargets([a], 'auto');
    const out = suite.tempDir('adb-run-');
    let n = 0;
    const { report, error } = await runCases(prepared, {
      cases: 20,
      seed: 5,
      length: 10,
      out,
      profile: 'auto',
      shrinkBudget: 0,
      judgeOptions: (t) => judgeOptionsFor(t.id, { quiet: true }),
      onCase: () => {
        if (++n === 2) victim.kill();
      },
    });
    assert.ok(error instanceof DeviceVanishedError, String(error));
    assert.equal(report.cases.length, 20);
    assert.deepEqual(report.cases.filter((c) => c.notRun !== true).map((c) => [c.id, c.status]), [['case-0', 'passed'], ['case-1', 'passed'], ['case-2', 'error']]);
    const cut = report.cases.find((c) => c.id === 'case-2');
    assert.match(cut?.reason ?? '', /vanished mid-run/);
    assert.equal(typeof cut?.logs?.logcat, 'string', 'the logs, or why they could not be read');
    const notRun = report.cases.filter((c) => c.notRun === true);
    assert.equal(notRun.length, 17);
    assert.ok(notRun.every((c) => c.status === 'skipped' && /^not run: every target was lost \(the last: adb:.*AdbDeviceVanishedError\)$/.test(c.reason ?? '')), notRun[0]?.reason);
    assert.deepEqual(report.stopped, { cause: 'targets-lost', reason: 'every target was lost', notRun: 17, total: 20 });
    assert.deepEqual(report.lost?.map((l) => [l.unfinished.length, l.unfinished[0], l.unfinishedWent]), [[17, 'case-3', 'not run']]);
    // results.jsonl has a line for every case, the unrun ones included.
    assert.equal(fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').length, 20);
  });
});
