/**
 * The specs' device layer (specs/support/device.ts) end to end without a device: a stand-in
 * `adb` on PATH answers `shell` by running the fixture's own dex on the JVM (test/apk/support/
 * jvm.ts) — so runInstrumentation's streaming, app_wait with its run-as trigger, the parser and
 * the model comparison are exercised together, as the purge spec uses them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { OpResult } from '../../harness/ops/result.js';
import { deviceFacts, runInstrumentation, trigger } from '../../specs/support/device.js';
import { assertAsPredicted, predictAroundWait } from '../../specs/support/scenario.js';
import { fixtureJvm } from '../apk/support/jvm.js';

const FAKE_ADB = `#!/usr/bin/env bash
# A stand-in adb: "shell CMD" for the few commands specs/support/device.ts sends.
[ "$1" = "-s" ] && shift 2
[ "$1" = "shell" ] || { echo "fake adb: unsupported: $*" >&2; exit 1; }
shift
cmd="$*"
case "$cmd" in
  "getprop ro.build.version.sdk; getprop ro.product.cpu.abi; getprop sys.use_memfd") printf '30\\nx86_64\\n\\n' ;;
  "am instrument -w -r -e script "*)
    set -- $cmd
    exec java -Dfixture.files="$FAKE_FILES" -cp "$FAKE_CP" dev.ashmemharness.host.Am dev.ashmemharness.fixture.ScriptInstrumentation "$7" ;;
  "run-as dev.ashmemharness.fixture touch files/trigger-"*) touch "$FAKE_FILES/\${cmd##*files/}" ;;
  *) echo "fake adb: unknown shell command: $cmd" >&2; exit 1 ;;
esac
`;

describe('specs/support/device.ts through a stand-in adb running the fixture on the JVM', function () {
  this.timeout(240_000);
  const saved = { PATH: process.env['PATH'], ANDROID_SERIAL: process.env['ANDROID_SERIAL'] };
  let dir: string;

  before(async () => {
    const jvm = await fixtureJvm();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-device-'));
    fs.writeFileSync(path.join(dir, 'adb'), FAKE_ADB, { mode: 0o755 });
    fs.mkdirSync(path.join(dir, 'files'));
    process.env['PATH'] = `${dir}:${saved.PATH ?? ''}`;
    process.env['ANDROID_SERIAL'] = 'fake-1';
    process.env['FAKE_CP'] = jvm.classpath;
    process.env['FAKE_FILES'] = path.join(dir, 'files');
  });

  after(() => {
    process.env['PATH'] = saved.PATH;
    if (saved.ANDROID_SERIAL === undefined) delete process.env['ANDROID_SERIAL'];
    else process.env['ANDROID_SERIAL'] = saved.ANDROID_SERIAL;
    delete process.env['FAKE_CP'];
    delete process.env['FAKE_FILES'];
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads the device facts in one round trip', async () => {
    assert.deepEqual(await deviceFacts(), { sdk: 30, abi: 'x86_64', useMemfd: false });
  });

  it('streams results while the script waits, so the trigger can be sent mid-run; the model agrees', async () => {
    const script = 'mf_create f0 "w" 4096\nmf_allow_purging f0 true\nmf_write f0 8 0 0 8 9\napp_wait "step" 60000\nmf_read f0 8 0 0 8\n';
    const seenBeforeEnd: number[] = [];
    const run = await runInstrumentation(script, async (r: OpResult) => {
      seenBeforeEnd.push(r.i);
      if (r.i === 3) await trigger('step');
    });
    assert.deepEqual(seenBeforeEnd, [1, 2, 3, 4, 5]);
    assert.equal(run.results[3]?.ret, 1, 'app_wait ended by the trigger (a run that only streamed at the end would time out: ret 0)');
    assert.equal(run.hello?.['door'], 'instrumentation');
    assertAsPredicted('JVM stand-in device, no purge', predictAroundWait(script, 'none', { sdk: 30, useMemfd: false }), run.results);
  });

  it('a failing onResult fails the run with its own error, after the app finished', async () => {
    await assert.rejects(runInstrumentation('mf_create f0 "x" 16\n', () => { throw new Error('spec step failed'); }), /spec step failed/);
  });

  it('rejects a trigger name that is not a plain word', async () => {
    await assert.rejects(trigger('a b; rm -rf /'), /must be \[A-Za-z0-9_.-\]\+/);
  });
});
