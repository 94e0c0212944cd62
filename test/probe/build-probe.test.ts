/**
 * scripts/build-probe: a missing cross compiler is named with the fix (scripts/setup-host), and
 * a single ABI can be rebuilt on its own.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findOnPath, probePath, repositoryRoot } from '../../harness/targets/probe-binary.js';

const BUILD = path.join(repositoryRoot(), 'scripts', 'build-probe');

describe('scripts/build-probe', function () {
  this.timeout(120_000);

  it('fails with exit 2 naming the missing compiler and scripts/setup-host', () => {
    // A PATH with the shell tools the script needs but no compilers at all.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'no-cc-'));
    try {
      for (const tool of ['bash', 'dirname', 'mkdir', 'mv', 'grep', 'env']) {
        const found = findOnPath(tool);
        if (found !== undefined) fs.symlinkSync(found, path.join(bin, tool));
      }
      const run = spawnSync(path.join(bin, 'bash'), [BUILD, 'armeabi-v7a'], { env: { PATH: bin }, encoding: 'utf8' });
      assert.equal(run.status, 2);
      assert.match(run.stderr, /missing compiler\(s\): arm-linux-gnueabihf-gcc \(for armeabi-v7a\)/);
      assert.match(run.stderr, /scripts\/setup-host/);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  it('rejects an unknown ABI', () => {
    const run = spawnSync(BUILD, ['mips'], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /unknown ABI "mips"/);
  });

  it('rebuilds one ABI into build/<abi>/ashmem-probe, a static executable', () => {
    const run = spawnSync(BUILD, ['x86'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const file = probePath('x86');
    const head = fs.readFileSync(file).subarray(0, 20);
    assert.deepEqual([...head.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]); // ELF
    assert.equal(head[4], 1); // ELFCLASS32
    assert.equal(head.readUInt16LE(18), 3); // EM_386
    const file64 = spawnSync('file', [file], { encoding: 'utf8' });
    if (file64.status === 0) assert.match(file64.stdout, /statically linked/);
  });
});
