/**
 * The loopback ADB daemon (test infrastructure) against the REAL adb 29 client and server, and
 * adbkit: if these pass, the adb target's tests run over a faithful device side. Run for each
 * device it serves (test/support/adb-backends.ts): this machine's shell, and a vm guest whose
 * shell, files and loopback TCP ports are reached through its control shell. The device is
 * checked around adb (sh here, the guest's control shell there).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { freeLocalPort } from '../../harness/targets/adb/forward-service.js';
import { readAll } from '../../harness/targets/adb/shell-service.js';
import { adbBackends, type BackendDevice } from '../support/adb-backends.js';
import { TMPDIR_PROPERTY, type LoopbackAdbd } from '../support/loopback-adbd/index.js';
import { useAdbSuite } from '../support/adb-suite.js';
import { ADB_BIN } from '../support/private-adb-server.js';

/** Runs the adb CLI against the private server (bounded). */
function adb(port: number, args: readonly string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(ADB_BIN, ['-P', String(port), ...args], { timeout: 20_000, encoding: 'utf8', maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ stdout, stderr, code });
    });
  });
}

for (const backend of adbBackends()) describe(`loopback ADB daemon with the real adb server, serving ${backend.title}`, function () {
  this.timeout(60_000);
  const suite = useAdbSuite(backend, { suiteDevices: [{ properties: { 'ro.product.model': 'Loopback 7', 'ro.build.version.sdk': '29' }, abis: ['x86_64', 'x86'] }] });
  // The suite's device, its daemon and serial, and the private server's port, once `before` has run.
  let device: BackendDevice;
  let daemon: LoopbackAdbd;
  let serial = '';
  let port = 0;
  before(() => {
    device = suite.suiteDevice;
    daemon = device.daemon;
    serial = daemon.serial;
    port = suite.port;
  });

  it('is listed with the product, model and device of its banner', async function () {
    const { stdout } = await adb(port, ['devices', '-l']);
    const line = stdout.split('\n').find((l) => l.startsWith(serial));
    assert.ok(line !== undefined, stdout);
    assert.match(line, /\bdevice\b/);
    assert.match(line, /product:loopback/);
    assert.match(line, /model:Loopback_7/); // adb replaces spaces in the model
    assert.match(line, /device:loopback/);
  });

  it('runs `adb shell` with stdout and stderr merged, in its folder, with getprop', async function () {
    const r = await adb(port, ['-s', serial, 'shell', 'echo out; echo err >&2; pwd; getprop ro.product.cpu.abilist; getprop ro.build.version.sdk; getprop no.such.prop fallback']);
    assert.equal(r.code, 0);
    // This machine's shells start in the scratch folder; the guest's in / as adbd's do.
    const cwd = backend.name === 'host' ? daemon.scratchDir : '/';
    assert.deepEqual(r.stdout.split('\n'), ['out', 'err', cwd, 'x86_64,x86', '29', 'fallback', '']);
  });

  it('lists every property with bare getprop, in the Android format', async function () {
    const r = await adb(port, ['-s', serial, 'shell', 'getprop']);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.includes(`[${TMPDIR_PROPERTY}]: [${daemon.scratchDir}]`), r.stdout);
    assert.ok(lines.includes('[ro.product.model]: [Loopback 7]'));
    assert.ok(lines.every((l) => /^\[[^\]]+\]: \[.*\]$/.test(l)), r.stdout);
  });

  it('sends only stdout through exec-out (exec:)', async function () {
    const r = await adb(port, ['-s', serial, 'exec-out', 'printf "a\\0b"; echo hidden >&2']);
    assert.deepEqual(Buffer.from(r.stdout, 'latin1'), Buffer.from('a\0b', 'latin1'));
  });

  it('pushes and pulls byte-exact through sync, keeping the mode, creating parent folders', async function () {
    const local = fs.mkdtempSync(path.join(os.tmpdir(), 'lad-test-'));
    try {
      const data = randomBytes(700_000); // > 10 DATA chunks and several WRTEs per chunk window
      fs.writeFileSync(path.join(local, 'blob'), data);
      fs.chmodSync(path.join(local, 'blob'), 0o755);
      const remote = `${daemon.scratchDir}/nested/dir/blob`;
      const push = await adb(port, ['-s', serial, 'push', path.join(local, 'blob'), remote]);
      assert.equal(push.code, 0, push.stderr);
      const onDevice = await device.sh(`sha256sum ${remote}; stat -c %a ${remote}`);
      assert.deepEqual(onDevice.output.split('\n').map((l) => l.split(' ')[0]), [createHash('sha256').update(data).digest('hex'), '755', '']);
      const pull = await adb(port, ['-s', serial, 'pull', remote, path.join(local, 'back')]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.deepEqual(fs.readFileSync(path.join(local, 'back')), data);
    } finally {
      fs.rmSync(local, { recursive: true, force: true });
    }
  });

  it('refuses sync writes outside its scratch folder (this machine)', async function () {
    if (backend.name === 'vm') {
      // The guest is ours to write anywhere; what it cannot write fails with the reason.
      const r = await adb(port, ['-s', serial, 'push', '/etc/hostname', '/proc/lad-outside/x']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr + r.stdout, /can't create directory '\/proc\/lad-outside'/);
      return;
    }
    const target = path.join(os.tmpdir(), `lad-outside-${process.pid}`);
    const r = await adb(port, ['-s', serial, 'push', '/etc/hostname', target]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /confined/);
    assert.equal(fs.existsSync(target), false);
  });

  /** An echo server listening on the DEVICE's loopback: here a Node server, in the guest busybox nc. */
  async function deviceEcho(): Promise<{ port: number; close: () => Promise<void> }> {
    if (backend.name === 'host') {
      const echo = net.createServer((s) => s.pipe(s));
      await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
      const address = echo.address();
      assert.ok(address !== null && typeof address !== 'string');
      return { port: address.port, close: async () => void echo.close() };
    }
    const port = 7777;
    const started = await device.sh(`nc -ll -p ${port} -e /bin/cat </dev/null >/dev/null 2>&1 & echo $!; for i in 1 2 3 4 5 6 7 8 9 10; do grep -qi ':1E61 ' /proc/net/tcp /proc/net/tcp6 && break; sleep 0.2; done`);
    const pid = started.output.trim().split('\n')[0] ?? '';
    assert.match(pid, /^\d+$/, started.output);
    return { port, close: async () => void (await device.sh(`kill ${pid}`)) };
  }

  it('relays tcp: for adb forward, both ways, to a port on the device', async function () {
    const echo = await deviceEcho();
    const local = await freeLocalPort();
    const before = daemon.openCounts().tcp;
    try {
      const f = await adb(port, ['-s', serial, 'forward', `tcp:${local}`, `tcp:${echo.port}`]);
      assert.equal(f.code, 0, f.stderr);
      const payload = randomBytes(600_000);
      const echoed = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let n = 0;
        const s = net.connect({ host: '127.0.0.1', port: local }, () => s.write(payload));
        s.on('data', (c: Buffer) => {
          chunks.push(c);
          n += c.length;
          if (n >= payload.length) {
            s.destroy();
            resolve(Buffer.concat(chunks));
          }
        });
        s.on('error', reject);
        setTimeout(() => reject(new Error(`echo through forward: ${n} of ${payload.length} bytes after 20 s`)), 20_000).unref();
      });
      assert.deepEqual(echoed, payload);
      assert.equal(daemon.openCounts().tcp, before + 1);
    } finally {
      await adb(port, ['-s', serial, 'forward', '--remove', `tcp:${local}`]);
      await echo.close();
    }
  });

  it('refuses tcp: to a device port nothing listens on, as adbd does', async function () {
    const before = daemon.openCounts().tcp;
    // 1 is a privileged port nothing here serves, on this machine or in the guest.
    await assert.rejects(suite.server.client.getDevice(serial).openTcp(1));
    assert.equal(daemon.openCounts().tcp, before + 1);
  });

  it('streams large output with flow control (adbkit shell)', async function () {
    const stream = (await suite.server.client.getDevice(serial).shell('head -c 3000000 /dev/zero')) as Duplex;
    const text = await readAll(stream);
    assert.equal(text.length, 3_000_000);
  });

  it('feeds host bytes to an interactive shell: (no command) on its stdin', async function () {
    const stream = (await suite.server.client.getDevice(serial).shell('')) as Duplex;
    stream.write('echo from-stdin $((6*7))\nexit\n');
    const text = await readAll(stream);
    assert.equal(text.trim(), 'from-stdin 42');
  });

  it('answers root: as its configuration says (already root when the shell is root)', async function () {
    // The host daemon here is a production build; the guest's a debuggable one whose shells
    // already run as root.
    const r = await adb(port, ['-s', serial, 'root']);
    const uid = (await device.sh('id -u')).output.trim();
    const expected = uid === '0' ? /already running as root/ : /cannot run as root in production builds/;
    assert.match(r.stdout + r.stderr, expected);
  });

  it('counts the OPENs it served, by service', function () {
    const c = daemon.openCounts();
    assert.ok(c.shell >= 4, JSON.stringify(c));
    assert.ok(c.sync >= 2, JSON.stringify(c));
    assert.ok(c.exec >= 1, JSON.stringify(c));
    assert.equal(daemon.totalOpens(), c.shell + c.exec + c.sync + c.tcp + c.other);
  });
});
