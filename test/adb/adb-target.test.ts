/**
 * The adb target end to end: adbkit → real adb 29 server → loopback ADB daemon → the real probe
 * (this machine's x86_64 build) on this machine's kernel. Nothing is mocked at the adbkit
 * boundary; round trips are counted on both sides (the target's counter and the daemon's OPENs).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { OpResult } from '../../harness/ops/result.js';
import {
  AdbCommandError,
  AdbDeviceNotFoundError,
  AdbTarget,
  openAdbTargets,
  probeBinaryPath,
  rootGate,
  skipReason,
  type AdbServer,
  type AdbTargetOptions,
} from '../../harness/targets/adb/index.js';
import { ProbeMissingError, TargetError, TargetTimeoutError } from '../../harness/targets/target.js';
import { LoopbackAdbd, TMPDIR_PROPERTY } from '../support/loopback-adbd/index.js';
import { ADB_BIN, connectLoopback, requireProbe, startPrivateAdbServer } from '../support/private-adb-server.js';
import { skipUnlessNative } from '../probe/support.js';

const HOST_PROBE = probeBinaryPath('x86_64');

/** A deterministic script whose results do not depend on the backend's timing. */
const SCRIPT = [
  '# adb target test: every line has one well-defined answer on memfd',
  'open r0',
  'mmap m0 r0 8192 3 shared 0',
  'fill m0 0 4096 0xA5',
  'get_name r0',
  'bogus op',
  "set_name r0 \"it's \\\"quoted\\\" $HOME `x` %s ü\"",
  'close r0',
  '',
].join('\n');

/** The probe run directly on this machine: what the target must reproduce exactly. */
function localResults(script: string): OpResult[] {
  const out = execFileSync(HOST_PROBE, [], { input: script, encoding: 'utf8', timeout: 20_000 });
  return out
    .split('\n')
    .filter((l) => l.startsWith('{"i"'))
    .map((l) => JSON.parse(l) as OpResult);
}

describe('adb target through the real adb server and the loopback daemon', function () {
  this.timeout(90_000);
  let stop: () => Promise<void> = async () => undefined;
  let server: AdbServer;
  let port = 0;
  let daemon: LoopbackAdbd;
  let serial = '';
  const targets: AdbTarget[] = [];

  function target(options: Partial<AdbTargetOptions> = {}): AdbTarget {
    const t = new AdbTarget({ server, serial, deviceDir: daemon.scratchDir, ...options });
    targets.push(t);
    return t;
  }

  before(async function () {
    requireProbe();
    const started = await startPrivateAdbServer();
    stop = started.stop;
    server = started.server;
    port = started.port;
    daemon = new LoopbackAdbd({
      abis: ['x86_64', 'x86'],
      properties: { 'ro.build.version.sdk': '30', 'ro.build.version.release': '11', 'sys.use_memfd': 'true', 'ro.product.model': 'Loopback' },
    });
    await daemon.start();
    serial = await connectLoopback(server, daemon);
  });

  afterEach(async function () {
    for (const t of targets.splice(0)) await t.close();
  });

  after(async function () {
    await daemon?.close();
    await stop();
  });

  it('reads device facts from the property table and this machine, and the probe hello', async function () {
    const t = target();
    const facts = await t.facts();
    const android = facts.android;
    assert.ok(android !== undefined);
    assert.deepEqual(android.abis, ['x86_64', 'x86']);
    assert.equal(android.sdk, 30);
    assert.equal(android.release, '11');
    assert.equal(android.useMemfd, 'true');
    assert.equal(android.bootId, fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    assert.equal(android.root, process.getuid?.() === 0);
    const nodes = fs.readdirSync('/dev').filter((n) => n.startsWith('ashmem')).map((n) => `/dev/${n}`);
    assert.deepEqual([...android.ashmemNodes].sort(), nodes.sort());
    const device = await t.deviceFacts();
    assert.equal(device.kernel, os.release());
    assert.equal(device.model, 'Loopback');
    assert.equal(device.pageSize, facts.hello.page_size);
    assert.equal(facts.hello.abi, 'x86_64');
    assert.equal(facts.hello.bits, 64);
    assert.equal(facts.hello.kernel, os.release());
    assert.equal(await t.abi(), 'x86_64');
  });

  it('pushes the probe with mode 755 and runs a case in ONE round trip, exactly as the probe does locally', async function () {
    const t = target();
    await t.facts();
    const probeOnDevice = path.join(daemon.scratchDir, 'ashmem-probe');
    assert.equal(fs.statSync(probeOnDevice).mode & 0o777, 0o755);
    const before = t.roundTrips();
    const opensBefore = daemon.totalOpens();
    const streamed: OpResult[] = [];
    const outcome = await t.exec(SCRIPT, (r) => streamed.push(r));
    assert.equal(t.roundTrips().device - before.device, 1);
    assert.equal(daemon.totalOpens() - opensBefore, 1, daemon.openLog.slice(-3).join('\n'));
    const expected = localResults(SCRIPT);
    assert.ok(expected.length >= 6);
    assert.deepEqual(outcome.results, expected);
    assert.deepEqual(streamed, expected);
    assert.deepEqual(outcome.exit, { code: 0, signal: null });
    assert.equal(outcome.hello.backend, 'memfd');
  });

  it('multiplexes concurrent cases on one device connection (8 streams at once)', async function () {
    const t = target();
    await t.facts();
    const scripts = Array.from({ length: 8 }, (_, n) => `open r0\ntruncate r0 65536\nmmap m0 r0 65536 3 shared 0\nfill m0 0 65536 ${n + 1}\ncheck m0 0 65536\n`);
    const outcomes = await Promise.all(scripts.map((s) => t.exec(s)));
    assert.deepEqual(
      outcomes.map((o) => o.results.find((r) => r.op === 'check')?.rle),
      scripts.map((_, n) => [[n + 1, 65536]]),
    );
  });

  it('pushes a script too long for one command first (2 round trips) and still gets every result', async function () {
    const t = target({ maxInlineCommandBytes: 400 });
    await t.facts();
    const long = `${SCRIPT}${'get_size r1\n'.repeat(60)}`.replace('open r0', 'open r0\nopen r1');
    const before = t.roundTrips();
    const outcome = await t.exec(long);
    const after = t.roundTrips();
    assert.equal(after.device - before.device, 2);
    assert.equal(after.sync - before.sync, 1);
    assert.deepEqual(outcome.results, localResults(long));
    assert.deepEqual(fs.readdirSync(daemon.scratchDir).filter((f) => f.endsWith('.script')), [], 'the pushed script is removed');
  });

  it('runs many cases over one agent connection (adbkit openTcp): no device round trip per case', async function () {
    const t = target({ mode: 'agent' });
    await t.facts();
    const before = t.roundTrips();
    const opensBefore = daemon.totalOpens();
    for (let i = 0; i < 5; i++) {
      const outcome = await t.exec(SCRIPT);
      assert.deepEqual(outcome.results, localResults(SCRIPT));
      assert.deepEqual(outcome.exit, { code: 0, signal: null });
    }
    assert.equal(t.roundTrips().device - before.device, 0);
    assert.equal(daemon.totalOpens() - opensBefore, 0);
  });

  it('runs the agent through adb forward, and removes the forward on close', async function () {
    const t = target({ mode: 'agent', agentTransport: 'forward' });
    await t.facts();
    const outcome = await t.exec(SCRIPT);
    assert.deepEqual(outcome.results, localResults(SCRIPT));
    const forwards = execFileSync(ADB_BIN, ['-P', String(port), 'forward', '--list'], { encoding: 'utf8', timeout: 10_000 });
    assert.match(forwards, new RegExp(`${serial.replace(/\./g, '\\.')} tcp:\\d+ tcp:\\d+`));
    await t.close();
    const after = execFileSync(ADB_BIN, ['-P', String(port), 'forward', '--list'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(after.trim(), '');
  });

  it('removes the pushed probe on close, and keeps it with keep', async function () {
    const probeOnDevice = path.join(daemon.scratchDir, 'ashmem-probe');
    const kept = target({ keep: true });
    await kept.facts();
    await kept.close();
    assert.equal(fs.existsSync(probeOnDevice), true);
    const t = target();
    await t.facts();
    await t.close();
    assert.equal(fs.existsSync(probeOnDevice), false);
    assert.deepEqual(fs.readdirSync(daemon.scratchDir).filter((f) => f.startsWith('.ashmem-harness-')), []);
  });

  it('makes the probe executable in the hello round trip even where push ignores the mode, from any shell folder', async function () {
    const strict = new LoopbackAdbd({ abis: ['x86_64'], syncIgnoresMode: true });
    await strict.start();
    try {
      await connectLoopback(server, strict);
      // A device folder other than the shell's working folder, as /data/local/tmp is on Android.
      const dir = path.join(strict.scratchDir, 'probe-dir');
      const t = new AdbTarget({ server, serial: strict.serial, deviceDir: dir });
      targets.push(t);
      const facts = await t.facts();
      assert.equal(facts.hello.abi, 'x86_64');
      assert.equal(fs.statSync(path.join(dir, 'ashmem-probe')).mode & 0o777, 0o755);
      await t.close();
    } finally {
      await strict.close();
    }
  });

  it('chooses a forced 32-bit ABI from the device list (compat ioctls)', async function () {
    const x86 = probeBinaryPath('x86');
    assert.ok(fs.existsSync(x86), `the x86 probe is not built (${x86})`);
    // The loopback device runs the probe through its shell, so this kernel must execute it.
    skipUnlessNative(this, 'x86', 'the loopback device with the x86 probe');
    const t = target({ abi: 'x86' });
    const facts = await t.facts();
    assert.equal(facts.hello.abi, 'x86');
    assert.equal(facts.hello.bits, 32);
  });

  it('fails set-up with ProbeMissingError naming scripts/build-probe when no probe fits the ABIs', async function () {
    const t = target({ probeBinary: (abi) => path.join(os.tmpdir(), 'no-such-probe', abi, 'ashmem-probe') });
    await assert.rejects(t.facts(), (e: unknown) => e instanceof ProbeMissingError && /scripts\/build-probe/.test(e.message) && /x86_64/.test(e.message));
  });

  it('fails set-up with a TargetError naming the folder when the push is refused (default /data/local/tmp here)', async function () {
    const t = new AdbTarget({ server, serial });
    targets.push(t);
    assert.equal(t.deviceDir, '/data/local/tmp');
    await assert.rejects(t.facts(), (e: unknown) => e instanceof AdbCommandError && e instanceof TargetError && /\/data\/local\/tmp\/ashmem-probe failed/.test(e.message) && /confined/.test(e.message));
  });

  it('bounds a case by its timeout (TargetTimeoutError), kills it, and the next case runs', async function () {
    const t = target({ timeouts: { caseMs: 400 } });
    await t.facts();
    const started = Date.now();
    await assert.rejects(t.exec('open r0\npressure 4 3\n'), TargetTimeoutError);
    assert.ok(Date.now() - started < 2500);
    const outcome = await t.exec(SCRIPT);
    assert.deepEqual(outcome.results, localResults(SCRIPT));
  });

  it('gates root-only triggers on the probe uid', async function () {
    const t = target();
    const gate = await t.rootGate();
    const root = process.getuid?.() === 0;
    assert.equal(gate.root, root);
    assert.equal(gate.purgeAll.expect, root ? 'purge' : 'EPERM');
    assert.equal(await t.skipReason('open r0\ndrop_caches 2\n'), root ? undefined : gate.dropCaches.run ? undefined : gate.dropCaches.reason);
    const facts = await t.facts();
    const nonRoot = rootGate({ ...facts, hello: { ...facts.hello, uid: 2000 }, android: { ...facts.android!, root: false } });
    assert.deepEqual(nonRoot.purgeAll, { expect: 'EPERM' });
    assert.equal(nonRoot.dropCaches.run, false);
    assert.match(skipReason('open r0\n# drop_caches in a comment only\np1: drop_caches 3\n', nonRoot) ?? '', /needs root.*uid 2000/);
    assert.equal(skipReason('open r0\n# drop_caches\npurge_all r0\n', nonRoot), undefined);
  });

  it('captures logcat and dmesg, or says why not', async function () {
    const t = target();
    const logcat = await t.captureLogcat(20);
    // This machine has no logcat: the capture must say so rather than fail the run.
    assert.equal(logcat.available, false);
    if (!logcat.available) assert.match(logcat.reason, /logcat/);
    const dmesg = await t.captureDmesg(5);
    if (dmesg.available) assert.ok(dmesg.text.split('\n').length <= 6);
    else assert.match(dmesg.reason, /dmesg/);
  });

  it('resolves adb:all, adb:SERIAL and adb:SERIAL@HOST:PORT over --adb-server, and names a missing serial', async function () {
    const all = await openAdbTargets('adb:all', { servers: [`127.0.0.1:${port}`], deviceDir: daemon.scratchDir });
    targets.push(...all);
    assert.deepEqual(all.map((t) => t.id), [`adb:${serial}`]);
    const one = await openAdbTargets(`adb:${serial}@127.0.0.1:${port}`, { servers: [`127.0.0.1:${port}`], deviceDir: daemon.scratchDir });
    targets.push(...one);
    assert.equal(one[0]?.serial, serial);
    assert.deepEqual((await one[0]?.exec(SCRIPT))?.results, localResults(SCRIPT));
    await assert.rejects(openAdbTargets('adb:emulator-5554', { servers: [`127.0.0.1:${port}`] }), (e: unknown) => e instanceof AdbDeviceNotFoundError && /emulator-5554/.test(e.message) && e.message.includes(serial));
  });

  it('advertises its scratch folder for deviceDir through a property', async function () {
    const props = await server.client.getDevice(serial).getProperties();
    assert.equal((props as Record<string, string>)[TMPDIR_PROPERTY], daemon.scratchDir);
  });
});
