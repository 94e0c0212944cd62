/**
 * The vm target's parts that need no guest: target spellings, the cpio writer (checked by a real
 * cpio reader: the guest's own busybox), module dependencies, and the cache's locking and atomic
 * entries.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { judgeOptionsFor } from '../../harness/commands.js';
import { TargetError } from '../../harness/targets/target.js';
import { cachedEntry, cacheFailure, vmCacheRoot, VmCacheError, withLock } from '../../harness/targets/vm/cache.js';
import { cpioNewc } from '../../harness/targets/vm/initramfs.js';
import { loadOrder, moduleDepends } from '../../harness/targets/vm/modules.js';
import { needsFreshBoot } from '../../harness/targets/vm/vm-target.js';
import { findOnPath } from '../../harness/targets/probe-binary.js';
import { tethered } from '../../harness/targets/vm/tether.js';
import { parseVmTargetSpec } from '../../harness/targets/vm/vm-spec.js';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vm-parts-'));
}

describe('vm target spellings', () => {
  it('vm is the x86_64 guest with its 64-bit probe; /ABI and /all pick the probes', () => {
    assert.deepEqual(parseVmTargetSpec('vm').map((s) => s.id), ['vm:x86_64']);
    assert.deepEqual(parseVmTargetSpec('vm:x86_64/x86').map((s) => [s.arch, s.abi, s.id]), [['x86_64', 'x86', 'vm:x86_64/x86']]);
    assert.deepEqual(parseVmTargetSpec('vm:x86_64/all').map((s) => s.id), ['vm:x86_64', 'vm:x86_64/x86']);
    assert.deepEqual(parseVmTargetSpec('vm:arm64/all').map((s) => s.id), ['vm:arm64', 'vm:arm64/armeabi-v7a']);
    assert.deepEqual(parseVmTargetSpec('vm:arm64/arm64-v8a').map((s) => s.id), ['vm:arm64']);
  });

  it('refuses an unknown guest or an ABI the guest does not run, naming the spellings', () => {
    assert.throws(() => parseVmTargetSpec('vm:riscv64'), (e: unknown) => e instanceof TargetError && /vm:x86_64\/x86/.test(e.message));
    assert.throws(() => parseVmTargetSpec('vm:x86_64/arm64-v8a'), (e: unknown) => e instanceof TargetError && /runs the x86_64 and x86 probes/.test(e.message));
    assert.throws(() => parseVmTargetSpec('vm:'), TargetError);
  });
});

describe('fresh boots', () => {
  it('a guest is judged quiet, its purges with the batch arithmetic of a fresh guest unless --shrinker says otherwise', () => {
    const vm = judgeOptionsFor('vm:x86_64/x86', {});
    assert.deepEqual([vm.otherUsers, vm.contended, vm.shrinker], [false, false, 'batches']);
    assert.equal(judgeOptionsFor('vm', { shrinker: 'any-prefix' }).shrinker, 'any-prefix');
    const adb = judgeOptionsFor('adb:emulator-5554', {});
    assert.deepEqual([adb.otherUsers, adb.shrinker], [true, 'any-prefix']);
  });

  it('scripts with drop_caches or pressure (also in a child) need one; others share the boot', () => {
    assert.equal(needsFreshBoot('open r0\ndrop_caches 2\n'), true);
    assert.equal(needsFreshBoot('fork p1\np1: pressure 64 1\n'), true);
    assert.equal(needsFreshBoot('open r0\n# drop_caches in a comment\nset_name r0 "pressure"\n'), false);
  });
});

describe('initramfs cpio writer', () => {
  it('writes a newc archive that a real cpio reader unpacks byte for byte', function () {
    const busybox = ['/bin/busybox', ...fs.readdirSync(path.join(vmCacheRoot(), 'vm', 'debian', 'amd64'), { withFileTypes: true }).filter((d) => d.name.startsWith('busybox-')).map((d) => path.join(vmCacheRoot(), 'vm', 'debian', 'amd64', d.name, 'busybox'))]
      .find((f) => fs.existsSync(f));
    if (busybox === undefined) {
      this.skip(); // no reader here: the guest tests below unpack the same writer's archives in a real kernel
      return;
    }
    const data = Buffer.from(Array.from({ length: 1001 }, (_, i) => i % 251));
    const archive = cpioNewc([
      { kind: 'dir', path: 'a' },
      { kind: 'file', path: 'a/odd-size', data, mode: 0o751 },
      { kind: 'file', path: 'empty', data: Buffer.alloc(0), mode: 0o644 },
      { kind: 'symlink', path: 'a/link', target: 'odd-size' },
    ]);
    const dir = tmp();
    const r = spawnSync(busybox, ['cpio', '-i', '-d'], { cwd: dir, input: archive });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.deepEqual(fs.readFileSync(path.join(dir, 'a', 'odd-size')), data);
    assert.equal(fs.statSync(path.join(dir, 'a', 'odd-size')).mode & 0o777, 0o751);
    assert.equal(fs.readFileSync(path.join(dir, 'empty')).length, 0);
    assert.equal(fs.readlinkSync(path.join(dir, 'a', 'link')), 'odd-size');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('kernel module dependencies', () => {
  it('reads depends= from .modinfo and orders dependencies first, built-in ones skipped', () => {
    const dir = tmp();
    const mod = (name: string, deps: string): string => {
      const f = path.join(dir, `${name}.ko`);
      fs.writeFileSync(f, Buffer.concat([Buffer.from('\x7fELF junk\0license=GPL\0'), Buffer.from(`depends=${deps}\0`), Buffer.from('vermagic=5.10\0')]));
      return f;
    };
    const index = new Map([['virtio_net', mod('virtio_net', 'virtio,virtio_ring,net_failover')], ['net_failover', mod('net_failover', 'failover')], ['failover', mod('failover', '')], ['virtio_ring', mod('virtio_ring', '')]]);
    assert.deepEqual(moduleDepends(fs.readFileSync(index.get('virtio_net') as string)), ['virtio', 'virtio_ring', 'net_failover']);
    assert.deepEqual(moduleDepends(fs.readFileSync(index.get('failover') as string)), []);
    const order = loadOrder(index, ['virtio_net'], []).map((f) => path.basename(f, '.ko'));
    assert.deepEqual(order, ['virtio_ring', 'failover', 'net_failover', 'virtio_net']); // virtio itself is taken as built in
    assert.throws(() => loadOrder(index, ['ashmem_linux'], ['ashmem_linux']), /ashmem_linux is not among the kernel's modules/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('vm cache', () => {
  it('is --vm-cache, else $ASHMEM_HARNESS_CACHE, else the XDG cache dir', () => {
    assert.equal(vmCacheRoot('/x/y', {}), '/x/y');
    assert.equal(vmCacheRoot(undefined, { ASHMEM_HARNESS_CACHE: '/c', XDG_CACHE_HOME: '/xdg' }), '/c');
    assert.equal(vmCacheRoot(undefined, { XDG_CACHE_HOME: '/xdg' }), '/xdg/ashmem-harness');
  });

  it('builds an entry once when two builders start at once, and leaves nothing of a failed build', async () => {
    const dir = tmp();
    const final = path.join(dir, 'entry');
    let builds = 0;
    const build = async (t: string): Promise<void> => {
      builds += 1;
      await new Promise((r) => setTimeout(r, 100));
      fs.writeFileSync(t, 'done');
    };
    await Promise.all([cachedEntry(final, 5_000, undefined, build), cachedEntry(final, 5_000, undefined, build)]);
    assert.equal(builds, 1);
    assert.equal(fs.readFileSync(final, 'utf8'), 'done');
    const failed = path.join(dir, 'failed');
    await assert.rejects(cachedEntry(failed, 5_000, undefined, async (t) => {
      fs.writeFileSync(t, 'half');
      throw Object.assign(new Error('write failed'), { code: 'ENOSPC' });
    }), (e: unknown) => e instanceof VmCacheError && /is full \(ENOSPC\): free some space or point --vm-cache/.test(e.message));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['entry']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('takes over a lock whose owner died, and bounds the wait for a live one', async () => {
    const dir = tmp();
    const file = path.join(dir, 'x');
    fs.writeFileSync(`${file}.lock`, '999999999\n'); // no such process
    assert.equal(await withLock(file, 1_000, undefined, async () => 'ran'), 'ran');
    fs.writeFileSync(`${file}.lock`, `${process.ppid}\n`); // alive
    await assert.rejects(withLock(file, 300, undefined, async () => 'ran'), /timed out waiting for .*x\.lock/);
    assert.match(cacheFailure(dir, Object.assign(new Error('x'), { code: 'EROFS' })).message, /not writable \(EROFS\)/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('a guest dies with the harness (tether.ts)', () => {
  /** Whether a process still runs (a zombie awaiting its reaper counts as gone). */
  function running(pid: number): boolean {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  }

  async function gone(pid: number, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!running(pid)) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return !running(pid);
  }

  /** Starts a parent that spawns `sleep 300` (tethered or not), and returns both pids. */
  async function parentWithChild(tether: boolean): Promise<{ parent: number; child: number }> {
    const dir = tmp();
    const script = path.join(dir, 'parent.ts');
    const tetherModule = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'harness', 'targets', 'vm', 'tether.ts');
    fs.writeFileSync(script, [
      `import { spawn } from 'node:child_process';`,
      `import { tethered } from ${JSON.stringify(tetherModule)};`,
      `const c = ${tether ? `tethered('/bin/sleep', ['300'])` : `{ file: '/bin/sleep', args: ['300'] }`};`,
      `const child = spawn(c.file, [...c.args], { stdio: 'ignore' });`,
      `child.on('spawn', () => process.stdout.write(String(child.pid) + '\\n'));`,
      `setInterval(() => undefined, 1000);`,
    ].join('\n'));
    const { spawn } = await import('node:child_process');
    const p = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const child = await new Promise<number>((resolve, reject) => {
      let text = '';
      p.stdout.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\n')) resolve(Number(text.trim()));
      });
      p.on('exit', () => reject(new Error('the parent exited before spawning')));
    });
    // The exec into sleep (through setpriv) must have happened before the parent dies.
    const deadline = Date.now() + 5_000;
    while (!fs.readFileSync(`/proc/${child}/cmdline`, 'utf8').startsWith('/bin/sleep') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return { parent: p.pid as number, child };
  }

  it('findOnPath finds executable files only; without setpriv the command is returned as it was', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'plain'), '');
    fs.mkdirSync(path.join(dir, 'adir'));
    fs.writeFileSync(path.join(dir, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(findOnPath('tool', `/nonexistent:${dir}`), path.join(dir, 'tool'));
    assert.equal(findOnPath('plain', dir), undefined);
    assert.equal(findOnPath('adir', dir), undefined);
    assert.equal(findOnPath(path.join(dir, 'tool'), ''), path.join(dir, 'tool'));
    assert.deepEqual(tethered('/bin/sleep', ['1'], dir), { file: '/bin/sleep', args: ['1'], tethered: false });
    const t = tethered('/bin/sleep', ['1']);
    assert.equal(t.tethered, true, 'setpriv (util-linux) is on PATH here: scripts/setup-host installs it');
    assert.deepEqual(t.args.slice(-3), ['--', '/bin/sleep', '1']);
  });

  it('a tethered child gets SIGKILL when its parent is killed with SIGKILL; an untethered one outlives it', async function () {
    this.timeout(30_000);
    const loose = await parentWithChild(false);
    process.kill(loose.parent, 'SIGKILL');
    try {
      assert.equal(await gone(loose.child, 1_500), false, 'the control: without the tether the child survives (else this test proves nothing)');
    } finally {
      if (running(loose.child)) process.kill(loose.child, 'SIGKILL');
    }
    const tied = await parentWithChild(true);
    process.kill(tied.parent, 'SIGKILL');
    const dead = await gone(tied.child, 5_000);
    if (!dead) process.kill(tied.child, 'SIGKILL');
    assert.equal(dead, true, 'the tethered child still runs 5 s after its parent was killed');
  });
});
