/**
 * The mmap flags each probe build really passes, seen from outside (qemu-user's QEMU_STRACE under
 * emulation, strace natively): `shared`/`private` are MAP_SHARED/MAP_PRIVATE alone, and the
 * `_noreserve` kinds add MAP_NORESERVE (docs/op-scripts.md, issue 12 §6).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { MAP_KINDS } from '../../harness/ops/ast.js';
import { findOnPath, probeCommand } from '../../harness/targets/probe-binary.js';
import { ALL_ABIS, ensureProbesBuilt, script, skipUnlessRunnable } from './support.js';

before(function () {
  this.timeout(120_000);
  ensureProbesBuilt();
});

const EXPECTED: Readonly<Record<(typeof MAP_KINDS)[number], string>> = {
  shared: 'MAP_SHARED',
  private: 'MAP_PRIVATE',
  shared_noreserve: 'MAP_SHARED|MAP_NORESERVE',
  private_noreserve: 'MAP_PRIVATE|MAP_NORESERVE',
};

/** The flags of the probe's mmap calls on its first region fd, in order (undefined: no tracer). */
function tracedFlags(abi: (typeof ALL_ABIS)[number]): string[] | undefined {
  const cmd = probeCommand(abi);
  // A memfd on a host without ashmem, an ashmem region elsewhere: either can be mapped 8 KiB long.
  const input = script('open r0', 'set_size r0 8192', 'truncate r0 8192', ...MAP_KINDS.map((k, i) => `mmap m${i} r0 8192 3 ${k} 0`));
  let stderr: string;
  if (cmd.emulated) {
    stderr = spawnSync(cmd.command, cmd.args, { input, env: { ...process.env, QEMU_STRACE: '1' }, encoding: 'utf8' }).stderr;
  } else {
    const strace = findOnPath('strace');
    if (strace === undefined) return undefined;
    stderr = spawnSync(strace, ['-f', '-e', 'trace=mmap,mmap2', cmd.command, ...cmd.args], { input, encoding: 'utf8' }).stderr;
  }
  return [...stderr.matchAll(/mmap2?\(NULL, ?8192, ?PROT_READ\|PROT_WRITE, ?([A-Z_|]+), ?3, ?0\)/g)].map((m) => m[1] as string);
}

describe('mmap flags on the wire', function () {
  this.timeout(60_000);
  for (const abi of ALL_ABIS) {
    it(`${abi} passes MAP_NORESERVE exactly for the _noreserve kinds (traced by qemu-user under emulation, else with strace)`, function () {
      skipUnlessRunnable(this, abi);
      const seen = tracedFlags(abi);
      if (seen === undefined) {
        process.stderr.write(`\n  skipped mmap trace of ${abi}: it runs natively here and strace is not installed\n`);
        this.skip();
      }
      assert.deepEqual(seen, MAP_KINDS.map((k) => EXPECTED[k]));
    });
  }
});
