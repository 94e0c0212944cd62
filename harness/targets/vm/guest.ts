/**
 * One QEMU guest: its command line, its console, the ports the host forwards to its agent and
 * control shell, and how it ended. The console is kept (in memory and in a log file) because a
 * kernel oops or panic is a result: it names what broke.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { freeLocalPort } from '../adb/forward-service.js';
import { findOnPath } from '../probe-binary.js';
import { DeviceVanishedError, TargetError, TargetTimeoutError } from '../target.js';
import type { GuestKernel } from './debian-kernel.js';
import { CONSOLE_MARK, GUEST_AGENT_PORT, GUEST_CONTROL_PORT } from './initramfs.js';
import { tethered } from './tether.js';
import type { VmAbi, VmArch } from './vm-spec.js';

/** How the guest's CPU runs. */
export type Accel = 'kvm' | 'tcg';

/** The guest's kernel crashed (oops or panic): a result, reported like a vanished device. */
export class GuestCrashedError extends DeviceVanishedError {
  override readonly name = 'GuestCrashedError';
  override readonly isResult = true;
  constructor(message: string, readonly crashLine: string, readonly consoleLog: string) {
    super(message);
  }
}

/** The kernel booted but cannot serve: no ashmem, no network, a module refused. */
export class GuestSetupError extends TargetError {
  override readonly name = 'GuestSetupError';
}

/** What the guest said when it was ready. */
export interface GuestReady {
  readonly release: string;
  readonly machine: string;
  readonly node: string;
  readonly memoryKiB: number;
}

/** Options of a boot. */
export interface BootOptions {
  readonly arch: VmArch;
  readonly abi: VmAbi;
  readonly kernel: GuestKernel;
  readonly initrd: string;
  readonly accel: Accel;
  readonly memoryMiB: number;
  /** Bound of the boot, to the `ready` line. */
  readonly readyMs: number;
  /** Where the console is written as it arrives. */
  readonly consoleLog: string;
  /** Target id, for messages. */
  readonly label: string;
  /** QEMU's human monitor socket (snapshots). */
  readonly monitor: string;
  /** Restore this migration file (a freshly booted guest saved at its ready line) instead of booting. */
  readonly restore?: { readonly file: string; readonly ready: GuestReady };
}

/** Console lines that mean the kernel crashed. */
const CRASH = /Kernel panic|Oops|BUG: |general protection fault|Unable to handle kernel|kernel BUG at|Internal error:/;

/** Most console text kept in memory. */
const CONSOLE_KEEP = 1 << 20;

/** A word for `sh -c` (QEMU's exec: migration runs a shell). */
function shellWord(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The emulator for a guest architecture. */
export function qemuBinary(arch: VmArch): string {
  return arch === 'x86_64' ? 'qemu-system-x86_64' : 'qemu-system-aarch64';
}

/** The error for an emulator that is not installed. */
function qemuMissing(arch: VmArch): TargetError {
  return new TargetError(`${qemuBinary(arch)} not found: the vm target needs QEMU (run scripts/setup-host, or apt-get install ${arch === 'x86_64' ? 'qemu-system-x86' : 'qemu-system-arm'})`);
}

/** QEMU's arguments for a boot (exported for the tests and the docs). */
export function qemuArgs(o: Omit<BootOptions, 'readyMs' | 'consoleLog' | 'label' | 'monitor' | 'restore'>, agentPort: number, controlPort: number): string[] {
  const consoleDev = o.arch === 'x86_64' ? 'ttyS0' : 'ttyAMA0';
  // oops=panic and panic=-1 with -no-reboot: any oops ends QEMU at once, with the oops on the console.
  const append = `console=${consoleDev} quiet panic=-1 oops=panic rdinit=/init ashmem_harness.abi=${o.abi}`;
  const machine = o.arch === 'x86_64' ? [] : ['-M', 'virt', '-cpu', o.accel === 'kvm' ? 'host' : 'max,pauth-impdef=on'];
  return [
    ...machine,
    '-accel', o.accel,
    '-m', String(o.memoryMiB),
    '-smp', '1',
    '-nodefaults', '-no-user-config', '-display', 'none', '-serial', 'stdio', '-no-reboot',
    '-kernel', o.kernel.image,
    '-initrd', o.initrd,
    '-append', append,
    // restrict=on: the guest reaches nothing outside; only the host's forwards reach it.
    '-netdev', `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${agentPort}-:${GUEST_AGENT_PORT},hostfwd=tcp:127.0.0.1:${controlPort}-:${GUEST_CONTROL_PORT}`,
    '-device', 'virtio-net-pci,netdev=n0,romfile=',
  ];
}

/** A running guest. */
export class Guest {
  private consoleText = '';
  private crash: string | undefined;
  private exitInfo: { code: number | null; signal: string | null } | undefined;
  private readonly exitWaiters: (() => void)[] = [];
  /** When the boot started and when the guest said ready. */
  readonly started = Date.now();
  readyAt = 0;
  ready: GuestReady | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly options: BootOptions,
    readonly agentPort: number,
    readonly controlPort: number,
    /** Whether QEMU dies with the harness even on SIGKILL (false without util-linux's setpriv). */
    readonly tethered: boolean,
  ) {}

  /**
   * Boots a guest and waits (bounded) for its init to say `ready`.
   * @throws GuestSetupError when the init says why it cannot serve; TargetTimeoutError when it says nothing in time
   */
  static async boot(o: BootOptions): Promise<Guest> {
    const agentPort = await freeLocalPort();
    const controlPort = await freeLocalPort();
    fs.rmSync(o.monitor, { force: true });
    const incoming = o.restore !== undefined ? ['-incoming', `exec:cat ${shellWord(o.restore.file)}`] : [];
    const qemu = findOnPath(qemuBinary(o.arch));
    if (qemu === undefined) throw qemuMissing(o.arch);
    // Tethered: a harness killed with SIGKILL takes its guest with it (tether.ts).
    const command = tethered(qemu, [...qemuArgs(o, agentPort, controlPort), '-monitor', `unix:${o.monitor},server=on,wait=off`, ...incoming]);
    const child = spawn(command.file, command.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const guest = new Guest(child, o, agentPort, controlPort, command.tethered);
    fs.writeFileSync(o.consoleLog, '');
    if (o.restore !== undefined) {
      const restored = o.restore;
      const watched = guest.waitReady();
      watched.catch(() => undefined);
      await Promise.race([guest.resume(o.readyMs), watched]);
      guest.ready = restored.ready;
      guest.readyAt = Date.now();
      guest.settleReady?.();
    } else await guest.waitReady();
    return guest;
  }

  /** Resolves the boot's wait once a restored guest runs (it prints no ready line). */
  private settleReady: (() => void) | undefined;

  /** Sends monitor commands and returns what the monitor answered (bounded). */
  async monitorCommand(commands: readonly string[], ms: number, until?: RegExp): Promise<string> {
    const deadline = Date.now() + ms;
    let sock: net.Socket | undefined;
    while (sock === undefined) {
      sock = await new Promise<net.Socket | undefined>((resolve) => {
        const c = net.connect(this.options.monitor);
        c.once('connect', () => resolve(c));
        c.once('error', () => resolve(undefined));
      });
      if (sock === undefined) {
        if (this.exitInfo !== undefined || Date.now() > deadline) throw new TargetTimeoutError(`${this.options.label}: QEMU's monitor did not answer`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const s = sock;
    let text = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      text += d;
    });
    s.on('error', () => undefined);
    try {
      for (const c of commands) s.write(`${c}\n`);
      for (;;) {
        if (until === undefined ? text.split('(qemu)').length > commands.length : until.test(text)) return text;
        if (this.exitInfo !== undefined || Date.now() > deadline) throw new TargetTimeoutError(`${this.options.label}: QEMU's monitor did not finish ${commands.join('; ')}: ${text.slice(-200)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      s.destroy();
    }
  }

  /** Waits for an incoming migration to load, then lets the guest run. */
  private async resume(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const status = await this.monitorCommand(['info status'], Math.max(1_000, deadline - Date.now()));
      if (/VM status: running/.test(status)) return;
      if (/VM status: paused(?! \(inmigrate\))/.test(status)) {
        await this.monitorCommand(['cont'], 5_000);
        return;
      }
      if (Date.now() > deadline) throw new TargetTimeoutError(`${this.options.label}: the snapshot did not load within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 30));
    }
  }

  /**
   * Saves the guest as it is (call it at the ready line: a freshly booted guest) into `file`
   * through QEMU's migration, then lets it run on.
   */
  async saveSnapshot(file: string, ms: number): Promise<void> {
    await this.monitorCommand(['stop', `migrate "exec:cat > ${shellWord(file)}"`], ms);
    try {
      const deadline = Date.now() + ms;
      for (;;) {
        const info = await this.monitorCommand(['info migrate'], Math.max(1_000, deadline - Date.now()));
        if (/Migration status: completed/.test(info)) return;
        if (/Migration status: (failed|cancelled)/.test(info)) throw new TargetError(`${this.options.label}: saving the fresh guest failed: ${/Migration status: .*/.exec(info)?.[0] ?? ''}`);
        if (Date.now() > deadline) throw new TargetTimeoutError(`${this.options.label}: saving the fresh guest did not finish within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await this.monitorCommand(['cont'], 5_000);
    }
  }

  private waitReady(): Promise<void> {
    const o = this.options;
    return new Promise<void>((resolve, reject) => {
      let pending = '';
      let settled = false;
      const settle = (e?: Error): void => {
        this.settleReady = undefined;
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (e !== undefined) {
          this.kill();
          reject(e);
        } else resolve();
      };
      const timer = setTimeout(() => settle(new TargetTimeoutError(`${o.label}: the guest did not come up within ${Math.round(o.readyMs / 1000)} s (${o.accel}); console: ${this.tail(300)}`)), o.readyMs);
      timer.unref();
      this.settleReady = () => settle();
      const onData = (chunk: Buffer): void => {
        const text = chunk.toString('latin1');
        fs.appendFileSync(o.consoleLog, text);
        this.consoleText = (this.consoleText + text).slice(-CONSOLE_KEEP);
        pending += text;
        let nl = pending.indexOf('\n');
        while (nl >= 0) {
          const line = pending.slice(0, nl).replace(/\r$/, '');
          pending = pending.slice(nl + 1);
          this.line(line, settle);
          nl = pending.indexOf('\n');
        }
      };
      this.child.stdout?.on('data', onData);
      this.child.stderr?.on('data', onData);
      this.child.on('error', (e: NodeJS.ErrnoException) => {
        settle(e.code === 'ENOENT' ? qemuMissing(o.arch) : new TargetError(`${o.label}: cannot start ${qemuBinary(o.arch)}: ${e.message}`));
      });
      this.child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        for (const w of this.exitWaiters.splice(0)) w();
        if (this.crash !== undefined) settle(new GuestCrashedError(`${o.label}: the guest kernel crashed while booting: ${this.crash}`, this.crash, this.consoleText));
        else settle(new GuestSetupError(`${o.label}: QEMU exited (${signal ?? `status ${code}`}) before the guest was ready: ${this.tail(400)}`));
      });
    });
  }

  private line(line: string, settle: (e?: Error) => void): void {
    if (this.crash === undefined && CRASH.test(line)) this.crash = line.replace(/^\[\s*[\d.]+\]\s*/, '').trim();
    const at = line.indexOf(`${CONSOLE_MARK} `);
    if (at < 0) return;
    const [what, ...rest] = line.slice(at + CONSOLE_MARK.length + 1).trim().split(/\s+/);
    const o = this.options;
    if (what === 'ready') {
      const [release = '', machine = '', node = '', mem = '0'] = rest;
      this.ready = { release, machine, node, memoryKiB: Number(mem) };
      this.readyAt = Date.now();
      settle();
    } else if (what === 'no-ashmem') {
      settle(new GuestSetupError(`this kernel has no ashmem: ${o.kernel.source} (${rest[0] ?? '?'}) booted, but no /dev/ashmem appeared${o.kernel.modules.some((m) => m.includes('ashmem')) ? ' (the ashmem module was loaded: see the console log)' : '; pass its module with --vm-module PATH, or build the kernel with CONFIG_ASHMEM=y'}`));
    } else if (what === 'no-network') {
      settle(new GuestSetupError(`${o.label}: the guest has no virtio network device (eth0): build the kernel with CONFIG_VIRTIO_PCI=y and CONFIG_VIRTIO_NET=y, or pass those modules with --vm-module`));
    } else if (what === 'insmod-failed') {
      fs.appendFileSync(o.consoleLog, '');
      if ((rest[0] ?? '').startsWith('ashmem')) settle(new GuestSetupError(`this kernel has no ashmem: insmod ${rest[0] ?? ''} failed: ${rest.slice(1).join(' ')} (a module built for another kernel?)`));
    } else if (what === 'no-probe' || what === 'agent-failed') {
      settle(new GuestSetupError(`${o.label}: the probe agent did not start in the guest (${what} ${rest.join(' ')})`));
    }
  }

  /** The last characters of the console, on one line. */
  tail(chars: number): string {
    // Terminal escapes the firmware writes (ESC [ ... letter) are dropped, other control bytes blanked.
    const esc = String.fromCharCode(27);
    const t = this.consoleText.split(esc).map((part, n) => (n === 0 ? part : part.replace(/^\[[0-9;?]*[A-Za-z]/, ''))).join('').replace(/[^\x20-\x7e]+/g, ' ').replace(/\s+/g, ' ').trim();
    return t.length > chars ? `…${t.slice(-chars)}` : t || '(nothing)';
  }

  /** The whole console kept so far. */
  get console(): string {
    return this.consoleText;
  }

  /** The oops or panic line, once the kernel printed one. */
  get crashLine(): string | undefined {
    return this.crash;
  }

  /** How QEMU ended, once it has. */
  get exit(): { code: number | null; signal: string | null } | undefined {
    return this.exitInfo;
  }

  /** Resolves when QEMU has exited (bounded by `ms`); true if it did. */
  async exited(ms: number): Promise<boolean> {
    if (this.exitInfo !== undefined) return true;
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.exitWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** The error a lost connection means: a crash (with its line) or a guest that went away. */
  lostError(what: string): DeviceVanishedError {
    if (this.crash !== undefined) return new GuestCrashedError(`${this.options.label}: the guest kernel crashed ${what}: ${this.crash} (console log: ${this.options.consoleLog})`, this.crash, this.consoleText);
    return new DeviceVanishedError(`${this.options.label}: the guest went away ${what}${this.exitInfo !== undefined ? ` (QEMU exited: ${this.exitInfo.signal ?? `status ${this.exitInfo.code}`})` : ''} (console log: ${this.options.consoleLog})`);
  }

  /**
   * Runs a command in the guest's control shell; returns its output and exit status (bounded).
   */
  async shell(command: string, ms: number): Promise<{ output: string; status: number }> {
    const marker = `@@done-${Date.now().toString(36)}`;
    return new Promise((resolve, reject) => {
      const sock = net.connect(this.controlPort, '127.0.0.1');
      let out = '';
      const timer = setTimeout(() => {
        sock.destroy();
        reject(this.exitInfo !== undefined ? this.lostError('during a control command') : new TargetTimeoutError(`${this.options.label}: a control command did not answer within ${ms} ms`));
      }, ms);
      sock.setEncoding('latin1');
      sock.on('connect', () => sock.write(`${command}\necho "${marker} $?"\nexit\n`));
      sock.on('data', (d: string) => {
        out += d;
      });
      sock.on('error', () => undefined);
      sock.on('close', () => {
        clearTimeout(timer);
        const at = out.lastIndexOf(`${marker} `);
        if (at < 0) {
          reject(this.exitInfo !== undefined ? this.lostError('during a control command') : new DeviceVanishedError(`${this.options.label}: the control shell closed without an answer`));
          return;
        }
        resolve({ output: out.slice(0, at), status: Number.parseInt(out.slice(at + marker.length + 1), 10) });
      });
    });
  }

  /** Powers the guest off at once (QEMU is killed; nothing in the guest needs saving). */
  kill(): void {
    if (this.exitInfo === undefined) this.child.kill('SIGKILL');
  }
}
