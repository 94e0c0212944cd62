/**
 * The `vm` target: a QEMU guest booting a kernel with a real ashmem driver (Debian 11's 5.10 kernel
 * and its `ashmem_linux.ko` by default, or a kernel team's own), its init serving the probe's agent
 * over QEMU's user-mode network (a forward to 127.0.0.1 only; the guest reaches nothing else).
 * One boot per target; each case runs in a fresh worker of the agent, as on adb. A fresh boot is
 * available for cases whose outcome depends on the kernel's history (§5.2, §12).
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { OpResult } from '../../ops/result.js';
import { AgentConnection } from '../adb/agent-connection.js';
import { repositoryRoot } from '../probe-binary.js';
import { TargetError, TargetTimeoutError, type ExecOutcome, type Target, type TargetFacts, type VmFacts } from '../target.js';
import { hostBootId, kvmCandidate } from './accel.js';
import { cachedEntry, vmCacheRoot } from './cache.js';
import { debianBusybox, type GuestKernel } from './debian-kernel.js';
import { guestInitramfs, guestKernel } from './guest-image.js';
import { Guest, qemuBinary, type Accel, type GuestReady } from './guest.js';
import { DEFAULT_VM_MEMORY_MIB, type VmOptions } from './vm-options.js';
import type { VmTargetSpec } from './vm-spec.js';

export { DEFAULT_VM_MEMORY_MIB, type VmOptions } from './vm-options.js';

/** Bound of a boot under TCG (a busy 2-core machine boots in 10–20 s). */
const TCG_BOOT_MS = 180_000;
/** Bound of the KVM trial: a healthy KVM guest is ready in a second or two. */
const KVM_TRIAL_MS = 12_000;
/** Bound of one case. */
const CASE_MS = 180_000;
/** Bound of a control command. */
const CONTROL_MS = 20_000;
/** Bound of saving or loading a fresh guest. */
const SNAPSHOT_MS = 120_000;

/**
 * Scripts whose outcome depends on the kernel's history, not only on the script: the shrinker's
 * deferred work and the other caches that decide how often drop_caches repeats (§5.2, §12). They
 * run on a freshly booted guest.
 */
export function needsFreshBoot(script: string): boolean {
  return /^[ \t]*(?:p\d+:[ \t]*)?(?:drop_caches|pressure)\b/m.test(script);
}

/** Removes older snapshots of the same guest, ABI and accelerator (each is tens of MB). */
function pruneSnapshots(keep: string): void {
  const dir = path.dirname(keep);
  const prefix = path.basename(keep).replace(/[0-9a-f]+$/, '');
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(prefix) && /^[\w.-]+-[0-9a-f]{20}$/.test(name) && path.join(dir, name) !== keep) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

/** Test only: the guest's kernel is made to panic before case N+1 (`ASHMEM_HARNESS_VM_TEST_PANIC_AFTER=N`). */
const PANIC_AFTER_ENV = 'ASHMEM_HARNESS_VM_TEST_PANIC_AFTER';

/** QEMU's version line (part of a snapshot's key: another QEMU may not load it). */
function qemuVersion(binary: string): string {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 }).split('\n')[0] ?? '';
  } catch {
    return 'unknown';
  }
}

/** Runs op scripts on a real ashmem driver in a QEMU guest. */
export class VmTarget implements Target {
  readonly id: string;
  private readonly cache: string;
  private guest: Guest | undefined;
  private booting: Promise<Guest> | undefined;
  private accel: { accel: Accel; reason: string } | undefined;
  private kernel: GuestKernel | undefined;
  private initrd: string | undefined;
  private agent: AgentConnection | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private boots = 0;
  private casesSinceBoot = 0;
  private casesRun = 0;
  private qemuVersionLine: string | undefined;
  private bootKind: 'booted' | 'restored' = 'booted';
  private readonly workDir: string;
  private closed = false;
  /**
   * Test only ({@link PANIC_AFTER_ENV}): the case count after which the guest is made to panic,
   * NaN when unset. Read once here: it is a hook of the test that spawns the harness, not a
   * setting that changes while a target runs.
   */
  private readonly panicAfter = Number(process.env[PANIC_AFTER_ENV] ?? 'NaN');

  constructor(readonly spec: VmTargetSpec, private readonly options: VmOptions = {}) {
    this.id = spec.id;
    this.cache = vmCacheRoot(options.cache);
    this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), `ashmem-vm-${spec.arch}-`));
  }

  /** The console log of the current (or last) boot. */
  get consoleLogPath(): string {
    return path.join(this.workDir, `console-${this.boots}.log`);
  }

  private async prepare(): Promise<void> {
    if (this.initrd !== undefined) return;
    this.kernel = await guestKernel(this.spec, this.options, this.cache);
    const busybox = await debianBusybox(this.spec.arch, { cache: this.cache, ...(this.options.progress !== undefined ? { progress: this.options.progress } : {}) });
    this.initrd = await guestInitramfs(this.spec, this.kernel, busybox, this.cache, this.options.root ?? repositoryRoot());
  }

  /** The cache folder of this guest's fresh-boot snapshot under an accelerator. */
  private snapshotDir(accel: Accel): string {
    const kernel = this.kernel;
    const initrd = this.initrd;
    if (kernel === undefined || initrd === undefined) throw new TargetError('internal: vm target not prepared');
    const stat = fs.statSync(kernel.image);
    this.qemuVersionLine ??= qemuVersion(qemuBinary(this.spec.arch));
    const key = crypto.createHash('sha256')
      .update([this.qemuVersionLine, kernel.image, stat.size, stat.mtimeMs, initrd, this.spec.abi, this.options.memoryMiB ?? DEFAULT_VM_MEMORY_MIB, accel].join('\n'))
      .digest('hex').slice(0, 20);
    return path.join(this.cache, 'vm', 'snapshots', `${this.spec.arch}-${this.spec.abi}-${accel}-${key}`);
  }

  /**
   * A freshly booted guest: restored from the cached snapshot of one (a fraction of a second), or
   * booted (and then saved as that snapshot for every later fresh boot).
   */
  private async bootOnce(accel: Accel, readyMs: number): Promise<Guest> {
    const kernel = this.kernel;
    const initrd = this.initrd;
    if (kernel === undefined || initrd === undefined) throw new TargetError('internal: vm target not prepared');
    this.boots += 1;
    this.casesSinceBoot = 0;
    const base = { arch: this.spec.arch, abi: this.spec.abi, kernel, initrd, accel, memoryMiB: this.options.memoryMiB ?? DEFAULT_VM_MEMORY_MIB, readyMs, consoleLog: this.consoleLogPath, label: this.id, monitor: path.join(this.workDir, 'monitor.sock') };
    const snap = this.snapshotDir(accel);
    const readyFile = path.join(snap, 'ready.json');
    if (this.options.coldBoots !== true && fs.existsSync(readyFile)) {
      try {
        const ready = JSON.parse(fs.readFileSync(readyFile, 'utf8')) as GuestReady;
        const g = await Guest.boot({ ...base, restore: { file: path.join(snap, 'guest.mig'), ready } });
        this.bootKind = 'restored';
        return g;
      } catch (e) {
        if (!(e instanceof TargetError)) throw e;
        // A snapshot this QEMU cannot load any more: boot, and save a new one.
        fs.rmSync(snap, { recursive: true, force: true });
      }
    }
    const g = await Guest.boot(base);
    this.bootKind = 'booted';
    const ready = g.ready;
    if (ready !== undefined && this.options.coldBoots !== true) {
      try {
        await cachedEntry(snap, SNAPSHOT_MS, undefined, async (tmp) => {
          fs.mkdirSync(tmp, { recursive: true });
          await g.saveSnapshot(path.join(tmp, 'guest.mig'), SNAPSHOT_MS);
          fs.writeFileSync(path.join(tmp, 'ready.json'), JSON.stringify(ready));
        });
        pruneSnapshots(snap);
      } catch (e) {
        // Without a snapshot every fresh boot is a real boot: slower, not wrong.
        this.options.progress?.(`${this.id}: could not save a fresh-boot snapshot (${e instanceof Error ? e.message : String(e)}); fresh boots will reboot`);
      }
    }
    return g;
  }

  /** Chooses KVM or TCG (trying KVM once per host boot, the verdict cached) and boots. */
  private async bootChoosingAccel(): Promise<Guest> {
    if (this.accel !== undefined) return this.bootOnce(this.accel.accel, this.accel.accel === 'kvm' ? KVM_TRIAL_MS * 3 : TCG_BOOT_MS);
    const wanted = this.options.accel ?? 'auto';
    if (wanted === 'tcg') {
      this.accel = { accel: 'tcg', reason: 'TCG as asked (--vm-accel tcg)' };
      return this.bootOnce('tcg', TCG_BOOT_MS);
    }
    const unusable = kvmCandidate(this.spec.arch);
    if (unusable !== undefined) {
      if (wanted === 'kvm') throw new TargetError(`--vm-accel kvm: ${unusable}`);
      this.accel = { accel: 'tcg', reason: `TCG: ${unusable}` };
      return this.bootOnce('tcg', TCG_BOOT_MS);
    }
    const verdictFile = path.join(this.cache, 'vm', `kvm-${this.spec.arch}-${hostBootId()}`);
    const known = fs.existsSync(verdictFile) ? fs.readFileSync(verdictFile, 'utf8').trim() : undefined;
    if (known !== undefined && known !== 'kvm' && wanted === 'auto') {
      this.accel = { accel: 'tcg', reason: `TCG: ${known} (tried earlier since this host booted)` };
      return this.bootOnce('tcg', TCG_BOOT_MS);
    }
    try {
      const g = await this.bootOnce('kvm', wanted === 'kvm' ? TCG_BOOT_MS : KVM_TRIAL_MS);
      this.accel = { accel: 'kvm', reason: 'KVM: /dev/kvm booted the guest' };
      fs.writeFileSync(verdictFile, 'kvm\n');
      return g;
    } catch (e) {
      if (wanted === 'kvm' || !(e instanceof TargetError)) throw e;
      const why = e instanceof TargetTimeoutError ? `/dev/kvm did not boot the guest within ${KVM_TRIAL_MS / 1000} s` : `/dev/kvm failed: ${e.message.slice(0, 120)}`;
      try {
        fs.writeFileSync(verdictFile, `${why}\n`);
      } catch {
        // the verdict is only a shortcut for the next run
      }
      this.accel = { accel: 'tcg', reason: `TCG: ${why}` };
      return this.bootOnce('tcg', TCG_BOOT_MS);
    }
  }

  /** The running guest, booted on first use (concurrent callers share one boot). */
  private async running(): Promise<Guest> {
    if (this.closed) throw new TargetError(`${this.id} is closed`);
    if (this.guest !== undefined && this.guest.exit === undefined) return this.guest;
    this.booting ??= (async () => {
      await this.prepare();
      // Said once: later (fresh) boots are restored snapshots, one per drop_caches case.
      if (this.boots === 0) this.options.progress?.(`${this.id}: booting ${this.kernel?.source ?? 'the guest'}`);
      const g = await this.bootChoosingAccel();
      this.guest = g;
      await this.connect(g);
      return g;
    })().finally(() => {
      this.booting = undefined;
    });
    return this.booting;
  }

  private async connect(g: Guest): Promise<void> {
    const sock = net.connect(g.agentPort, '127.0.0.1');
    sock.setNoDelay(true);
    this.agent = await AgentConnection.greet(sock, CONTROL_MS, `${this.id} agent hello`, (first) =>
      g.exit !== undefined ? g.lostError('before its agent answered') : new TargetError(`${this.id}: the guest's agent greeted with ${JSON.stringify(first ?? '(connection closed)')} instead of a hello line`));
  }

  /** Facts: the probe's hello from the guest, and the guest's own. */
  async facts(): Promise<TargetFacts> {
    const g = await this.running();
    const hello = this.agent?.hello;
    if (hello === undefined || g.ready === undefined || this.accel === undefined) throw new TargetError(`${this.id}: no hello from the guest`);
    const vm: VmFacts = {
      arch: this.spec.arch,
      kernel: this.kernel?.source ?? '?',
      accel: this.accel.accel,
      accelReason: this.accel.reason,
      memoryKiB: g.ready.memoryKiB,
      node: g.ready.node,
      bootMs: g.readyAt - g.started,
      boot: this.bootKind,
      boots: this.boots,
    };
    return { hello, vm };
  }

  /** Runs one case in a fresh worker of the guest's agent (cases queue behind each other). */
  exec(script: string, onResult?: (result: OpResult) => void): Promise<ExecOutcome> {
    const run = this.queue.then(() => this.execNow(script, onResult));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async execNow(script: string, onResult: ((result: OpResult) => void) | undefined): Promise<ExecOutcome> {
    if (needsFreshBoot(script) && this.casesSinceBoot > 0) await this.restart();
    const g = await this.running();
    this.casesRun += 1;
    if (this.casesRun === this.panicAfter + 1) {
      // A real oops path: sysrq-c dereferences NULL in the kernel, and oops=panic ends QEMU.
      await g.shell('echo c > /proc/sysrq-trigger', CONTROL_MS).catch(() => undefined);
    }
    this.casesSinceBoot += 1;
    const agent = this.agent;
    if (agent === undefined) throw new TargetError(`${this.id}: the guest's agent is not connected`);
    try {
      return await agent.runCase(script, onResult, CASE_MS, `${this.id} case`, async (partial) => {
        await g.exited(3_000);
        return g.lostError(`after ${partial.length} result(s) of a case`);
      });
    } catch (e) {
      if (e instanceof TargetTimeoutError && g.crashLine !== undefined) throw g.lostError('during a case');
      throw e;
    }
  }

  /**
   * A freshly booted guest for the next case: the global LRU empty and the shrinker's deferred
   * work at zero, as in §12's observations.
   */
  async freshBoot(): Promise<void> {
    await this.queue;
    await this.restart();
  }

  private async restart(): Promise<void> {
    this.disconnect();
    this.guest?.kill();
    await this.guest?.exited(5_000);
    this.guest = undefined;
    await this.running();
  }

  /** Runs a command in the guest's control shell (tests, logs). */
  async control(command: string): Promise<{ output: string; status: number }> {
    const g = await this.running();
    return g.shell(command, CONTROL_MS);
  }

  /**
   * The host end of the running guest's control shell, booting the guest if needed: each TCP
   * connection to `127.0.0.1:port` is a fresh busybox `sh` in the guest, as root, its stdin and
   * stdout the connection (stderr goes to the guest's console). For tools that drive the guest
   * themselves (the tests' loopback ADB daemon serves it to the adb target); the port changes
   * with every boot.
   */
  async controlAddress(): Promise<{ readonly host: string; readonly port: number }> {
    const g = await this.running();
    return { host: '127.0.0.1', port: g.controlPort };
  }

  /** No Android userspace in the guest: there is no logcat. */
  async captureLogcat(): Promise<{ available: false; reason: string }> {
    return { available: false, reason: 'a vm guest has no Android userspace (no logcat)' };
  }

  /** The guest's kernel log: dmesg while it runs, its console log once it is gone. */
  async captureDmesg(lines = 400): Promise<{ available: true; text: string } | { available: false; reason: string }> {
    const g = this.guest;
    if (g === undefined) return { available: false, reason: 'the guest is not running' };
    if (g.exit === undefined) {
      try {
        const r = await g.shell(`dmesg | tail -n ${lines}`, CONTROL_MS);
        return { available: true, text: r.output };
      } catch {
        // fall through to the console
      }
    }
    return { available: true, text: `(console log, ${g.options.consoleLog})\n${g.console.split('\n').slice(-lines).join('\n')}` };
  }

  private disconnect(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  /** @inheritdoc */
  replayArgs(): readonly string[] {
    const o = this.options;
    return [
      '--target', this.id,
      ...(o.kernel !== undefined ? ['--vm-kernel', o.kernel] : []),
      ...(o.modules ?? []).flatMap((m) => ['--vm-module', m]),
      ...(o.kernelDeb !== undefined ? ['--vm-kernel-deb', o.kernelDeb] : []),
      ...(o.cache !== undefined ? ['--vm-cache', o.cache] : []),
      ...(o.accel !== undefined && o.accel !== 'auto' ? ['--vm-accel', o.accel] : []),
      ...(o.memoryMiB !== undefined ? ['--vm-memory', String(o.memoryMiB)] : []),
    ];
  }

  /** Powers the guest off and removes its work folder (the console log of a crash is kept). */
  async close(): Promise<void> {
    this.closed = true;
    this.disconnect();
    const g = this.guest;
    g?.kill();
    await g?.exited(5_000);
    if (g?.crashLine === undefined) fs.rmSync(this.workDir, { recursive: true, force: true });
  }
}
