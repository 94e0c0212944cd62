/**
 * The devices the adb test suite runs on (TEST INFRASTRUCTURE): each behind a loopback ADB
 * daemon, reached through the real adb server and adbkit exactly as a phone would be.
 *
 * * `host` — the daemon serves THIS machine's shell (the probe meets memfd, or whatever this
 *   kernel has).
 * * `vm` — the daemon serves a QEMU guest of the `vm` target (Debian 11's 5.10 kernel with its
 *   `ashmem_linux.ko`), so the probe the adb target pushes meets the real /dev/ashmem:
 *   adbkit → adb server → daemon → a shell in the guest → the probe → the driver. Guests boot from
 *   the vm cache's fresh-boot snapshot (about a second); `scripts/setup-vm` fills the cache.
 *
 * A suite runs once per backend: `for (const backend of adbBackends()) describe(..., () => ...)`.
 * Checks of the device itself (a file's mode, what the probe prints when run there directly) go
 * around adb: on this machine through `sh`, in the guest through the vm target's control shell,
 * so the adb path is never checked against itself.
 */
import { execFile, execFileSync } from 'node:child_process';
import type { OpResult } from '../../harness/ops/result.js';
import { probeBinaryPath } from '../../harness/targets/adb/probe-binary-path.js';
import { VmTarget } from '../../harness/targets/vm/vm-target.js';
import { parseVmTargetSpec } from '../../harness/targets/vm/vm-spec.js';
import { GuestDevice, LoopbackAdbd, type LoopbackAdbdOptions } from './loopback-adbd/index.js';
import { requireProbe } from './private-adb-server.js';

/** Quotes a word for sh (host and guest). */
function sq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Result lines of a probe run. */
function resultLines(output: string): OpResult[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{"i"'))
    .map((l) => JSON.parse(l) as OpResult);
}

/** One device behind one loopback daemon. */
export interface BackendDevice {
  readonly daemon: LoopbackAdbd;
  /** Runs `command` (sh) on the device around adb: output (stderr merged) and status. */
  sh(command: string): Promise<{ output: string; status: number }>;
  /** The probe run on the device around adb (stdin mode): what the adb path must reproduce. */
  probeDirect(script: string, abi?: string): Promise<OpResult[]>;
  /** The device vanishes mid-run: this machine's daemon is killed; a guest is powered off. */
  lose(): Promise<void>;
  /** Stops the daemon (and powers off a guest of its own). */
  close(): Promise<void>;
}

/** Options of a device. */
export interface DeviceOptions extends Omit<LoopbackAdbdOptions, 'device'> {
  /**
   * A device of its own (one that may be lost). On `host` every daemon is one; on `vm` devices
   * share the suite's guest unless they ask for their own (a guest boot from the snapshot).
   */
  readonly own?: boolean;
  /** `vm`: the shells' uid until `adb root` (default 0). */
  readonly shellUid?: 0 | 2000;
}

/** A device kind the adb suite runs on. */
export interface AdbBackend {
  readonly name: 'host' | 'vm';
  /** How the suite title names it. */
  readonly title: string;
  /** The probe backend the hello must report there. */
  readonly probeBackend: 'memfd' | 'ashmem';
  /** Builds what it needs (probes) and boots what it shares; call from `before` (allow minutes). */
  setup(): Promise<void>;
  /** A started daemon serving a device. */
  device(options?: DeviceOptions): Promise<BackendDevice>;
  /** Releases the suite's shared resources (the shared guest); call from `after`. */
  teardown(): Promise<void>;
}

function runHost(command: string): Promise<{ output: string; status: number }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', `${command} 2>&1`], { encoding: 'utf8', timeout: 30_000 }, (error, stdout) => {
      resolve({ output: stdout, status: error === null ? 0 : typeof error.code === 'number' ? error.code : 1 });
    });
  });
}

/** This machine's shell. */
class HostBackend implements AdbBackend {
  readonly name = 'host';
  readonly title = "this machine's shell";
  readonly probeBackend = 'memfd';

  async setup(): Promise<void> {
    requireProbe();
  }

  async device(options: DeviceOptions = {}): Promise<BackendDevice> {
    // Every daemon here is a device of its own (`own` changes nothing), and this machine's uid
    // is what it is (`shellUid` does not apply).
    const daemon = new LoopbackAdbd(options);
    await daemon.start();
    return {
      daemon,
      sh: runHost,
      probeDirect: async (script, abi = 'x86_64') => {
        const out = execFileSync(probeBinaryPath(abi), [], { input: script, encoding: 'utf8', timeout: 20_000 });
        return resultLines(out);
      },
      lose: async () => daemon.kill(),
      close: () => daemon.close(),
    };
  }

  async teardown(): Promise<void> {
    // Nothing shared.
  }
}

/** A QEMU guest with the real ashmem driver. */
class VmBackend implements AdbBackend {
  readonly name = 'vm';
  readonly title = 'a vm guest (Debian 5.10, real /dev/ashmem)';
  readonly probeBackend = 'ashmem';
  private shared: VmTarget | undefined;
  private readonly own = new Set<VmTarget>();

  async setup(): Promise<void> {
    // The guest's initramfs carries this checkout's probes (both x86 ABIs).
    requireProbe('x86_64');
    requireProbe('x86');
    // Boot the suite's guest now, within `before`'s budget: new probe builds make a new
    // initramfs, whose first boot is a real one under TCG (and saves the snapshot later boots use).
    this.shared ??= this.guest();
    await this.shared.controlAddress();
  }

  private guest(): VmTarget {
    const spec = parseVmTargetSpec('vm:x86_64')[0];
    if (spec === undefined) throw new Error('vm:x86_64 did not parse');
    return new VmTarget(spec);
  }

  async device(options: DeviceOptions = {}): Promise<BackendDevice> {
    const { own, shellUid, ...daemonOptions } = options;
    let vm: VmTarget;
    if (own === true) {
      vm = this.guest();
      this.own.add(vm);
    } else {
      this.shared ??= this.guest();
      vm = this.shared;
    }
    const control = await vm.controlAddress();
    const daemon = new LoopbackAdbd({
      abis: ['x86_64', 'x86'],
      // A debuggable build: `adb root` is allowed (it restarts adbd).
      root: 'restart',
      ...daemonOptions,
      device: new GuestDevice({ control, abis: ['x86_64', 'x86'], ...(shellUid !== undefined ? { shellUid } : {}) }),
    });
    await daemon.start();
    const sh = async (command: string): Promise<{ output: string; status: number }> => vm.control(`{ ${command}\n} 2>&1`);
    return {
      daemon,
      sh,
      probeDirect: async (script, abi = 'x86_64') => {
        // The initramfs's own copy of this checkout's probe, run by the guest's root shell.
        const r = await sh(`printf '%s' ${sq(script)} | /probe/${abi}/ashmem-probe`);
        if (r.status !== 0) throw new Error(`the probe in the guest exited with ${r.status}: ${r.output.slice(-300)}`);
        return resultLines(r.output);
      },
      lose: async () => {
        if (vm === this.shared) this.shared = undefined;
        await vm.close();
      },
      close: async () => {
        await daemon.close();
        if (this.own.delete(vm)) await vm.close();
      },
    };
  }

  async teardown(): Promise<void> {
    for (const vm of this.own) await vm.close();
    this.own.clear();
    await this.shared?.close();
    this.shared = undefined;
  }
}

/** The op that sizes a region on a probe backend: ftruncate on memfd, ASHMEM_SET_SIZE on ashmem. */
export function sizeOp(probeBackend: string): 'set_size' | 'truncate' {
  return probeBackend === 'ashmem' ? 'set_size' : 'truncate';
}

/** Case n on a backend: a script whose results identify it (the bytes read back are n mod 256). */
export function numberedCase(backend: AdbBackend, n: number): string {
  return `open r0\n${sizeOp(backend.probeBackend)} r0 4096\nmmap m0 r0 4096 3 shared 0\nfill m0 0 4096 ${n % 256}\ncheck m0 0 4096\nclose r0\n`;
}

/** The backends an adb suite runs on, in order (fresh ones per suite: the vm one holds its guests). */
export function adbBackends(): AdbBackend[] {
  return [new HostBackend(), new VmBackend()];
}
