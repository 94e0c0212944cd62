/**
 * `npx wdio run wdio.conf.ts` with no device: one clear skip line, a quick exit, no Appium.
 * The run talks to a fresh adb server on a private port (so no device or loopback daemon that
 * another test connected to the default server can leak in); the server is killed afterwards.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDevices, parseAdbDevices } from '../../specs/support/devices.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SKIP_LINE = /^no device visible to `adb devices`: the list is empty; skipping the WebdriverIO specs — connect one, or set ANDROID_SERIAL or WDIO_AVD$/;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr !== null && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

interface Ran { code: number; stdout: string; stderr: string; ms: number }

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Ran> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: ROOT, env, timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

describe('wdio run without a device', function () {
  this.timeout(90_000);
  let port: number;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    port = await freePort();
    env = { ...process.env, ANDROID_ADB_SERVER_PORT: String(port), CI: 'true' };
    delete env['ANDROID_SERIAL'];
    delete env['WDIO_AVD'];
    delete env['WDIO_REQUIRE_DEVICE'];
  });

  after(async () => {
    await run('adb', ['-P', String(port), 'kill-server'], process.env, 10_000);
  });

  it('prints one skip line and exits 0 well under 20 s, without starting Appium', async () => {
    const r = await run('npx', ['wdio', 'run', 'wdio.conf.ts'], env, 60_000);
    const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(lines.length, 1, `expected exactly one line, got:\n${r.stdout}`);
    assert.match(lines[0] ?? '', SKIP_LINE);
    assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
    assert.doesNotMatch(r.stdout + r.stderr, /appium|Could not find a connected Android device/i);
  });

  it('fails (exit 1) with the same line when WDIO_REQUIRE_DEVICE=1', async () => {
    const r = await run('npx', ['wdio', 'run', 'wdio.conf.ts'], { ...env, WDIO_REQUIRE_DEVICE: '1' }, 60_000);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^no device visible to `adb devices`: the list is empty; failing \(WDIO_REQUIRE_DEVICE=1\)/m);
    assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
  });
});

describe('device check (specs/support/devices.ts)', () => {
  it('parses adb devices output, with states', () => {
    const text = 'List of devices attached\nemulator-5554\tdevice\n0123456789ABCDEF\tunauthorized\n127.0.0.1:5555\toffline\n\n';
    assert.deepEqual(parseAdbDevices(text), [
      { serial: 'emulator-5554', state: 'device' },
      { serial: '0123456789ABCDEF', state: 'unauthorized' },
      { serial: '127.0.0.1:5555', state: 'offline' },
    ]);
    assert.deepEqual(parseAdbDevices('* daemon not running; starting now at tcp:5037\n* daemon started successfully\nList of devices attached\n\n'), []);
  });

  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  /** A stand-in adb that prints a fixed device list (or hangs). */
  function fakeAdb(body: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-adb-'));
    dirs.push(dir);
    const file = path.join(dir, 'adb');
    fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return file;
  }

  it('says why nothing is usable: not ready, wrong serial, no adb, adb hanging', async () => {
    const adb = fakeAdb('printf "List of devices attached\\nemulator-5554\\toffline\\nR58M\\tdevice\\n"');
    const all = await checkDevices({ adb });
    assert.deepEqual(all.usable, [{ serial: 'R58M', state: 'device' }]);
    assert.equal(all.problem, undefined);
    assert.equal((await checkDevices({ adb, serial: 'emulator-5554' })).problem, 'none is ready: emulator-5554 offline');
    assert.equal((await checkDevices({ adb, serial: 'nope' })).problem, 'ANDROID_SERIAL=nope is not among emulator-5554, R58M');
    assert.equal((await checkDevices({ adb: '/nonexistent/adb' })).problem, '/nonexistent/adb is not installed');
    const slow = fakeAdb('exec sleep 30');
    const t0 = Date.now();
    assert.match((await checkDevices({ adb: slow, timeoutMs: 500 })).problem ?? '', /did not answer within 500 ms/);
    assert.ok(Date.now() - t0 < 5000);
  });
});
