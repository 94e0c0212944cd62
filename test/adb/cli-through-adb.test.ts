/**
 * The CLI as a device-lab user runs it, through the real adb server and adbkit, against the
 * loopback ADB daemon (test infrastructure serving this machine's shell): exec, run and conform
 * with --target adb:SERIAL, and --target adb:all over two devices. Then conform and run through
 * adb to a vm guest, where the probe meets the real driver.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adbBackends } from '../support/adb-backends.js';
import { useAdbSuite } from '../support/adb-suite.js';
import { exitWithin, fileLines, startCli, waitFor } from '../support/cli-process.js';
import type { LoopbackAdbd } from '../support/loopback-adbd/index.js';

/** Runs the CLI with the private adb server's port in its environment (bounded: killed after 150 s). */
async function cli(args: string[], port: number, input?: string): Promise<{ code: number; out: string; err: string }> {
  const p = startCli(args, { env: { ANDROID_ADB_SERVER_PORT: String(port) }, input: input ?? '' });
  const { code } = await exitWithin(p, 150_000);
  return { code, out: p.out(), err: p.err() };
}

describe('CLI through adb (real adb server, loopback devices)', function () {
  this.timeout(240_000);
  const host = adbBackends().find((b) => b.name === 'host');
  assert.ok(host !== undefined);
  // One --device-dir names the probe folder on every device, so both loopback devices serve the same folder.
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-adb-dev-'));
  const suite = useAdbSuite(host, { suiteDevices: [{ abis: ['x86_64'], scratchDir: shared }, { abis: ['x86_64'], scratchDir: shared }] });
  // The suite's two daemons and the private server's port, once `before` has run.
  const daemons: LoopbackAdbd[] = [];
  let port = 0;
  before(() => {
    daemons.push(...suite.suiteDevices.map((d) => d.daemon));
    port = suite.port;
  });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-adb-'));
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(shared, { recursive: true, force: true });
  });

  it('exec --target adb:SERIAL: hello, then the results of the probe pushed to the device', async () => {
    const d = daemons[0] as LoopbackAdbd;
    const r = await cli(['exec', '--target', `adb:${d.serial}`, '--device-dir', d.scratchDir, '-'], port, 'open r0\ntruncate r0 8192\nmmap m0 r0 8192 3 shared 0\nfill m0 0 8192 0x33\ncheck m0 4096 4096\npin r0 0 0\n');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok('hello' in (lines[0] as object));
    assert.deepEqual(lines[5], { i: 5, op: 'check', ret: 0, rle: [[0x33, 4096]] });
    assert.deepEqual(lines[6], { i: 6, op: 'pin', errno: 'ENOTTY' });
  });

  it('run --target adb:all: cases sharded over both devices, one report with both', async () => {
    const out = path.join(tmp, 'run');
    const r = await cli(['run', '--target', 'adb:all', '--device-dir', (daemons[0] as LoopbackAdbd).scratchDir, '--cases', '12', '--out', out], port);
    const rows = fs.existsSync(path.join(out, 'results.jsonl')) ? fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8') : '';
    assert.equal(r.code, 0, `${r.out}${r.err}\n${rows.split('\n').filter((l) => !l.includes('"passed"')).join('\n')}`);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as { targets: { id: string }[]; cases: { target: string; status: string }[] };
    assert.equal(report.targets.length, 2);
    assert.equal(report.cases.length, 12);
    assert.equal(new Set(report.cases.map((c) => c.target)).size, 2);
    assert.ok(report.cases.every((c) => c.status === 'passed'));
  });

  it('a divergence (wrong profile on purpose) carries logcat and dmesg, or why they could not be read, in the report and the repro', async () => {
    const d = daemons[0] as LoopbackAdbd;
    const out = path.join(tmp, 'diverge');
    const r = await cli(['run', '--target', `adb:${d.serial}`, '--device-dir', d.scratchDir, '--profile', 'c-final', '--cases', '2', '--shrink-budget', '5', '--out', out], port);
    assert.equal(r.code, 1, r.out + r.err);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as { cases: { status: string; logs?: { logcat?: string; dmesg?: string }; repro?: { dir: string } }[] };
    const diverged = report.cases.filter((c) => c.status === 'diverged');
    assert.ok(diverged.length > 0);
    for (const c of diverged) {
      assert.equal(typeof c.logs?.logcat, 'string');
      assert.equal(typeof c.logs?.dmesg, 'string');
      assert.ok(fs.existsSync(path.join(c.repro?.dir ?? '', 'dmesg.txt')));
    }
  });

  it('conform --target adb:SERIAL --agent: every scenario reported through the probe agent', async () => {
    const d = daemons[1] as LoopbackAdbd;
    const out = path.join(tmp, 'conform');
    const r = await cli(['conform', '--target', `adb:${d.serial}`, '--device-dir', d.scratchDir, '--agent', '--out', out], port);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /scenarios x 1 target\(s\)/);
    assert.ok(fs.existsSync(path.join(out, 'junit.xml')));
  });
});

/**
 * The same CLI through adb to a device with the real driver: the loopback daemon serving a vm
 * guest (Debian 11's 5.10 and its ashmem_linux.ko) whose shells start as the shell user on a
 * debuggable image, as a userdebug phone's do. `--try-root` restarts adbd as root, the profile is
 * found by fingerprint, and the conformance suite and generated cases meet the driver itself.
 */
describe('CLI through adb to a vm guest (real adb server, the real ashmem driver)', function () {
  this.timeout(300_000);
  const backend = adbBackends().find((b) => b.name === 'vm');
  assert.ok(backend !== undefined);
  const suite = useAdbSuite(backend, { suiteDevices: [{ abis: ['x86_64', 'x86'], root: 'restart', shellUid: 2000 }] });
  // The suite device's serial and the private server's port, once `before` has run.
  let serial = '';
  let port = 0;
  before(() => {
    serial = suite.suiteDevice.daemon.serial;
    port = suite.port;
  });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-adb-vm-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  interface Report {
    targets: { id: string; profile: string; profileReason: string; facts: { hello: { backend: string; uid: number }; android?: { root: boolean } } }[];
    cases: { id: string; status: string; reason?: string }[];
  }
  const report = (dir: string): Report => JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as Report;

  it('conform --target adb:SERIAL --agent --try-root: every scenario passes on the driver, as root, profile c-final by fingerprint', async () => {
    const out = path.join(tmp, 'conform');
    const r = await cli(['conform', '--target', `adb:${serial}`, '--agent', '--try-root', '--out', out], port);
    const rep = report(out);
    assert.deepEqual(rep.cases.filter((c) => c.status !== 'passed' && c.status !== 'skipped').map((c) => `${c.id}: ${c.status} ${c.reason ?? ''}`), [], r.err.slice(-2000));
    assert.equal(r.code, 0, r.out + r.err.slice(-2000));
    // Only scenarios of other profiles are skipped: none for want of /dev/ashmem or root.
    assert.deepEqual(rep.cases.filter((c) => c.status === 'skipped' && !/not applicable to profile/.test(c.reason ?? '')).map((c) => `${c.id}: ${c.reason ?? ''}`), []);
    assert.ok(rep.cases.filter((c) => c.status === 'passed').length >= 100);
    const t = rep.targets[0];
    assert.ok(t !== undefined);
    assert.equal(t.profile, 'c-final', t.profileReason);
    assert.match(t.profileReason, /probe backend ashmem/);
    assert.equal(t.facts.hello.backend, 'ashmem');
    // The shells started as uid 2000: root came from adb root, through the restart.
    assert.equal(t.facts.hello.uid, 0);
    assert.equal(t.facts.android?.root, true);
  });

  it('run --target adb:SERIAL: generated cases (fixed seed) all consistent with the driver', async () => {
    const out = path.join(tmp, 'run');
    const r = await cli(['run', '--target', `adb:${serial}`, '--agent', '--cases', '40', '--seed', '11', '--out', out], port);
    assert.equal(r.code, 0, r.out + r.err.slice(-2000));
    const rep = report(out);
    assert.equal(rep.cases.length, 40);
    assert.deepEqual(rep.cases.filter((c) => c.status !== 'passed').map((c) => `${c.id}: ${c.status} ${c.reason ?? ''}`), []);
    assert.equal(rep.targets[0]?.profile, 'c-final');
  });

  it('run --target adb:all over two guests, one powered off mid-run: the other runs every case left, the lost one is reported, exit 2', async () => {
    const victim = await suite.connectedDevice({ abis: ['x86_64', 'x86'], own: true });
    const out = path.join(tmp, 'lost');
    const cases = 30;
    const p = startCli(['run', '--target', 'adb:all', '--adb-server', `127.0.0.1:${port}`, '--quiet', '--cases', String(cases), '--length', '10', '--out', out]);
    const id = `adb:${victim.daemon.serial}`;
    await waitFor(() => fileLines(path.join(out, 'results.jsonl')).filter((l) => l.includes(`"target":"${id}"`)).length >= 3, 120_000, `3 cases on ${id}`);
    await victim.lose();
    const { code } = await exitWithin(p, 180_000);
    assert.equal(code, 2, p.out() + p.err());
    const rep = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as {
      cases: { id: string; target: string; status: string; reason?: string }[];
      lost?: { id: string; error: string; casesDone: number }[];
    };
    assert.equal(rep.cases.length, cases);
    assert.equal(new Set(rep.cases.map((c) => c.id)).size, cases);
    // Every case judged on a driver (a divergence would be the model's finding, with its repro).
    assert.deepEqual(rep.cases.filter((c) => c.status !== 'passed' && c.status !== 'diverged').map((c) => `${c.id} on ${c.target}: ${c.status} ${c.reason ?? ''}`), []);
    assert.deepEqual((rep.lost ?? []).map((l) => [l.id, l.error]), [[id, 'AdbDeviceVanishedError']]);
    assert.ok((rep.lost?.[0]?.casesDone ?? 0) >= 3);
    // What the lost guest delivered is on disk.
    assert.ok(fileLines(path.join(out, 'raw.jsonl')).filter((l) => l.includes(`"target":"${id}"`)).length >= 3);
  });
});
