/**
 * Repro folders replay exactly as the run judged: runs and a conform subset on this machine,
 * judged on purpose against an ashmem profile (this kernel has memfd only, so they diverge), then
 * every repro folder they wrote is replayed by pasting its README's commands into a shell:
 * `judge` on the folder's own files reports the same divergence at the line the README names,
 * and `exec` on the same target then `judge` reproduce it as well.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { probeCommand, ProbeUnrunnableError } from '../../harness/targets/probe-binary.js';
import { ensureProbesBuilt } from '../probe/support.js';
import { startCli, exitWithin } from '../support/cli-process.js';
import { cliOnPath, readReadme, replayFolder, reproFolders } from '../support/repro-folders.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const p = startCli(args);
  const { code } = await exitWithin(p, 180_000);
  return { code, out: p.out(), err: p.err() };
}

describe('repro folders replay exactly as the run judged', function () {
  this.timeout(300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'repro-'));
  let bin = '';
  before(() => {
    ensureProbesBuilt();
    bin = cliOnPath();
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(bin, { recursive: true, force: true });
  });

  it('run --target local with the run\'s judge options: every folder\'s judge and exec+judge reproduce the divergence at the README\'s line', async () => {
    const out = path.join(tmp, 'run');
    const r = await cli(['run', '--target', 'local', '--profile', 'c-final', '--cases', '5', '--length', '12', '--shrink-budget', '15', '--background-reclaim', '--shrinker', 'batches', '--out', out]);
    assert.equal(r.code, 1, r.out + r.err);
    const folders = reproFolders(out);
    assert.ok(folders.length >= 1, r.out);
    for (const dir of folders) {
      // The judge options the run used are all there.
      for (const c of readReadme(dir).commands.filter((x) => x.includes(' judge '))) assert.match(c, /--background-reclaim --shrinker batches /);
      const { judged, executed } = await replayFolder(dir, bin);
      assert.equal(judged, 2, dir);
      assert.equal(executed, 1, dir);
    }
  });

  it('conform (scenarios with comment headers; shrunk and unshrunk): every folder replays', async () => {
    const out = path.join(tmp, 'conform');
    const r = await cli(['conform', '--target', 'local', '--profile', 'c-final', '--only', '^(1\\.4|2-dup|10\\.1-|3\\.1-open-defaults)', '--out', out]);
    assert.equal(r.code, 1, r.out + r.err);
    const folders = reproFolders(out);
    assert.ok(folders.length >= 3, r.out);
    for (const dir of folders) assert.equal((await replayFolder(dir, bin)).judged, 2, dir);
  });

  it('an emulated ABI (local:arm64-v8a under qemu-user): the judge command says so, and replays', async function () {
    let emulated: boolean;
    try {
      emulated = probeCommand('arm64-v8a').emulated;
    } catch (e) {
      // This machine runs no arm64 binaries at all (no qemu-user): nothing to replay here.
      if (e instanceof ProbeUnrunnableError) this.skip();
      throw e;
    }
    const out = path.join(tmp, 'arm64');
    const r = await cli(['run', '--target', 'local:arm64-v8a', '--profile', 'c-final', '--cases', '3', '--length', '10', '--shrink-budget', '10', '--out', out]);
    assert.equal(r.code, 1, r.out + r.err);
    const folders = reproFolders(out);
    assert.ok(folders.length >= 1);
    for (const dir of folders) {
      const { commands } = readReadme(dir);
      assert.ok(commands.some((c) => c.includes('exec --target local:arm64-v8a ')), commands.join('\n'));
      if (emulated) for (const c of commands.filter((x) => x.includes(' judge '))) assert.match(c, /--ioctl-emulation qemu-user/);
      assert.equal((await replayFolder(dir, bin)).judged, 2, dir);
    }
  });
});
