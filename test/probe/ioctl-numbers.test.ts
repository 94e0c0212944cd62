/**
 * The ioctl numbers each build really sends, seen from outside the probe: qemu-user's own
 * syscall trace (QEMU_STRACE) for a build that runs under qemu-user here, strace for one that runs
 * natively (skipped, with the reason, without strace). 32-bit builds must send the compat
 * encodings of SET_SIZE, SET_PROT_MASK and GET_FILE_ID (ashmem-semantics.md §1.3).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { findOnPath, probeCommand } from '../../harness/targets/probe-binary.js';
import { ALL_ABIS, ensureProbesBuilt, script, skipUnlessRunnable } from './support.js';

before(function () {
  this.timeout(120_000);
  ensureProbesBuilt();
});

const OPS = ['set_name r0 "n"', 'get_name r0', 'set_size r0 8192', 'get_size r0', 'set_prot r0 3', 'get_prot r0', 'pin r0 0 4096', 'unpin r0 0 4096', 'status r0 0 4096', 'purge_all r0', 'file_id r0', 'ioctl r0 0x1234 5'];
const COMMON = { set_name: 0x41007701, get_name: 0x81007702, get_size: 0x7704, get_prot: 0x7706, pin: 0x40087707, unpin: 0x40087708, status: 0x7709, purge_all: 0x770a, ioctl: 0x1234 };
const WIDE = { set_size: 0x40087703, set_prot: 0x40087705, file_id: 0x8008770b };
const COMPAT = { set_size: 0x40047703, set_prot: 0x40047705, file_id: 0x8004770b };

/** The ioctl commands sent on the probe's first region fd, in order. */
function tracedCommands(abi: (typeof ALL_ABIS)[number]): number[] | undefined {
  const cmd = probeCommand(abi);
  const input = script('open r0', ...OPS);
  let stderr: string;
  if (cmd.emulated) {
    const run = spawnSync(cmd.command, cmd.args, { input, env: { ...process.env, QEMU_STRACE: '1' }, encoding: 'utf8' });
    stderr = run.stderr;
  } else {
    const strace = findOnPath('strace');
    if (strace === undefined) return undefined;
    const run = spawnSync(strace, ['-f', '-e', 'trace=ioctl', '-e', 'raw=ioctl', cmd.command, ...cmd.args], { input, encoding: 'utf8' });
    stderr = run.stderr;
  }
  const out: number[] = [];
  for (const m of stderr.matchAll(/ioctl\((?:0x)?3, ?(0x[0-9a-f]+)/g)) out.push(Number.parseInt(m[1] as string, 16));
  return out;
}

describe('ioctl numbers on the wire', function () {
  this.timeout(60_000);
  for (const abi of ALL_ABIS) {
    const bits32 = abi === 'x86' || abi === 'armeabi-v7a';
    it(`${abi} sends the ${bits32 ? '32-bit compat' : 'native 64-bit'} encodings (traced by qemu-user under emulation, else with strace)`, function () {
      skipUnlessRunnable(this, abi);
      const seen = tracedCommands(abi);
      if (seen === undefined) {
        process.stderr.write(`\n  skipped ioctl trace of ${abi}: it runs natively here and strace is not installed\n`);
        this.skip();
      }
      const numbers: Record<string, number> = { ...COMMON, ...(bits32 ? COMPAT : WIDE) };
      const want = OPS.map((o) => numbers[o.split(' ')[0] as string]);
      assert.deepEqual(seen, want);
    });
  }
});
