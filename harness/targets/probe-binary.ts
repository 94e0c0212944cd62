/**
 * The native probe built by `scripts/build-probe`, and how to run it on this machine: natively
 * when the kernel executes it, else under the ABI's qemu-user emulator (`qemu-aarch64-static`,
 * `qemu-arm-static`, `qemu-i386-static`, `qemu-x86_64-static`). Which one is found by trying.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../package-root.js';
import { ProbeMissingError, TargetError, type ProbeRunner } from './target.js';

export type { ProbeRunner } from './target.js';

/** The four Android ABIs the probe is built for. */
export const ANDROID_ABIS = ['arm64-v8a', 'armeabi-v7a', 'x86_64', 'x86'] as const satisfies readonly string[];

/** An ABI the probe is built for: an Android ABI, or `host` (this machine's own compiler). */
export type ProbeAbi = (typeof ANDROID_ABIS)[number] | 'host';

/** The probe's file name inside `apk-fixtures/probe/build/<abi>/`. */
export const PROBE_FILE_NAME = 'ashmem-probe';

/** qemu-user emulators by ABI, for hosts that cannot run the ABI themselves. */
const QEMU_BY_ABI = {
  'arm64-v8a': 'qemu-aarch64-static',
  'armeabi-v7a': 'qemu-arm-static',
  x86_64: 'qemu-x86_64-static',
  x86: 'qemu-i386-static',
} as const satisfies Record<(typeof ANDROID_ABIS)[number], string>;

/** The Android ABI built for this machine's own architecture, by Node's `process.arch`. */
const OWN_ABI_BY_ARCH: Readonly<Record<string, ProbeAbi>> = {
  x64: 'x86_64',
  ia32: 'x86',
  arm64: 'arm64-v8a',
  arm: 'armeabi-v7a',
};

/** How to start the probe for one ABI. */
export interface ProbeCommand {
  readonly abi: ProbeAbi;
  /** The built binary. */
  readonly file: string;
  /** What to execute: the binary itself, or a qemu-user emulator. */
  readonly command: string;
  /** Arguments before the probe's own options (the binary, under an emulator). */
  readonly args: readonly string[];
  /** True when the probe runs under qemu-user. */
  readonly emulated: boolean;
  /** How the probe runs, as found by trying it (see {@link probeCommand}). */
  readonly runner: ProbeRunner;
}

/**
 * Environment variable naming ABIs (comma-separated, or `all`) whose native trial is treated as
 * failed, as on a kernel that runs no 32-bit binaries. For tests of the qemu-user fallback on a
 * machine that does run them natively; never needed otherwise.
 */
export const NO_NATIVE_ENV = 'ASHMEM_HARNESS_NO_NATIVE';

/** Bound of one trial run (`ashmem-probe --version`); qemu-user starts in well under a second. */
const TRIAL_TIMEOUT_MS = 20_000;

/** The probe's `--version` answer: `ashmem-probe VERSION ABI BITS-bit`. */
const VERSION_ANSWER = /^ashmem-probe \S+ \S+ (?:32|64)-bit\n?$/;

/** No way to run the probe for an ABI on this machine: neither natively nor under qemu-user. */
export class ProbeUnrunnableError extends TargetError {
  override readonly name = 'ProbeUnrunnableError';
}

/** True when `value` names a probe ABI. */
export function isProbeAbi(value: string): value is ProbeAbi {
  return value === 'host' || (ANDROID_ABIS as readonly string[]).includes(value);
}

/** The repository root (the installed package's folder when run from dist/). */
export function repositoryRoot(): string {
  return packageRoot();
}

/**
 * The path of the built probe for an ABI (the file may not exist).
 * @param root - repository root (default: this checkout)
 */
export function probePath(abi: ProbeAbi, root: string = repositoryRoot()): string {
  return path.join(root, 'apk-fixtures', 'probe', 'build', abi, PROBE_FILE_NAME);
}

/** The Android ABI of this machine's own architecture, if it has one. */
export function hostAndroidAbi(arch: string = process.arch): ProbeAbi | undefined {
  return OWN_ABI_BY_ARCH[arch];
}

/**
 * The path of an executable file found on PATH (as `env` finds it: directories and files
 * without the execute bit are passed over); a name with a slash is taken as a path.
 */
export function findOnPath(name: string, envPath: string = process.env['PATH'] ?? ''): string | undefined {
  if (name.includes('/')) return isExecutableFile(name) ? name : undefined;
  for (const dir of envPath.split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** One line of a child's output for an error message: printable ASCII only, bounded. */
function shown(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  const clean = line.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 120 ? `${clean.slice(0, 120)}...` : clean;
}

/**
 * Runs `command args --version` once, bounded; returns undefined when it answered as the probe
 * does, else why not. A binary the kernel cannot execute fails with ENOEXEC, or (when the spawn
 * falls back to /bin/sh, as execvp does on ENOEXEC) with a shell syntax error and a non-zero
 * exit: both end here as "not a probe answer".
 */
function trial(command: string, args: readonly string[]): string | undefined {
  const run = spawnSync(command, [...args, '--version'], { encoding: 'utf8', timeout: TRIAL_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 16 });
  if (run.error !== undefined) {
    const code = (run.error as NodeJS.ErrnoException).code;
    if (code === 'ETIMEDOUT') return `no answer within ${TRIAL_TIMEOUT_MS} ms`;
    return code === 'ENOEXEC' ? 'Exec format error' : run.error.message;
  }
  if (run.signal !== null) return `killed by ${run.signal}`;
  if (run.status !== 0) return `exit code ${String(run.status)}${run.stderr.trim() !== '' ? `: ${shown(run.stderr)}` : ''}`;
  if (!VERSION_ANSWER.test(run.stdout)) return `answered "${shown(run.stdout)}" instead of its version`;
  return undefined;
}

/** ABIs the {@link NO_NATIVE_ENV} hook refuses natively. */
function nativeRefused(abi: ProbeAbi, env: NodeJS.ProcessEnv): boolean {
  const list = (env[NO_NATIVE_ENV] ?? '').split(',').map((s) => s.trim());
  return list.includes('all') || list.includes(abi);
}

/** Options of {@link probeCommand}. */
export interface ProbeCommandOptions {
  /** Repository root (default: this checkout). */
  readonly root?: string;
  /** The probe binary to try, instead of the build for `abi` under `root`. */
  readonly file?: string;
  /** Environment read for PATH and {@link NO_NATIVE_ENV} (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Trials already made in this process, by binary, its modification time and the environment. */
const trials = new Map<string, ProbeCommand>();

/**
 * How to run the probe for `abi` here, found by trying rather than assumed from the host's
 * architecture (an x86-64 kernel may run no 32-bit binaries; a host may have binfmt_misc
 * emulators): the binary's `--version` natively first, then under the ABI's qemu-user emulator.
 * The answer is cached per process (per binary and modification time, so a rebuild is tried
 * again).
 * @throws ProbeMissingError when the binary is not built (run `scripts/build-probe`)
 * @throws ProbeUnrunnableError when neither way runs it; the message says why and what to install
 */
export function probeCommand(abi: ProbeAbi, options: ProbeCommandOptions = {}): ProbeCommand {
  const file = options.file ?? probePath(abi, options.root);
  const env = options.env ?? process.env;
  let mtime: number;
  try {
    mtime = fs.statSync(file).mtimeMs;
  } catch {
    throw new ProbeMissingError(`the ${abi} probe is not built (looked for ${file}); run scripts/build-probe`);
  }
  const key = JSON.stringify([abi, file, mtime, env[NO_NATIVE_ENV] ?? '', env['PATH'] ?? '']);
  const known = trials.get(key);
  if (known !== undefined) return known;
  const found = findRunner(abi, file, env);
  trials.set(key, found);
  return found;
}

function findRunner(abi: ProbeAbi, file: string, env: NodeJS.ProcessEnv): ProbeCommand {
  const nativeWhy = nativeRefused(abi, env) ? `refused by ${NO_NATIVE_ENV}` : trial(file, []);
  if (nativeWhy === undefined) return { abi, file, command: file, args: [], emulated: false, runner: 'native' };
  if (abi === 'host') {
    throw new ProbeUnrunnableError(`the host probe (${file}) does not run here (${nativeWhy}); rebuild it with scripts/build-probe`);
  }
  const emulator = QEMU_BY_ABI[abi];
  const qemu = findOnPath(emulator, env['PATH'] ?? '');
  const qemuWhy = qemu === undefined ? `${emulator} is not installed` : trial(qemu, [file]);
  if (qemu !== undefined && qemuWhy === undefined) return { abi, file, command: qemu, args: [file], emulated: true, runner: `qemu-user:${emulator}` };
  throw new ProbeUnrunnableError(
    `the ${abi} probe cannot run on this machine: natively ${nativeWhy}; under ${emulator}: ${qemuWhy ?? 'ok'}. `
      + `Install ${emulator} (Debian/Ubuntu package qemu-user-static; scripts/setup-host does it)${abi === 'x86' ? ' or boot a kernel that runs 32-bit binaries (ia32_emulation)' : ''}`,
  );
}
