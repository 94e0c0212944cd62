/**
 * The vm target against a real ashmem driver: Debian 11's 5.10 kernel and its ashmem_linux.ko in
 * a QEMU guest (x86_64; the x86_64 and the 32-bit x86 probe, the latter through the driver's
 * compat_ioctl). The conformance suite and generated cases must meet zero divergences, with no
 * scenario skipped for want of /dev/ashmem or root; a crash of the guest kernel is a result; a
 * kernel without ashmem and a missing QEMU are clear errors. The guest needs QEMU
 * (scripts/setup-host) and, once, Debian's archive (scripts/setup-vm fills the cache).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeviceVanishedError } from '../../harness/targets/target.js';
import { vmCacheRoot } from '../../harness/targets/vm/cache.js';
import { GuestCrashedError } from '../../harness/targets/vm/guest.js';
import { VmTarget } from '../../harness/targets/vm/vm-target.js';
import { judge } from '../../harness/check/judge.js';
import { environmentFromHello } from '../../harness/check/environment.js';
import { QUIET } from '../../harness/check/worlds.js';
import { profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import { UNNAMED_FDS, VAST, WRAPPED } from '../support/findings.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const CLI = path.join(ROOT, 'bin', 'ashmem-harness.js');

interface CliRun { status: number | null; stdout: string; stderr: string }

/**
 * Everything these tests write, removed when the file's suites end. The harnesses they start get
 * it as TMPDIR too: a guest that crashes (or a harness that is killed) keeps its work folder for
 * the user on purpose, and a test suite run twice must not leave those behind in /tmp.
 */
const SCRATCH = fs.mkdtempSync(path.join(os.tmpdir(), 'ashmem-vm-tests-'));
after(() => fs.rmSync(SCRATCH, { recursive: true, force: true }));

function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 600_000): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, TMPDIR: SCRATCH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

interface CaseRow { target: string; id: string; status: string; reason?: string; logs?: { dmesg?: string } }
interface ReportJson { cases: CaseRow[]; targets: { id: string; profile: string; profileReason: string; facts: { vm?: { accel: string; accelReason: string; kernel: string } } }[] }

function report(dir: string): ReportJson {
  return JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as ReportJson;
}

/** The fields of /proc/PID/stat after the command name, or undefined once the process is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Whether a process runs (a zombie awaiting its reaper counts as gone). */
function alive(pid: number): boolean {
  const f = statFields(pid);
  return f !== undefined && f[0] !== 'Z';
}

function parentOf(pid: number): number {
  return Number(statFields(pid)?.[1] ?? 0);
}

function cmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** Every process below `root`. */
function descendants(root: number): number[] {
  const all = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const found: number[] = [];
  let frontier = [root];
  while (frontier.length > 0) {
    const next = all.filter((pid) => frontier.includes(parentOf(pid)));
    found.push(...next);
    frontier = next;
  }
  return found;
}

/** Runs `make` with os.tmpdir() pointing at `dir` (the target makes its work folder there). */
function withTmpdir<T>(dir: string, make: () => T): T {
  const before = process.env['TMPDIR'];
  process.env['TMPDIR'] = dir;
  try {
    return make();
  } finally {
    if (before === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = before;
  }
}

function out(name: string): string {
  return fs.mkdtempSync(path.join(SCRATCH, `${name}-`));
}

/** One run per target, side by side (a run shares its cases out by speed; each ABI must get all of them). */
async function runPerAbi(targets: readonly string[], cases: number, seed: number): Promise<void> {
  await Promise.all(targets.map(async (target) => {
    const dir = out('run');
    const r = await cli(['run', '--target', target, '--cases', String(cases), '--seed', String(seed), '--out', dir]);
    const rep = report(dir);
    const bad = rep.cases.filter((c) => c.status !== 'passed').map((c) => `${c.target} ${c.id}: ${c.status} ${c.reason ?? ''}`);
    assert.deepEqual(bad.slice(0, 10), [], r.stderr.slice(-2000));
    assert.equal(r.status, 0, target);
    assert.equal(rep.cases.filter((c) => c.target === target && c.status === 'passed').length, cases, target);
  }));
}

/**
 * Runs the conformance suite on a guest's two targets: nothing diverged or errored, nothing skipped
 * for want of /dev/ashmem or root, at least 100 scenarios passed per ABI, each detected as c-final.
 */
async function conformOn(target: string, abis: readonly string[]): Promise<ReportJson> {
  const dir = out('conform');
  const r = await cli(['conform', '--target', target, '--out', dir]);
  const rep = report(dir);
  const bad = rep.cases.filter((c) => c.status !== 'passed' && c.status !== 'skipped').map((c) => `${c.target} ${c.id}: ${c.status} ${c.reason ?? ''}`);
  assert.deepEqual(bad, [], r.stderr.slice(-2000));
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const needs = rep.cases.filter((c) => c.status === 'skipped' && /ashmem|root/i.test(c.reason ?? '') && !/not applicable to profile/.test(c.reason ?? ''));
  assert.deepEqual(needs.map((c) => `${c.id}: ${c.reason ?? ''}`), []);
  for (const abi of abis) {
    assert.ok(rep.cases.filter((c) => c.target === abi && c.status === 'passed').length >= 100, `${abi}: fewer than 100 scenarios passed`);
  }
  // Debian's 5.10 driver is the mainline 5.x lineage, found by fingerprint, with the reason.
  for (const t of rep.targets) assert.equal(t.profile, 'c-final', `${t.id}: ${t.profileReason}`);
  return rep;
}

/** The cached Debian kernel folder (filled by the first boot or scripts/setup-vm). */
function cachedKernel(): string {
  const base = path.join(vmCacheRoot(), 'vm', 'debian', 'amd64');
  const name = fs.readdirSync(base).filter((n) => n.startsWith('kernel-') && !n.includes('.tmp-') && !n.endsWith('.lock')).sort().pop();
  assert.ok(name !== undefined, `no cached Debian kernel in ${base}: the conform test should have fetched it`);
  return path.join(base, name);
}

describe('vm target: a real ashmem driver in a QEMU guest (x86_64, both x86 ABIs)', function () {
  this.timeout(900_000);

  before(() => {
    // The guest carries the probes of this checkout: build them if missing or stale (a rebuilt probe is a new initramfs).
    const r = spawnSync(path.join(ROOT, 'scripts', 'build-probe'), ['x86_64', 'x86'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `scripts/build-probe failed (run scripts/setup-host first): ${r.stderr}`);
  });

  it('conform: every scenario passes on both ABIs; none skipped for want of /dev/ashmem or root', async () => {
    const rep = await conformOn('vm:x86_64/all', ['vm:x86_64', 'vm:x86_64/x86']);
    for (const t of rep.targets) {
      assert.match(t.profileReason, /kernel 5\.10\..*unknown ashmem ioctl gives ENOTTY.*2019 check order/);
      assert.match(t.facts.vm?.kernel ?? '', /^Debian linux-image-5\.10\./);
      assert.match(`${t.facts.vm?.accel ?? ''}: ${t.facts.vm?.accelReason ?? ''}`, /^(tcg: TCG|kvm: KVM)/);
    }
  });

  it('run: 300 generated cases per ABI (seed 11) meet zero divergences', async () => {
    await runPerAbi(['vm:x86_64', 'vm:x86_64/x86'], 300, 11);
  });

  it('a harness killed with SIGKILL takes its guest with it (QEMU runs under setpriv --pdeathsig)', async () => {
    const dir = out('killed');
    const harness = spawn(process.execPath, [CLI, 'run', '--target', 'vm', '--cases', '100000', '--seed', '3', '--out', dir], { cwd: ROOT, env: { ...process.env, TMPDIR: SCRATCH }, stdio: 'ignore' });
    try {
      let qemu: number | undefined;
      const deadline = Date.now() + 300_000;
      while (qemu === undefined && Date.now() < deadline && harness.exitCode === null) {
        qemu = descendants(harness.pid as number).find((pid) => cmdline(pid).some((a) => /qemu-system-x86_64$/.test(a)));
        if (qemu === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(qemu !== undefined, `no QEMU appeared under the harness (exit ${harness.exitCode})`);
      // Kill the process that spawned QEMU, as an OOM killer or a CI timeout would: no clean-up runs.
      process.kill(parentOf(qemu), 'SIGKILL');
      const until = Date.now() + 10_000;
      while (alive(qemu) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      const left = alive(qemu);
      if (left) process.kill(qemu, 'SIGKILL');
      assert.equal(left, false, 'QEMU still ran 10 s after the harness was killed');
    } finally {
      harness.kill('SIGKILL');
    }
  });

  it('a fresh boot is a restored snapshot: a drop_caches script gives the same results every time', async () => {
    const t = new VmTarget({ arch: 'x86_64', abi: 'x86_64', id: 'vm:x86_64' });
    try {
      const script = ['open r0', 'set_size r0 16384', 'mmap m0 r0 16384 3 shared 0', 'fill m0 0 16384 0x5a', 'unpin r0 0 4096', 'unpin r0 8192 4096',
        'drop_caches 2', 'drop_caches 2', 'drop_caches 2', 'pin r0 0 4096', 'pin r0 8192 4096', 'check m0 0 16384'].join('\n');
      await t.exec('open r0\nset_size r0 4096\nunpin r0 0 4096\n'); // history the next case must not see
      const a = await t.exec(script);
      const b = await t.exec(script);
      assert.deepEqual(b.results, a.results);
      const f = await t.facts();
      assert.equal(f.vm?.boots, 3, 'each drop_caches case got its own fresh guest');
      assert.equal(f.vm?.boot, 'restored');
    } finally {
      await t.close();
    }
  });

  it('findings of the real driver hold on it: len 0 wrapping at page 0 of a 4 GiB region (test/model/real-driver-findings.test.ts)', async () => {
    for (const abi of ['x86_64', 'x86'] as const) {
      const t = new VmTarget({ arch: 'x86_64', abi, id: abi === 'x86' ? 'vm:x86_64/x86' : 'vm:x86_64' });
      try {
        const o = await t.exec(WRAPPED);
        const v = judge(parseScript(WRAPPED), o.results, profileById('c-final'), environmentFromHello(o.hello), { ...QUIET, otherUsers: false });
        assert.equal(v.kind, 'consistent', `${abi}: ${JSON.stringify(v).slice(0, 600)}`);
        // A 64-bit caller's 4 GiB size stands; a 32-bit caller's unsigned long truncates it (the model knows both).
        if (abi === 'x86_64') assert.equal(o.results.find((r) => r.i === 12)?.errno, 'EPERM', 'lru_count -1 read as an int');
      } finally {
        await t.close();
      }
    }
  });

  it('findings of the real driver hold on it: fds that open or dup no longer name stay open; a vast region (test/model/real-driver-findings.test.ts)', async () => {
    const t = new VmTarget({ arch: 'x86_64', abi: 'x86_64', id: 'vm:x86_64' });
    try {
      const o = await t.exec(UNNAMED_FDS);
      const v = judge(parseScript(UNNAMED_FDS), o.results, profileById('c-final'), environmentFromHello(o.hello), { ...QUIET, otherUsers: false });
      assert.equal(v.kind, 'consistent', JSON.stringify(v).slice(0, 600));
      assert.deepEqual(o.results.filter((r) => r.op === 'purge_all').map((r) => r.ret), [1, 1, 0]);
      const w = await t.exec(VAST);
      const vw = judge(parseScript(VAST), w.results, profileById('c-final'), environmentFromHello(w.hello), { ...QUIET, otherUsers: false, shrinker: 'batches' });
      assert.equal(vw.kind, 'consistent', JSON.stringify(vw).slice(0, 600));
    } finally {
      await t.close();
    }
  });

  it('a guest kernel panic ends the target like a vanished device, naming the panic, console kept', async () => {
    const base = out('inproc');
    const t = withTmpdir(base, () => new VmTarget({ arch: 'x86_64', abi: 'x86_64', id: 'vm:x86_64' }));
    try {
      const first = await t.exec('open r0\nset_size r0 4096\n');
      assert.equal(first.results.length, 2);
      await t.control('echo c > /proc/sysrq-trigger').catch(() => undefined);
      await assert.rejects(t.exec('open r0\n'), (e: unknown) => e instanceof GuestCrashedError && e instanceof DeviceVanishedError && /Kernel panic - not syncing: sysrq triggered crash/.test(e.message));
      const dmesg = await t.captureDmesg();
      assert.ok(dmesg.available && /sysrq triggered crash/.test(dmesg.text));
    } finally {
      await t.close();
    }
    // Closed, the target keeps a crashed guest's console for the user (and only that).
    const kept = fs.readdirSync(base).flatMap((d) => fs.readdirSync(path.join(base, d)).map((f) => path.join(base, d, f)));
    assert.deepEqual(kept.map((f) => path.basename(f)), ['console-1.log']);
    assert.match(fs.readFileSync(kept[0] as string, 'utf8'), /Kernel panic - not syncing: sysrq triggered crash/);
  });

  it('a run whose guest panics: exit 2, one line naming the panic, results so far on disk, the console in the report', async () => {
    const dir = out('panic');
    const r = await cli(['run', '--target', 'vm', '--profile', 'c-final', '--cases', '10', '--seed', '3', '--out', dir], { ASHMEM_HARNESS_VM_TEST_PANIC_AFTER: '3' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /the guest kernel crashed .*Kernel panic - not syncing: sysrq triggered crash/);
    const rows = fs.readFileSync(path.join(dir, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as CaseRow);
    assert.equal(rows.filter((c) => c.status === 'passed').length, 3);
    const lost = report(dir).cases.find((c) => c.status === 'error');
    assert.match(lost?.logs?.dmesg ?? '', /sysrq triggered crash/);
  });

  it("a kernel team's own kernel: --vm-kernel with --vm-module boots and serves the real driver", async () => {
    const k = cachedKernel();
    const modules = fs.readdirSync(path.join(k, 'modules')).sort().flatMap((m) => ['--vm-module', path.join(k, 'modules', m)]);
    const script = path.join(out('own'), 'a.ops');
    fs.writeFileSync(script, 'open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared 0\nunpin r0 0 4096\nstatus r0 0 8192\npurge_all r0\n');
    const r = await cli(['exec', '--target', 'vm', '--vm-kernel', path.join(k, 'vmlinuz'), ...modules, script]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal((lines[0]?.['hello'] as { backend?: string } | undefined)?.backend, 'ashmem');
    assert.deepEqual(lines.slice(1).map((l) => l['ret']), [0, 0, 0, 0, 0, 1]);
  });

  it('a kernel without ashmem: "this kernel has no ashmem", exit 2', async () => {
    const k = cachedKernel();
    const script = path.join(out('noashmem'), 'a.ops');
    fs.writeFileSync(script, 'open r0\n');
    const r = await cli(['exec', '--target', 'vm', '--vm-kernel', path.join(k, 'vmlinuz'), script]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /this kernel has no ashmem: kernel .*vmlinuz .*booted, but no \/dev\/ashmem appeared; pass its module with --vm-module/);
    assert.equal(r.stderr.trim().split('\n').filter((l) => !/booting/.test(l)).length, 1, r.stderr);
  });

  it('no QEMU, a missing kernel file, a package that is no kernel: one clear line each, exit 2, nothing half-written', async () => {
    const script = path.join(out('bad'), 'a.ops');
    fs.writeFileSync(script, 'open r0\n');
    const noQemu = await cli(['exec', '--target', 'vm', script], { PATH: '/nonexistent' });
    assert.equal(noQemu.status, 2);
    assert.match(noQemu.stderr, /qemu-system-x86_64 not found: the vm target needs QEMU \(run scripts\/setup-host/);
    const noFile = await cli(['exec', '--target', 'vm', '--vm-kernel', '/nonexistent/bzImage', script]);
    assert.equal(noFile.status, 2);
    assert.match(noFile.stderr, /\/nonexistent\/bzImage: no such file/);
    const cache = out('cache');
    const notDeb = path.join(cache, 'not-a-kernel.deb');
    fs.writeFileSync(notDeb, 'garbage');
    const bad = await cli(['exec', '--target', 'vm', '--vm-cache', cache, '--vm-kernel-deb', notDeb, script]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unpacking not-a-kernel\.deb failed/);
    const left = fs.readdirSync(path.join(cache, 'vm', 'local-debs'));
    assert.deepEqual(left, [], 'no half-written cache entry');
  });

  it('a kernel that does not boot, an archive that cannot be reached: one line each, exit 2, nothing left in the cache', async () => {
    const script = path.join(out('noboot'), 'a.ops');
    fs.writeFileSync(script, 'open r0\n');
    const junk = path.join(out('junk'), 'bzImage');
    fs.writeFileSync(junk, Buffer.alloc(4096, 0x5a));
    const noBoot = await cli(['exec', '--target', 'vm', '--vm-kernel', junk, script]);
    assert.equal(noBoot.status, 2, noBoot.stderr);
    assert.match(noBoot.stderr, /vm:x86_64: QEMU exited \(status 1\) before the guest was ready: .*/);
    const cache = out('unreachable');
    const offline = await cli(['exec', '--target', 'vm', '--vm-cache', cache, script], { ASHMEM_HARNESS_DEBIAN_MIRROR: 'http://127.0.0.1:9/debian', ASHMEM_HARNESS_DEBIAN_SECURITY_MIRROR: 'http://127.0.0.1:9/debian-security' });
    assert.equal(offline.status, 2, offline.stderr);
    assert.match(offline.stderr, /fetching Debian bullseye's package lists failed: .*127\.0\.0\.1.* \(the archive must be reachable; or pass --vm-kernel-deb PATH/);
    const leftovers = fs.readdirSync(path.join(cache, 'vm', 'debian', 'amd64')).filter((n) => n !== 'apt');
    assert.deepEqual(leftovers, []);
  });
});

describe('vm target on arm64: the real driver under qemu-system-aarch64 (arm64-v8a and armeabi-v7a)', function () {
  this.timeout(900_000);

  before(() => {
    const r = spawnSync(path.join(ROOT, 'scripts', 'build-probe'), ['arm64-v8a', 'armeabi-v7a'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `scripts/build-probe failed (run scripts/setup-host first): ${r.stderr}`);
  });

  it('conform: every scenario passes on both arm ABIs (the 32-bit one through compat_ioctl); facts from the guest', async () => {
    const rep = await conformOn('vm:arm64/all', ['vm:arm64', 'vm:arm64/armeabi-v7a']);
    for (const t of rep.targets) {
      assert.match(t.profileReason, /kernel 5\.10\.\d+-\d+-arm64/);
      assert.match(t.facts.vm?.kernel ?? '', /^Debian linux-image-5\.10\.\d+-\d+-arm64 /);
    }
    const hello = (id: string): { abi?: string; bits?: number; machine?: string; page_size?: number } | undefined =>
      (rep.targets.find((t) => t.id === id)?.facts as { hello?: { abi?: string; bits?: number; machine?: string; page_size?: number } } | undefined)?.hello;
    assert.deepEqual([hello('vm:arm64')?.abi, hello('vm:arm64')?.bits, hello('vm:arm64')?.machine], ['arm64-v8a', 64, 'aarch64']);
    assert.deepEqual([hello('vm:arm64/armeabi-v7a')?.abi, hello('vm:arm64/armeabi-v7a')?.bits], ['armeabi-v7a', 32]);
    assert.ok((hello('vm:arm64')?.page_size ?? 0) > 0);
  });

  it('run: 150 generated cases per arm ABI (seed 13) meet zero divergences', async () => {
    await runPerAbi(['vm:arm64', 'vm:arm64/armeabi-v7a'], 150, 13);
  });
});
