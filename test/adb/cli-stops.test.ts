/**
 * The CLI over adb when a run is cut short, through the real adb server and loopback devices:
 * one of two devices killed mid-run (the other goes on with its share, every report names the
 * lost device and when, exit 2); an interrupt (exit 130, the device folder left clean); and the
 * repro folders of a device run, replayed from their README through the same adb server.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Report } from '../../harness/report/types.js';
import { byTag, parseXml } from '../report/xml.js';
import { exitWithin, fileLines, startCli, waitFor } from '../support/cli-process.js';
import { adbBackends } from '../support/adb-backends.js';
import { useAdbSuite } from '../support/adb-suite.js';
import type { LoopbackAdbd } from '../support/loopback-adbd/index.js';
import { cliOnPath, readReadme, replayFolder, reproFolders } from '../support/repro-folders.js';

/** Files the harness leaves in a device folder while it runs (the probe, scratch and stderr files). */
function harnessFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f === 'ashmem-probe' || f.startsWith('.ashmem-harness-')) : [];
}

describe('CLI over adb: a device lost, an interrupt, repro folders (real adb server, loopback devices)', function () {
  this.timeout(300_000);
  const host = adbBackends().find((b) => b.name === 'host');
  assert.ok(host !== undefined);
  const suite = useAdbSuite(host);
  let port = 0;
  before(() => {
    port = suite.port;
  });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-stops-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** A loopback device on this machine, connected; closed after the test. */
  async function device(scratchDir?: string, abis: string[] = ['x86_64']): Promise<LoopbackAdbd> {
    return (await suite.connectedDevice({ abis, ...(scratchDir !== undefined ? { scratchDir } : {}) })).daemon;
  }

  it('run --target adb:all, one device killed mid-run: the other runs every case left, the reports name the lost device and when, exit 2', async () => {
    const shared = fs.mkdtempSync(path.join(tmp, 'dev-'));
    const a = await device(shared);
    const b = await device(shared);
    const out = path.join(tmp, 'lost');
    const cases = 60;
    const p = startCli(['run', '--target', 'adb:all', '--adb-server', `127.0.0.1:${port}`, '--device-dir', shared, '--quiet', '--cases', String(cases), '--length', '10', '--out', out]);
    const victim = `adb:${b.serial}`;
    await waitFor(() => fileLines(path.join(out, 'results.jsonl')).filter((l) => l.includes(`"target":"${victim}"`)).length >= 3, 120_000, `3 cases on ${victim}`);
    const killedAt = new Date().toISOString();
    b.kill();
    const { code } = await exitWithin(p, 180_000);
    assert.equal(code, 2, p.out() + p.err());
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as Report;
    // Every case ran once and passed: the survivor took the lost device's share, its case in flight included.
    assert.equal(report.cases.length, cases);
    assert.deepEqual(report.cases.filter((c) => c.status !== 'passed').map((c) => `${c.id} on ${c.target}: ${c.reason ?? ''}`), []);
    assert.equal(new Set(report.cases.map((c) => c.id)).size, cases);
    assert.ok(report.cases.filter((c) => c.target === `adb:${a.serial}`).length > cases / 2);
    assert.equal(report.stopped, undefined);
    const lost = report.lost ?? [];
    assert.deepEqual(lost.map((l) => [l.id, l.error]), [[victim, 'AdbDeviceVanishedError']]);
    assert.ok((lost[0]?.at ?? '') >= killedAt);
    assert.ok((lost[0]?.casesDone ?? 0) >= 3);
    // Said on stderr while it happened and at the end; in the HTML and the JUnit too.
    assert.match(p.err(), new RegExp(`${victim.replace(/\./g, '\\.')} lost at .*AdbDeviceVanishedError.*the other targets go on`));
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    assert.ok(byTag(parseXml(html), 'p', 'lost').length === 1);
    assert.ok(html.includes(`lost at ${lost[0]?.at ?? '?'}`));
    const junit = parseXml(fs.readFileSync(path.join(out, 'junit.xml'), 'utf8'));
    const suite = byTag(junit, 'testsuite').find((s) => s.attrs.name === victim);
    assert.ok(suite !== undefined);
    assert.match(byTag(suite, 'property').find((x) => x.attrs.name === 'lost')?.attrs.value ?? '', new RegExp(`lost at ${lost[0]?.at ?? '?'}`));
    // The survivor cleaned the shared device folder.
    assert.deepEqual(harnessFiles(shared), []);
  });

  it('adb:all with a device that cannot be prepared (no probe for its ABI): it is recorded as lost, the other runs everything, exit 2 (run and conform)', async () => {
    // Each its own scratch folder (its getprop shim says its ABIs); the device folder is the good
    // one's (the odd one fails before it would write there).
    const good = await device();
    const odd = await device(undefined, ['mips']);
    const shared = good.scratchDir;
    const out = path.join(tmp, 'unprepared');
    const p = startCli(['run', '--target', 'adb:all', '--adb-server', `127.0.0.1:${port}`, '--device-dir', shared, '--quiet', '--cases', '8', '--length', '8', '--out', out]);
    const { code } = await exitWithin(p, 120_000);
    assert.equal(code, 2, p.out() + p.err());
    assert.ok(fs.existsSync(path.join(out, 'report.json')), p.out() + p.err());
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as Report;
    assert.deepEqual(report.lost?.map((l) => [l.id, l.error, l.casesDone]), [[`adb:${odd.serial}`, 'ProbeMissingError', 0]]);
    assert.match(report.lost?.[0]?.reason ?? '', /^while being prepared: no probe built for device .*mips/);
    assert.deepEqual(report.cases.map((c) => [c.target, c.status]), Array.from({ length: 8 }, () => [`adb:${good.serial}`, 'passed']));
    assert.match(p.err(), /lost at .*ProbeMissingError.*the other targets go on/);

    const cout = path.join(tmp, 'unprepared-conform');
    const c = startCli(['conform', '--target', 'adb:all', '--adb-server', `127.0.0.1:${port}`, '--device-dir', shared, '--quiet', '--only', '^(1\\.4|2-dup)', '--out', cout]);
    const cr = await exitWithin(c, 120_000);
    assert.equal(cr.code, 2, c.out() + c.err());
    const conform = JSON.parse(fs.readFileSync(path.join(cout, 'report.json'), 'utf8')) as Report;
    const oddCases = conform.cases.filter((x) => x.target === `adb:${odd.serial}`);
    assert.ok(oddCases.length >= 2);
    assert.ok(oddCases.every((x) => x.notRun === true && x.status === 'skipped' && /^not run: adb:.* was lost at .*ProbeMissingError/.test(x.reason ?? '')), JSON.stringify(oddCases[0]));
    assert.equal(conform.cases.filter((x) => x.target === `adb:${good.serial}`).length, oddCases.length);
    assert.deepEqual(conform.stopped, { cause: 'targets-lost', reason: `adb:${odd.serial} lost`, notRun: oddCases.length, total: 2 * oddCases.length });
    // Progress and the summary count the lost device's scenario runs too.
    const total = 2 * oddCases.length;
    assert.ok(c.err().includes(`[${total}/${total}] `), c.err());
    assert.match(c.out(), new RegExp(`^${oddCases.length} scenarios x 2 target\\(s\\)`, 'm'));
  });

  it('run --target adb:SERIAL, SIGINT: exit 130, reports say interrupted, the device folder is left clean', async () => {
    const d = await device();
    const out = path.join(tmp, 'interrupt');
    const p = startCli(['run', '--target', `adb:${d.serial}`, '--adb-server', `127.0.0.1:${port}`, '--device-dir', d.scratchDir, '--quiet', '--cases', '5000', '--length', '10', '--out', out]);
    await waitFor(() => fileLines(path.join(out, 'results.jsonl')).length >= 2, 120_000, 'the first results');
    assert.ok(harnessFiles(d.scratchDir).includes('ashmem-probe'), 'the probe was pushed');
    p.child.kill('SIGINT');
    const { code } = await exitWithin(p, 60_000);
    assert.equal(code, 130, p.out() + p.err());
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as Report;
    assert.equal(report.stopped?.cause, 'interrupted');
    assert.equal(report.stopped?.total, 5000);
    assert.equal(report.cases.length, 5000);
    assert.equal(report.cases.filter((c) => c.notRun === true).length, report.stopped?.notRun);
    assert.deepEqual(harnessFiles(d.scratchDir), []);
  });

  it('repro folders of a device run (busy-device judge options, real device folder, ABI and adb server) replay from their README', async () => {
    const d = await device();
    const out = path.join(tmp, 'repro');
    const r = startCli(['run', '--target', `adb:${d.serial}`, '--adb-server', `127.0.0.1:${port}`, '--device-dir', d.scratchDir, '--profile', 'c-final', '--cases', '2', '--length', '10', '--shrink-budget', '8', '--out', out]);
    const { code } = await exitWithin(r, 120_000);
    assert.equal(code, 1, r.out() + r.err());
    const folders = reproFolders(out);
    assert.ok(folders.length >= 1);
    const bin = cliOnPath();
    try {
      for (const dir of folders) {
        const { commands, text } = readReadme(dir);
        // Without --quiet a device is judged as a busy one: the replay judges it the same way.
        for (const c of commands.filter((x) => x.includes(' judge '))) assert.match(c, /--other-users --contended /);
        assert.ok(commands.some((c) => c.includes(`exec --target adb:${d.serial} --adb-server 127.0.0.1:${port} --device-dir ${d.scratchDir} `)), text);
        assert.ok(commands.some((c) => c.includes(`'-P' '${port}'`) && c.includes('apk-fixtures/probe/build/x86_64/ashmem-probe')), text);
        const { judged, executed } = await replayFolder(dir, bin);
        assert.equal(judged, 2, dir);
        assert.equal(executed, 1, dir);
      }
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});
