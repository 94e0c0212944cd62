/**
 * The adb target end to end: adbkit → real adb 29 server → loopback ADB daemon → the real probe.
 * The suite runs twice (test/support/adb-backends.ts): on this machine's shell and kernel, and in
 * a QEMU guest whose kernel has the real ashmem driver (Debian 11's 5.10 and its ashmem_linux.ko),
 * where the probe reports backend "ashmem", the profile is detected as c-final and root-only
 * purges really purge. Nothing is mocked at the adbkit boundary; round trips are counted on both
 * sides (the target's counter and the daemon's OPENs); the device itself is checked around adb.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareTargets } from '../../harness/check/run.js';
import { judge } from '../../harness/check/judge.js';
import { judgeOptionsFor } from '../../harness/commands.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';
import {
  AdbCommandError,
  AdbDeviceNotFoundError,
  AdbTarget,
  openAdbTargets,
  probeBinaryPath,
  rootGate,
  skipReason,
  type AdbTargetOptions,
} from '../../harness/targets/adb/index.js';
import { ProbeMissingError, TargetError, TargetTimeoutError } from '../../harness/targets/target.js';
import { adbBackends, sizeOp, type BackendDevice } from '../support/adb-backends.js';
import { useAdbSuite } from '../support/adb-suite.js';
import { TMPDIR_PROPERTY } from '../support/loopback-adbd/index.js';
import { ADB_BIN } from '../support/private-adb-server.js';
import { skipUnlessNative } from '../probe/support.js';

/** A deterministic script whose results do not depend on the backend's timing. */
const SCRIPT = [
  '# adb target test: every line has one well-defined answer on memfd and on ashmem',
  'open r0',
  'mmap m0 r0 8192 3 shared 0',
  'fill m0 0 4096 0xA5',
  'get_name r0',
  'bogus op',
  "set_name r0 \"it's \\\"quoted\\\" $HOME `x` %s ü\"",
  'close r0',
  '',
].join('\n');

for (const backend of adbBackends()) describe(`adb target through the real adb server and the loopback daemon, on ${backend.title}`, function () {
  this.timeout(90_000);
  const suite = useAdbSuite(backend, {
    suiteDevices: [{
      abis: ['x86_64', 'x86'],
      properties: { 'ro.build.version.sdk': '30', 'ro.build.version.release': '11', 'sys.use_memfd': 'true', 'ro.product.model': 'Loopback' },
    }],
  });
  // The suite's device, its serial, and the private server's port, once `before` has run.
  let device: BackendDevice;
  let serial = '';
  let port = 0;
  before(() => {
    device = suite.suiteDevice;
    serial = device.daemon.serial;
    port = suite.port;
  });

  /** The probe run on the device around adb: what the target must reproduce exactly. */
  const localResults = (script: string): Promise<OpResult[]> => device.probeDirect(script);
  /** Runs sh on the device around adb; fails on a non-zero status. */
  const onDevice = async (command: string): Promise<string> => {
    const r = await device.sh(command);
    assert.equal(r.status, 0, `${command}: ${r.output}`);
    return r.output;
  };
  const exists = async (file: string): Promise<boolean> => (await device.sh(`[ -e ${file} ]`)).status === 0;
  const modeOf = async (file: string): Promise<number> => Number.parseInt((await onDevice(`stat -c %a ${file}`)).trim(), 8);
  const listDir = async (dir: string): Promise<string[]> => (await onDevice(`ls -A ${dir}`)).split('\n').filter((l) => l !== '');

  /** A target on the suite's device. */
  const target = (options: Partial<AdbTargetOptions> = {}): AdbTarget => suite.target(device, options);

  it('reads device facts from the property table and the device, and the probe hello', async function () {
    const t = target();
    const facts = await t.facts();
    const android = facts.android;
    assert.ok(android !== undefined);
    assert.deepEqual(android.abis, ['x86_64', 'x86']);
    assert.equal(android.sdk, 30);
    assert.equal(android.release, '11');
    assert.equal(android.useMemfd, 'true');
    assert.equal(android.bootId, (await onDevice('cat /proc/sys/kernel/random/boot_id')).trim());
    assert.equal(android.root, (await onDevice('id -u')).trim() === '0');
    const nodes = (await device.sh('ls -d /dev/ashmem* 2>/dev/null')).output.split('\n').filter((n) => n.startsWith('/dev/'));
    assert.deepEqual([...android.ashmemNodes].sort(), nodes.sort());
    const kernel = (await onDevice('uname -r')).trim();
    const facts2 = await t.deviceFacts();
    assert.equal(facts2.kernel, kernel);
    assert.equal(facts2.model, 'Loopback');
    // busybox in the guest has no getconf: the page size reads unknown (0) and the hello has it.
    assert.equal(facts2.pageSize, backend.name === 'vm' ? 0 : facts.hello.page_size);
    assert.equal(facts.hello.abi, 'x86_64');
    assert.equal(facts.hello.bits, 64);
    assert.equal(facts.hello.kernel, kernel);
    assert.equal(facts.hello.backend, backend.probeBackend);
    if (backend.name === 'vm') {
      // The guest's kernel, not this machine's, and its real driver node.
      assert.notEqual(kernel, os.release());
      assert.deepEqual(nodes, ['/dev/ashmem']);
      assert.equal(facts.hello.node, '/dev/ashmem');
    }
    assert.equal(await t.abi(), 'x86_64');
  });

  it('pushes the probe with mode 755 and runs a case in ONE round trip, exactly as the probe does locally', async function () {
    const t = target();
    await t.facts();
    const probeOnDevice = `${device.daemon.scratchDir}/ashmem-probe`;
    assert.equal(await modeOf(probeOnDevice), 0o755);
    // The bytes on the device are the probe's, bit for bit.
    const sum = (await onDevice(`sha256sum ${probeOnDevice}`)).split(' ')[0];
    assert.equal(sum, execFileSync('sha256sum', [probeBinaryPath('x86_64')], { encoding: 'utf8' }).split(' ')[0]);
    const before = t.roundTrips();
    const opensBefore = device.daemon.totalOpens();
    const streamed: OpResult[] = [];
    const outcome = await t.exec(SCRIPT, (r) => streamed.push(r));
    assert.equal(t.roundTrips().device - before.device, 1);
    assert.equal(device.daemon.totalOpens() - opensBefore, 1, device.daemon.openLog.slice(-3).join('\n'));
    const expected = await localResults(SCRIPT);
    assert.ok(expected.length >= 6);
    assert.deepEqual(outcome.results, expected);
    assert.deepEqual(streamed, expected);
    assert.deepEqual(outcome.exit, { code: 0, signal: null });
    assert.equal(outcome.hello.backend, backend.probeBackend);
  });

  it('multiplexes concurrent cases on one device connection (8 streams at once)', async function () {
    const t = target();
    const size = sizeOp((await t.facts()).hello.backend);
    const scripts = Array.from({ length: 8 }, (_, n) => `open r0\n${size} r0 65536\nmmap m0 r0 65536 3 shared 0\nfill m0 0 65536 ${n + 1}\ncheck m0 0 65536\n`);
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
    assert.deepEqual(outcome.results, await localResults(long));
    assert.deepEqual((await listDir(device.daemon.scratchDir)).filter((f) => f.endsWith('.script')), [], 'the pushed script is removed');
  });

  it('runs many cases over one agent connection (adbkit openTcp): no device round trip per case', async function () {
    const t = target({ mode: 'agent' });
    await t.facts();
    const before = t.roundTrips();
    const opensBefore = device.daemon.totalOpens();
    const expected = await localResults(SCRIPT);
    for (let i = 0; i < 5; i++) {
      const outcome = await t.exec(SCRIPT);
      assert.deepEqual(outcome.results, expected);
      assert.deepEqual(outcome.exit, { code: 0, signal: null });
      assert.equal(outcome.hello.backend, backend.probeBackend);
    }
    assert.equal(t.roundTrips().device - before.device, 0);
    assert.equal(device.daemon.totalOpens() - opensBefore, 0);
  });

  it('runs the agent through adb forward, and removes the forward on close', async function () {
    const t = target({ mode: 'agent', agentTransport: 'forward' });
    await t.facts();
    const outcome = await t.exec(SCRIPT);
    assert.deepEqual(outcome.results, await localResults(SCRIPT));
    assert.equal(outcome.hello.backend, backend.probeBackend);
    const forwards = execFileSync(ADB_BIN, ['-P', String(port), 'forward', '--list'], { encoding: 'utf8', timeout: 10_000 });
    assert.match(forwards, new RegExp(`${serial.replace(/\./g, '\\.')} tcp:\\d+ tcp:\\d+`));
    await t.close();
    const after = execFileSync(ADB_BIN, ['-P', String(port), 'forward', '--list'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(after.trim(), '');
  });

  it('removes the pushed probe on close, and keeps it with keep', async function () {
    const probeOnDevice = `${device.daemon.scratchDir}/ashmem-probe`;
    const kept = target({ keep: true });
    await kept.facts();
    await kept.close();
    assert.equal(await exists(probeOnDevice), true);
    const t = target();
    await t.facts();
    await t.exec(SCRIPT);
    await t.close();
    assert.equal(await exists(probeOnDevice), false);
    assert.deepEqual((await listDir(device.daemon.scratchDir)).filter((f) => f.startsWith('.ashmem-harness-') || f === 'ashmem-probe'), []);
  });

  it('makes the probe executable in the hello round trip even where push ignores the mode, from any shell folder', async function () {
    const strict = await suite.connectedDevice({ abis: ['x86_64'], syncIgnoresMode: true });
    // A device folder other than the shell's working folder, as /data/local/tmp is on Android.
    const dir = `${strict.daemon.scratchDir}/probe-dir`;
    const t = suite.target(strict, { deviceDir: dir });
    const facts = await t.facts();
    assert.equal(facts.hello.abi, 'x86_64');
    assert.equal(facts.hello.backend, backend.probeBackend);
    // The mode is the hello's chmod (by absolute path): the push itself left 0644.
    assert.equal((await strict.sh(`stat -c %a ${dir}/ashmem-probe`)).output.trim(), '755');
    await t.close();
  });

  it('chooses a forced 32-bit ABI from the device list (compat ioctls)', async function () {
    const x86 = probeBinaryPath('x86');
    assert.ok(fs.existsSync(x86), `the x86 probe is not built (${x86})`);
    // The loopback device on this machine runs the probe through its shell, so this kernel must
    // execute it; the guest's kernel does (IA32 emulation), and there the 32-bit probe meets the
    // driver's compat_ioctl.
    if (backend.name === 'host') skipUnlessNative(this, 'x86', 'the loopback device with the x86 probe');
    const t = target({ abi: 'x86' });
    const facts = await t.facts();
    assert.equal(facts.hello.abi, 'x86');
    assert.equal(facts.hello.bits, 32);
    assert.equal(facts.hello.backend, backend.probeBackend);
    const outcome = await t.exec(SCRIPT);
    assert.deepEqual(outcome.results, await device.probeDirect(SCRIPT, 'x86'));
  });

  it('fails set-up with ProbeMissingError naming scripts/build-probe when no probe fits the ABIs', async function () {
    const t = target({ probeBinary: (abi) => path.join(os.tmpdir(), 'no-such-probe', abi, 'ashmem-probe') });
    await assert.rejects(t.facts(), (e: unknown) => e instanceof ProbeMissingError && /scripts\/build-probe/.test(e.message) && /x86_64/.test(e.message));
  });

  it('fails set-up with a TargetError naming the folder when the push is refused', async function () {
    if (backend.name === 'host') {
      // This machine has no /data/local/tmp the daemon may write (writes are confined).
      const t = new AdbTarget({ server: suite.server, serial });
      suite.closeAfter(t);
      assert.equal(t.deviceDir, '/data/local/tmp');
      await assert.rejects(t.facts(), (e: unknown) => e instanceof AdbCommandError && e instanceof TargetError && /\/data\/local\/tmp\/ashmem-probe failed/.test(e.message) && /confined/.test(e.message));
    } else {
      // In the guest the default folder exists and is writable; /proc is not.
      const t = target({ deviceDir: '/proc/ashmem-harness' });
      await assert.rejects(t.facts(), (e: unknown) => e instanceof AdbCommandError && /\/proc\/ashmem-harness\/ashmem-probe failed/.test(e.message) && /can't create directory/.test(e.message));
    }
  });

  it('bounds a case by its timeout (TargetTimeoutError), kills it, and the next case runs', async function () {
    const t = target({ timeouts: { caseMs: 400 } });
    await t.facts();
    const started = Date.now();
    await assert.rejects(t.exec('open r0\npressure 4 3\n'), TargetTimeoutError);
    // The bound, then the kill's round trip (through the guest's control shell under TCG there).
    assert.ok(Date.now() - started < (backend.name === 'vm' ? 6000 : 2500), `${Date.now() - started} ms`);
    const outcome = await t.exec(SCRIPT);
    assert.deepEqual(outcome.results, await localResults(SCRIPT));
    // Nothing of the killed case is left running in the guest (killed by the target, and by the
    // daemon when the stream closed), which is all ours; this machine's process table is everyone's.
    if (backend.name === 'host') return;
    const left = (await device.sh('ps -o pid,args 2>/dev/null || ps')).output.split('\n').filter((l) => l.includes('ashmem-probe') && !l.includes('--listen'));
    assert.deepEqual(left, []);
  });

  it('gates root-only triggers on the probe uid', async function () {
    const t = target();
    const gate = await t.rootGate();
    const root = (await onDevice('id -u')).trim() === '0';
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
    const all = await openAdbTargets('adb:all', { servers: [`127.0.0.1:${port}`], deviceDir: device.daemon.scratchDir });
    suite.closeAfter(...all);
    assert.deepEqual(all.map((t) => t.id), [`adb:${serial}`]);
    const one = await openAdbTargets(`adb:${serial}@127.0.0.1:${port}`, { servers: [`127.0.0.1:${port}`], deviceDir: device.daemon.scratchDir });
    suite.closeAfter(...one);
    assert.equal(one[0]?.serial, serial);
    assert.deepEqual((await one[0]?.exec(SCRIPT))?.results, await localResults(SCRIPT));
    await assert.rejects(openAdbTargets('adb:emulator-5554', { servers: [`127.0.0.1:${port}`] }), (e: unknown) => e instanceof AdbDeviceNotFoundError && /emulator-5554/.test(e.message) && e.message.includes(serial));
  });

  it('advertises its scratch folder for deviceDir through a property', async function () {
    const props = await suite.server.client.getDevice(serial).getProperties();
    assert.equal((props as Record<string, string>)[TMPDIR_PROPERTY], device.daemon.scratchDir);
  });

  it('detects the profile through adb and judges a pin / unpin / purge_all case consistent under it', async function () {
    const t = target();
    const [prepared] = await prepareTargets([t], 'auto');
    assert.ok(prepared !== undefined);
    if (backend.name === 'vm') {
      // Debian's 5.10 driver, recognised by its answers, not by a fact we told it.
      assert.equal(prepared.info.profile, 'c-final', prepared.info.profileReason);
    }
    const size = sizeOp((await t.facts()).hello.backend);
    const script = [
      'open r0',
      `${size} r0 16384`,
      'mmap m0 r0 16384 3 shared 0',
      'fill m0 0 16384 0x5A',
      'unpin r0 0 8192',
      'purge_all r0',
      'pin r0 0 8192',
      'check m0 0 16384',
      'close r0',
      '',
    ].join('\n');
    const outcome = await t.exec(script);
    const verdict = judge(parseScript(script), outcome.results, prepared.profile, prepared.env, judgeOptionsFor(t.id, { quiet: true }));
    assert.equal(verdict.kind, 'consistent', JSON.stringify({ verdict, results: outcome.results }));
    if (backend.name === 'vm') {
      // As root the real driver purged the unpinned half: PURGE_ALL_CACHES counted its 2 pages
      // (the fresh guest holds no other unpinned range), PIN said WAS_PURGED, and the purged
      // pages read back as zeros (§3.7, §4).
      const by = (op: string): OpResult | undefined => outcome.results.find((r) => r.op === op);
      assert.equal(by('purge_all')?.ret, 2);
      assert.equal(by('pin')?.ret, 1);
      assert.deepEqual(by('check')?.rle, [[0, 8192], [0x5a, 8192]]);
    }
  });
});
