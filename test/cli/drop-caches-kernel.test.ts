/**
 * `judge --shrinker batches` follows the target's kernel version (issue 12 §3, spec §12): from
 * `--kernel`, else from the results' hello line (the probe's `uname -r`). The results are §12's
 * 6.1 guest: three small ranges purged by the second drop_caches write.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { environmentFromHello } from '../../harness/check/environment.js';
import { judgeEnvironment } from '../../harness/cli.js';
import type { ProbeHello } from '../../harness/targets/target.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const BIN = path.join(ROOT, 'bin', 'ashmem-harness.js');
const SCRIPT = 'open r0\nset_size r0 32768\nmmap m0 r0 32768 3 shared 0\nfill m0 0 32768 0xA5\nunpin r0 0 8192\nunpin r0 12288 8192\nunpin r0 24576 4096\ndrop_caches\ncheck m0 0 32768\ndrop_caches\ncheck m0 0 32768\n';
const KEPT = '[[165,32768]]';
const PURGED = '[[0,8192],[165,4096],[0,8192],[165,4096],[0,4096],[165,4096]]';
const RESULTS = [
  ...['open', 'set_size', 'mmap', 'fill', 'unpin', 'unpin', 'unpin'].map((op, k) => `{"i":${k + 1},"op":"${op}","ret":0}`),
  '{"i":8,"op":"drop_caches","ret":0}', `{"i":9,"op":"check","ret":0,"rle":${KEPT}}`,
  '{"i":10,"op":"drop_caches","ret":0}', `{"i":11,"op":"check","ret":0,"rle":${PURGED}}`,
];
const hello = (kernel: string): ProbeHello => ({ probe: '0.1.0', kernel, machine: 'x86_64', abi: 'x86_64', bits: 64, backend: 'ashmem', node: '/dev/ashmem', uid: 0, page_size: 4096, features: [] }) as unknown as ProbeHello;

describe('judge --shrinker batches follows the kernel version (§12)', function () {
  this.timeout(120_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drop-kernel-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const script = path.join(tmp, 's.ops');
  fs.writeFileSync(script, SCRIPT);
  const judge = (lines: readonly string[], ...flags: string[]): { code: number; out: string } => {
    const results = path.join(tmp, 'r.jsonl');
    fs.writeFileSync(results, lines.join('\n') + '\n');
    const r = spawnSync(process.execPath, [BIN, 'judge', '--profile', 'c-final', '--shrinker', 'batches', ...flags, script, results], { encoding: 'utf8', cwd: ROOT });
    return { code: r.status ?? -1, out: r.stdout + r.stderr };
  };

  it('the hello line\'s release becomes the environment\'s kernel version', () => {
    assert.deepEqual(environmentFromHello(hello('5.10.0-28-amd64')).kernelVersion, [5, 10]);
    assert.deepEqual(environmentFromHello(hello('6.1.0-13-amd64')).kernelVersion, [6, 1]);
    assert.equal(environmentFromHello(hello('unknown')).kernelVersion, undefined);
  });

  it('judge\'s machine: the results\' hello, else the fingerprinted target\'s (--profile auto --target), and --kernel wins', () => {
    assert.deepEqual(judgeEnvironment({}, undefined, hello('5.10.0-28-amd64')).kernelVersion, [5, 10]);
    assert.deepEqual(judgeEnvironment({}, hello('6.1.0'), hello('5.10.0')).kernelVersion, [6, 1]);
    assert.deepEqual(judgeEnvironment({ kernel: '5.10.0' }, hello('6.1.0'), undefined).kernelVersion, [5, 10]);
    assert.equal(judgeEnvironment({}, undefined, undefined).kernelVersion, undefined);
  });

  it('--kernel 6.1: consistent; --kernel 5.10: a divergence at the second check', () => {
    assert.equal(judge(RESULTS, '--kernel', '6.1.0').code, 0);
    const r = judge(RESULTS, '--kernel', '5.10.0');
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /diverged at line 11: check m0 0 32768/);
    assert.match(r.out, /§12/);
  });

  it('without --kernel, the results\' hello line decides', () => {
    assert.equal(judge([JSON.stringify({ hello: hello('6.1.0-13-amd64') }), ...RESULTS]).code, 0);
    assert.equal(judge([JSON.stringify({ hello: hello('5.10.0-28-amd64') }), ...RESULTS]).code, 1);
  });
});
