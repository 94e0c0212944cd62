/**
 * A device lost mid-run, on this machine's shell (the daemon killed, as if unplugged) and on a
 * vm guest (unplugged too, or the guest powered off: QEMU killed under the probe): the adb target reports
 * {@link AdbDeviceVanishedError} (a DeviceVanishedError) with the results that had arrived, the
 * other device goes on, and a run keeps on disk what the lost device had delivered.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { prepareTargets, runCases } from '../../harness/check/run.js';
import { judgeOptionsFor } from '../../harness/commands.js';
import type { OpResult } from '../../harness/ops/result.js';
import { AdbDeviceVanishedError, runSharded, type AdbTarget, type AdbTargetOptions } from '../../harness/targets/adb/index.js';
import { DeviceVanishedError } from '../../harness/targets/target.js';
import { adbBackends, numberedCase, type BackendDevice } from '../support/adb-backends.js';
import { useAdbSuite } from '../support/adb-suite.js';

for (const backend of adbBackends()) describe(`adb target: a device lost mid-run, on ${backend.title}`, function () {
  // Each test boots a guest of its own (about a second from the snapshot; minutes for a real
  // TCG boot if another checkout's initramfs replaced the snapshot meanwhile).
  this.timeout(300_000);
  const suite = useAdbSuite(backend);

  /** A device and a target on it; `own` for one that will be lost. */
  async function device(own: boolean, options: Partial<AdbTargetOptions> = {}): Promise<{ device: BackendDevice; target: AdbTarget }> {
    const d = await suite.connectedDevice({ abis: ['x86_64'], own });
    return { device: d, target: suite.target(d, { timeouts: { deviceMs: 8000 }, ...options }) };
  }

  const caseScript = (n: number): string => numberedCase(backend, n);

  /**
   * How a device is lost mid-case: its cable pulled (the daemon killed) everywhere, and on a vm
   * guest also the guest powered off (QEMU killed under the probe; a guest of its own).
   */
  const losses: readonly { how: string; own: boolean; lose: (d: BackendDevice) => void; atOnce: boolean }[] = [
    { how: 'the cable pulled', own: false, lose: (d) => d.daemon.kill(), atOnce: true },
    ...(backend.name === 'vm' ? [{ how: 'the guest powered off', own: true, lose: (d: BackendDevice) => void d.lose(), atOnce: false }] : []),
  ];

  for (const { how, own, lose, atOnce } of losses) {
    it(`keeps the results of a case cut mid-run (one shell per case): ${how}`, async function () {
      const { device: d, target } = await device(own);
      const hello = (await target.facts()).hello;
      assert.equal(hello.backend, backend.probeBackend);
      const seen: OpResult[] = [];
      const error = await target
        .exec('open r0\nset_name r0 "before"\npressure 4 5\nclose r0\n', (r) => {
          seen.push(r);
          if (r.op === 'set_name') setTimeout(() => lose(d), 100);
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(error instanceof AdbDeviceVanishedError, String(error));
      assert.ok(error instanceof DeviceVanishedError);
      assert.deepEqual(error.partial.map((r) => r.op), ['open', 'set_name']);
      assert.deepEqual(seen.map((r) => r.op), ['open', 'set_name']);
      assert.match(error.message, /vanished mid-run/);
      assert.match(error.message, new RegExp(d.daemon.serial.replace(/\./g, '\\.')));
    });

    it(`keeps the partial results of an agent-mode case: ${how}`, async function () {
      const { device: d, target } = await device(own, { mode: 'agent' });
      await target.facts();
      const error = await target
        .exec('open r0\nset_name r0 "a"\npressure 4 5\nclose r0\n', (r) => {
          if (r.op === 'set_name') setTimeout(() => lose(d), 100);
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(error instanceof AdbDeviceVanishedError, String(error));
      assert.deepEqual(error.partial.map((r) => r.op), ['open', 'set_name']);
    });

    it(`a device lost between cases stops there; the other device finishes its share; results so far are kept: ${how}`, async function () {
      const a = await device(false);
      const b = await device(own);
      await Promise.all([a.target.facts(), b.target.facts()]);
      let bDone = 0;
      // Enough cases that some are left when b is lost after its second, however unevenly a busy
      // machine shares the queue (with 10, a slow guest's b once finished its second case last
      // and never met the loss).
      const cases = Array.from({ length: 30 }, (_, i) => i);
      const run = await runSharded([a.target, b.target], cases, {
        script: caseScript,
        onOutcome: (o) => {
          if (o.target === b.target.id && o.ok && ++bDone === 2) lose(b.device);
        },
      });
      const bError = run.stopped.get(b.target.id);
      assert.ok(bError instanceof AdbDeviceVanishedError, String(bError));
      assert.ok(bError instanceof DeviceVanishedError);
      assert.match(bError.message, new RegExp(b.device.daemon.serial.replace(/\./g, '\\.')));
      assert.equal(run.stopped.has(a.target.id), false);
      const bOk = run.outcomes.filter((o) => o.target === b.target.id && o.ok).length;
      // A daemon killed in the callback is gone before b's next case; a guest powering off may
      // still let one start.
      if (atOnce) assert.equal(bOk, 2);
      else assert.ok(bOk >= 2);
      // Every case a ran is right: the bytes read back are the case's number.
      for (const o of run.outcomes.filter((x) => x.target === a.target.id)) {
        assert.ok(o.ok, `case ${o.case} on ${o.target}`);
        if (o.ok) assert.deepEqual(o.outcome.results.find((r) => r.op === 'check')?.rle, [[o.case % 256, 4096]]);
      }
      assert.equal(run.outcomes.filter((o) => o.ok).length + run.notRun.length, cases.length - 1); // one case failed with the loss
      if (atOnce) assert.deepEqual(run.notRun, []);
    });
  }

  it('a device that refuses a case\'s shell as it goes away is lost, not a failed command (the server notices a moment later)', async function () {
    const { device: d, target } = await device(false);
    await target.facts();
    // The refusal reaches the target before the adb server drops the device: the target must
    // give the server the moment it gives a cut stream, not conclude "still attached" at once.
    d.daemon.refuseNextOpenThenVanish(300);
    const error = await target.exec(caseScript(1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof AdbDeviceVanishedError, String(error));
    assert.deepEqual(error.partial, []);
  });

  it('a run whose only device is lost: the results that arrived are on disk, the rest recorded as not run', async function () {
    const { device: d, target } = await device(true);
    const prepared = await prepareTargets([target], 'auto');
    if (backend.name === 'vm') assert.equal(prepared[0]?.info.profile, 'c-final');
    const out = suite.tempDir('adb-lost-');
    let n = 0;
    const { report, error } = await runCases(prepared, {
      cases: 12,
      seed: 5,
      length: 8,
      out,
      profile: 'auto',
      shrinkBudget: 0,
      judgeOptions: (t) => judgeOptionsFor(t.id, { quiet: true }),
      onCase: () => {
        if (++n === 3) void d.lose();
      },
    });
    assert.ok(error instanceof DeviceVanishedError, String(error));
    assert.equal(report.cases.length, 12);
    const ran = report.cases.filter((c) => c.notRun !== true);
    assert.ok(ran.length >= 3, JSON.stringify(report.cases.map((c) => c.status)));
    // The cases judged before the loss passed: a real driver, judged under its profile.
    assert.deepEqual(ran.slice(0, 3).map((c) => c.status), ['passed', 'passed', 'passed']);
    assert.ok(report.cases.some((c) => c.notRun === true && /every target was lost/.test(c.reason ?? '')));
    const raw = fs.readFileSync(path.join(out, 'raw.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(new Set(raw.filter((r) => r['target'] === target.id).map((r) => r['case'])).size >= 3, 'the lost device kept its results on disk');
  });
});
