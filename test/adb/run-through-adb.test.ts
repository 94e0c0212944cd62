/**
 * The `run` verb's orchestration (harness/check/run.ts) over adb targets end to end: generated
 * cases sharded over two loopback devices through the real adb server, judged against the model;
 * then a device killed mid-run: the run stops with DeviceVanishedError and the results that
 * arrived are on disk.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareTargets, runCases } from '../../harness/check/run.js';
import { judgeOptionsFor } from '../../harness/commands.js';
import { AdbTarget, type AdbServer } from '../../harness/targets/adb/index.js';
import { DeviceVanishedError } from '../../harness/targets/target.js';
import { LoopbackAdbd } from '../support/loopback-adbd/index.js';
import { connectLoopback, requireProbe, startPrivateAdbServer } from '../support/private-adb-server.js';

describe('run over adb targets (two loopback devices, real adb server)', function () {
  this.timeout(180_000);
  let stop: () => Promise<void> = async () => undefined;
  let server: AdbServer;
  const daemons: LoopbackAdbd[] = [];
  const targets: AdbTarget[] = [];
  const outs: string[] = [];

  async function devices(n: number): Promise<AdbTarget[]> {
    const made: AdbTarget[] = [];
    for (let i = 0; i < n; i++) {
      const daemon = new LoopbackAdbd({ abis: ['x86_64'] });
      await daemon.start();
      daemons.push(daemon);
      await connectLoopback(server, daemon);
      const t = new AdbTarget({ server, serial: daemon.serial, deviceDir: daemon.scratchDir, timeouts: { deviceMs: 5000 } });
      targets.push(t);
      made.push(t);
    }
    return made;
  }

  function outDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adb-run-'));
    outs.push(dir);
    return dir;
  }

  function rawLines(dir: string): Record<string, unknown>[] {
    return fs
      .readFileSync(path.join(dir, 'raw.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  before(async function () {
    requireProbe();
    const started = await startPrivateAdbServer();
    stop = started.stop;
    server = started.server;
  });

  afterEach(async function () {
    for (const t of targets.splice(0)) await t.close();
    for (const d of daemons.splice(0)) await d.close();
    for (const o of outs.splice(0)) fs.rmSync(o, { recursive: true, force: true });
  });

  after(async function () {
    await stop();
  });

  it('shards generated cases over both devices, streams raw results, and judges every case', async function () {
    const [a, b] = await devices(2);
    assert.ok(a !== undefined && b !== undefined);
    const prepared = await prepareTargets([a, b], 'auto');
    assert.deepEqual(prepared.map((p) => p.info.id), [a.id, b.id]);
    const out = outDir();
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

  it('stops with DeviceVanishedError when a device dies mid-run, keeping what arrived on disk', async function () {
    const [a, b] = await devices(2);
    assert.ok(a !== undefined && b !== undefined);
    const prepared = await prepareTargets([a, b], 'auto');
    const victim = daemons[1];
    assert.ok(victim !== undefined);
    const out = outDir();
    let bCases = 0;
    const { report, error } = await runCases(prepared, {
      cases: 40,
      seed: 3,
      length: 10,
      out,
      profile: 'auto',
      shrinkBudget: 0,
      judgeOptions: (t) => judgeOptionsFor(t.id, { quiet: true }),
      onCase: (c) => {
        if (c.target === b.id && ++bCases === 3) victim.kill();
      },
    });
    assert.ok(error instanceof DeviceVanishedError, String(error));
    assert.match(error.message, new RegExp(victim.serial.replace(/\./g, '\\.')));
    assert.ok(report.cases.length < 40);
    const raw = rawLines(out);
    const bRaw = raw.filter((r) => r['target'] === b.id);
    assert.ok(new Set(bRaw.map((r) => r['case'])).size >= 3, 'the vanished device kept its results on disk');
  });
});
