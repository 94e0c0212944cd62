/**
 * The replay commands of a repro folder carry what the run used: the judge flags round-trip
 * through the judge's own option parser to the very JudgeOptions the run judged with, and each
 * kind of target names the `exec` flags that reach it again (all of them flags `exec` accepts).
 */
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { judgeFlags } from '../../harness/check/run.js';
import { QUIET } from '../../harness/check/worlds.js';
import { judgeOptionsFrom, program, worldOptions } from '../../harness/cli.js';
import { judgeOptionsFor } from '../../harness/commands.js';
import { LocalTarget } from '../../harness/targets/local-target.js';
import { parseVmTargetSpec } from '../../harness/targets/vm/vm-spec.js';
import { VmTarget } from '../../harness/targets/vm/vm-target.js';

/** What `judge` makes of these flags. */
function judgeParses(flags: readonly string[]): ReturnType<typeof judgeOptionsFrom> {
  const cmd = worldOptions(new Command('judge')).exitOverride();
  cmd.parse([...flags], { from: 'user' });
  return judgeOptionsFrom(cmd.opts());
}

/** The long options `exec` accepts. */
function execFlags(): Set<string> {
  const exec = program().commands.find((c) => c.name() === 'exec');
  assert.ok(exec !== undefined);
  return new Set(exec.options.map((o) => o.long ?? ''));
}

describe('replay commands carry the run\'s options', () => {
  it('judge flags round-trip to the judge options of every kind of run (device busy or quiet, reclaim, shrinker)', () => {
    const variants = [
      judgeOptionsFor('local', {}),
      judgeOptionsFor('adb:emulator-5554', {}),
      judgeOptionsFor('adb:emulator-5554', { quiet: true, backgroundReclaim: true, shrinker: 'batches' }),
      { ...QUIET, otherUsers: true, contended: true, backgroundReclaim: true, shrinker: 'batches' as const, checkInvariants: true },
    ];
    for (const o of variants) {
      const back = judgeParses(judgeFlags(o));
      assert.deepEqual(back, { ...o, checkInvariants: o.checkInvariants, shrinker: o.shrinker ?? 'any-prefix' }, judgeFlags(o).join(' '));
    }
    assert.deepEqual(judgeFlags(judgeOptionsFor('adb:x', {})), ['--other-users', '--contended', '--shrinker', 'any-prefix']);
  });

  it('a local target: its ABI and backend', () => {
    const t = LocalTarget.fromId('local:x86_64', { backend: 'memfd' });
    assert.deepEqual(t.replayArgs(), ['--target', 'local:x86_64', '--backend', 'memfd']);
    assert.deepEqual(LocalTarget.fromId('local').replayArgs(), ['--target', 'local']);
  });

  it('a vm target: its kernel, modules, package, cache, accelerator and memory, all flags exec accepts', async () => {
    const [spec] = parseVmTargetSpec('vm:x86_64');
    assert.ok(spec !== undefined);
    const t = new VmTarget(spec, { kernel: '/k/bzImage', modules: ['/m/a.ko', '/m/b.ko'], kernelDeb: '/d/k.deb', cache: '/c', accel: 'tcg', memoryMiB: 256 });
    try {
      const args = t.replayArgs();
      assert.deepEqual(args, ['--target', spec.id, '--vm-kernel', '/k/bzImage', '--vm-module', '/m/a.ko', '--vm-module', '/m/b.ko', '--vm-kernel-deb', '/d/k.deb', '--vm-cache', '/c', '--vm-accel', 'tcg', '--vm-memory', '256']);
      const known = execFlags();
      for (const a of args.filter((x) => x.startsWith('--'))) assert.ok(known.has(a), `exec has no ${a}`);
    } finally {
      await t.close();
    }
  });

  it('every flag a local or adb replay uses is one exec accepts', () => {
    const known = execFlags();
    for (const a of ['--target', '--backend', '--adb-server', '--device-dir']) assert.ok(known.has(a), a);
  });
});
