/**
 * Where op scripts run: this machine's kernel (`local`) or a device over adb (`adb:SERIAL`).
 * Every target runs a whole script in one round trip and streams the results back.
 */
import type { OpResult } from '../ops/result.js';

/** The probe's first line: what it found on the target. */
export interface ProbeHello {
  readonly probe: string;
  /** `uname -r`. */
  readonly kernel: string;
  /** `uname -m`. */
  readonly machine: string;
  /** The ABI the probe was built for: arm64-v8a, armeabi-v7a, x86_64, x86, or host. */
  readonly abi: string;
  /** The probe's own word size (32 on a 64-bit kernel means compat ioctls). */
  readonly bits: 32 | 64;
  readonly backend: 'ashmem' | 'memfd';
  /** The device node opened, on the ashmem backend. */
  readonly node?: string;
  readonly uid: number;
  readonly page_size: number;
  /** Total RAM and swap in bytes (sysinfo), when the probe could read them: the overcommit limit (issue 12 §1). */
  readonly mem_bytes?: number;
  readonly swap_bytes?: number;
  readonly features: readonly string[];
}

/** How a probe runs on this machine: `native`, or under a qemu-user emulator (`qemu-user:qemu-i386-static`). */
export type ProbeRunner = 'native' | `qemu-user:${string}`;

/** What a vm target booted and how. */
export interface VmFacts {
  /** `x86_64` or `arm64`. */
  readonly arch: string;
  /** Where the kernel came from (a Debian package, or the user's own image). */
  readonly kernel: string;
  /** `kvm` or `tcg`, and why. */
  readonly accel: 'kvm' | 'tcg';
  readonly accelReason: string;
  /** The guest's memory (MemTotal). */
  readonly memoryKiB: number;
  /** The ashmem device node. */
  readonly node: string;
  /** Milliseconds from starting QEMU to the guest's ready line, for the last boot. */
  readonly bootMs: number;
  /** `booted` (a cold boot) or `restored` (the cached snapshot of a freshly booted guest). */
  readonly boot: 'booted' | 'restored';
  /** Boots so far (the first, then one per fresh boot). */
  readonly boots: number;
}

/** Facts about a target, for profile detection and reports. */
export interface TargetFacts {
  /** What the probe reported. */
  readonly hello: ProbeHello;
  /**
   * Local targets: how the probe runs here, found by trying it. Under qemu-user the emulator
   * itself answers ashmem ioctls (ENOSYS), so the judge must know.
   */
  readonly runner?: ProbeRunner;
  /** vm targets: the guest, its kernel and how its CPU runs. */
  readonly vm?: VmFacts;
  /** Android only: SDK level, release, ABI list, SELinux mode, properties that matter. */
  readonly android?: {
    readonly sdk: number;
    readonly release: string;
    readonly abis: readonly string[];
    readonly selinux: string;
    readonly root: boolean;
    readonly useMemfd: string;
    readonly bootId: string;
    readonly ashmemNodes: readonly string[];
  };
}

/** How one script's execution ended. */
export interface ExecOutcome {
  readonly hello: ProbeHello;
  /** Every result line, in order. */
  readonly results: readonly OpResult[];
  /** The probe's exit: code, or the signal that killed it. */
  readonly exit: { readonly code: number | null; readonly signal: string | null };
  /** What the probe wrote to stderr (diagnostics only). */
  readonly stderr: string;
}

/** A place that runs op scripts. */
export interface Target {
  /** `local`, `local:arm64-v8a`, `adb:SERIAL`. */
  readonly id: string;
  /** Facts, gathered once (runs the probe's hello). */
  facts(): Promise<TargetFacts>;
  /**
   * Runs one script in one round trip.
   * @param script - the script text (the probe parses it itself)
   * @param onResult - called with each result as it arrives, so callers can stream it to disk
   */
  exec(script: string, onResult?: (result: OpResult) => void): Promise<ExecOutcome>;
  /** Cleans up (pushed files, forwarded ports, child processes). */
  close(): Promise<void>;
  /**
   * The `exec` flags that reach this same target again (`--target`, and for a device its adb
   * server, device folder and backend), for the replay commands of a repro folder.
   */
  replayArgs?(): readonly string[];
  /** Shell commands that run `script` (a host path) on this target without the harness, if any. */
  byHand?(script: string): readonly string[];
}

/** A target failed in a way that is not a result: missing tool, vanished device, timeout. */
export class TargetError extends Error {
  override readonly name: string = 'TargetError';
  /**
   * True when the target can run nothing more (gone, its server gone, no probe): a run stops
   * handing it cases at once and gives its case in flight to the other targets.
   */
  readonly lost: boolean = false;
  /**
   * True when the failure is itself a finding about the driver (a kernel crash during the case):
   * the case is recorded with it and never re-run elsewhere.
   */
  readonly isResult: boolean = false;
}

/** The probe binary for an ABI is not built. */
export class ProbeMissingError extends TargetError {
  override readonly name = 'ProbeMissingError';
  override readonly lost = true;
}

/** The device went away mid-run. */
export class DeviceVanishedError extends TargetError {
  override readonly name: string = 'DeviceVanishedError';
  override readonly lost = true;
}

/** A call to the target did not answer within its bound. */
export class TargetTimeoutError extends TargetError {
  override readonly name = 'TargetTimeoutError';
}
