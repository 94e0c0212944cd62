/**
 * How the probe runs here (harness/targets/probe-binary.ts): found per ABI by trying it natively,
 * then under qemu-user, never assumed from the host's architecture. This machine may run 32-bit
 * binaries natively, so the no-32-bit path is forced: with ASHMEM_HARNESS_NO_NATIVE (the native
 * trial refused), and with a file no kernel or emulator runs (a bad ELF header, which the spawn's
 * /bin/sh fallback then reads as a script and fails on).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ANDROID_ABIS, NO_NATIVE_ENV, ProbeUnrunnableError, findOnPath, probeCommand, probePath, repositoryRoot } from '../../harness/targets/probe-binary.js';
import { LocalTarget } from '../../harness/targets/local-target.js';
import { ensureProbesBuilt, skipUnlessRunnable } from '../probe/support.js';

const CLI = path.join(repositoryRoot(), 'bin', 'ashmem-harness.js');

before(function () {
  this.timeout(120_000);
  ensureProbesBuilt();
});

let announcedNoQemu = false;

/** Skips the caller when qemu-i386-static is not installed (the forced fallback needs it), saying why once. */
function needQemuI386(ctx: Mocha.Context): string {
  const qemu = findOnPath('qemu-i386-static');
  if (qemu === undefined) {
    if (!announcedNoQemu) process.stderr.write('\n  skipped the forced qemu-user fallback tests: qemu-i386-static is not installed (package qemu-user-static)\n');
    announcedNoQemu = true;
    ctx.skip();
  }
  return qemu as string;
}

describe('how the probe runs here (trial, per ABI)', function () {
  this.timeout(60_000);

  for (const abi of ANDROID_ABIS) {
    it(`${abi}: native exactly when this kernel executes the build itself, else qemu-user`, function () {
      skipUnlessRunnable(this, abi);
      const file = probePath(abi);
      // Independent evidence: does a direct spawn answer the probe's version line?
      const direct = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 20_000 });
      const runsNatively = direct.status === 0 && direct.stdout.startsWith(`ashmem-probe `);
      const cmd = probeCommand(abi);
      if (runsNatively) {
        assert.deepEqual({ runner: cmd.runner, emulated: cmd.emulated, command: cmd.command }, { runner: 'native', emulated: false, command: file });
      } else {
        assert.equal(cmd.emulated, true);
        assert.match(cmd.runner, /^qemu-user:qemu-(?:i386|x86_64|aarch64|arm)-static$/);
        assert.equal(path.basename(cmd.command), cmd.runner.slice('qemu-user:'.length));
        assert.deepEqual(cmd.args, [file]);
      }
      // The runner it chose really runs the build.
      const check = spawnSync(cmd.command, [...cmd.args, '--version'], { encoding: 'utf8', timeout: 20_000 });
      assert.match(check.stdout, new RegExp(`^ashmem-probe \\S+ ${abi} (32|64)-bit`));
    });
  }

  it('caches the trial per process (the same answer object), and tries again after a rebuild', function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-runner-'));
    try {
      const file = path.join(dir, 'ashmem-probe');
      fs.copyFileSync(probePath('host'), file);
      const first = probeCommand('host', { file });
      assert.equal(probeCommand('host', { file }), first);
      fs.utimesSync(file, new Date(), new Date(Date.now() + 5_000));
      const again = probeCommand('host', { file });
      assert.notEqual(again, first);
      assert.equal(again.runner, 'native');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with the native trial refused (as on a kernel without 32-bit execution), x86 runs under qemu-i386-static', function () {
    const qemu = needQemuI386(this);
    const cmd = probeCommand('x86', { env: { ...process.env, [NO_NATIVE_ENV]: 'x86' } });
    assert.deepEqual(cmd, { abi: 'x86', file: probePath('x86'), command: qemu, args: [probePath('x86')], emulated: true, runner: 'qemu-user:qemu-i386-static' });
    // Other ABIs are not affected by the hook.
    assert.equal(probeCommand('x86_64', { env: { ...process.env, [NO_NATIVE_ENV]: 'x86' } }).runner, 'native');
  });

  it('with the native trial refused and no emulator on PATH: a ProbeUnrunnableError saying why and what to install', function () {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'no-qemu-'));
    try {
      assert.throws(() => probeCommand('x86', { env: { PATH: empty, [NO_NATIVE_ENV]: 'x86' } }), (e: unknown) => {
        assert.ok(e instanceof ProbeUnrunnableError);
        assert.match(e.message, /^the x86 probe cannot run on this machine: natively refused by ASHMEM_HARNESS_NO_NATIVE; under qemu-i386-static: qemu-i386-static is not installed\. Install qemu-i386-static \(Debian\/Ubuntu package qemu-user-static/);
        return true;
      });
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('a file the kernel refuses (bad ELF header, /bin/sh fallback fails on it) and the emulator cannot run either: a clear error, no crash', function () {
    const qemu = needQemuI386(this);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-probe-'));
    try {
      const file = path.join(dir, 'ashmem-probe');
      fs.writeFileSync(file, '\x7fELF\x01\x01\x01 (not an executable (\n');
      fs.chmodSync(file, 0o755);
      assert.throws(() => probeCommand('x86', { file }), (e: unknown) => {
        assert.ok(e instanceof ProbeUnrunnableError);
        // Natively: ENOEXEC, or the shell fallback's syntax error and a non-zero exit.
        assert.match(e.message, /^the x86 probe cannot run on this machine: natively (?:Exec format error|exit code \d+: .*)/);
        assert.match(e.message, /under qemu-i386-static: (?:exit code \d+|killed by|answered)/);
        assert.match(e.message, /qemu-user-static/);
        assert.doesNotMatch(e.message, /[^\x20-\x7e]/, 'the message holds printable ASCII only');
        return true;
      });
      assert.ok(qemu.length > 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a LocalTarget whose ABI cannot run fails with ProbeUnrunnableError (a TargetError: exit 2 at the CLI)', async function () {
    needQemuI386(this);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-root-'));
    try {
      const file = probePath('x86', root);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, '#!/bin/sh\necho not a probe\n');
      fs.chmodSync(file, 0o755);
      await assert.rejects(new LocalTarget({ abi: 'x86', root }).facts(), (e: unknown) => e instanceof ProbeUnrunnableError && /answered "not a probe" instead of its version/.test(e.message));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('the CLI when x86 cannot run natively (forced)', function () {
  this.timeout(180_000);

  it('run --target local:x86 picks qemu-user, says so, records it in the facts, and judges ENOSYS ioctls as the emulator\'s', function () {
    needQemuI386(this);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'forced-qemu-'));
    try {
      const r = spawnSync(process.execPath, [CLI, 'run', '--target', 'local:x86', '--cases', '15', '--out', path.join(out, 'r')], { encoding: 'utf8', env: { ...process.env, [NO_NATIVE_ENV]: 'x86' }, timeout: 170_000 });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stderr, /^local:x86: probe runs qemu-user:qemu-i386-static; profile linux-memfd \(.*under qemu-user: ashmem ioctls answer ENOSYS/m);
      const report = JSON.parse(fs.readFileSync(path.join(out, 'r', 'report.json'), 'utf8')) as { targets: { facts: { runner: string; hello: { machine: string } } }[] };
      assert.equal(report.targets[0]?.facts.runner, 'qemu-user:qemu-i386-static');
      assert.equal(report.targets[0]?.facts.hello.machine, 'i686');
      // exec under the same hook: the ashmem ioctl gets the emulator's own ENOSYS.
      const exec = spawnSync(process.execPath, [CLI, 'exec', '--target', 'local:x86', '-'], { input: 'open r0\npin r0 0 0\n', encoding: 'utf8', env: { ...process.env, [NO_NATIVE_ENV]: 'x86' } });
      assert.equal(exec.status, 0, exec.stderr);
      assert.match(exec.stdout, /"op":"pin","errno":"ENOSYS"/);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('judge --profile auto --target local:x86 models the emulator\'s ENOSYS for results exec got under qemu-user', function () {
    needQemuI386(this);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forced-judge-'));
    try {
      const env = { ...process.env, [NO_NATIVE_ENV]: 'x86' };
      const script = path.join(dir, 's.ops');
      fs.writeFileSync(script, 'open r0\nset_size r0 8192\npin r0 0 0\nget_size r0\n');
      const exec = spawnSync(process.execPath, [CLI, 'exec', '--target', 'local:x86', script], { encoding: 'utf8', env });
      assert.equal(exec.status, 0, exec.stderr);
      assert.match(exec.stdout, /"op":"set_size","errno":"ENOSYS"/);
      const results = path.join(dir, 'r.jsonl');
      fs.writeFileSync(results, exec.stdout);
      const judged = spawnSync(process.execPath, [CLI, 'judge', '--profile', 'auto', '--target', 'local:x86', script, results], { encoding: 'utf8', env });
      assert.equal(judged.status, 0, judged.stdout + judged.stderr);
      assert.match(judged.stdout, /^consistent: 4 ops explained by profile linux-memfd/);
      assert.match(judged.stderr, /the probe runs qemu-user:qemu-i386-static/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exec --target local:x86 with neither way available: one line naming what to install, exit 2', function () {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'no-qemu-'));
    try {
      const r = spawnSync(process.execPath, [CLI, 'exec', '--target', 'local:x86', '-'], { input: 'open r0\n', encoding: 'utf8', env: { ...process.env, PATH: empty, [NO_NATIVE_ENV]: 'x86' } });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^ashmem-harness: the x86 probe cannot run on this machine: .*qemu-user-static.*\n$/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
