/**
 * The native probe built by `scripts/build-probe`, and how to run it on this machine: natively
 * when the host can execute the ABI, under qemu-user (`qemu-aarch64-static`, `qemu-arm-static`)
 * for the arm ABIs on an x86 host.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProbeMissingError, TargetError } from './target.js';

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

/** ABIs this host runs without an emulator, by Node's `process.arch`. */
const NATIVE_BY_ARCH: Readonly<Record<string, readonly ProbeAbi[]>> = {
  x64: ['host', 'x86_64', 'x86'],
  ia32: ['host', 'x86'],
  arm64: ['host', 'arm64-v8a'],
  arm: ['host', 'armeabi-v7a'],
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
}

/** True when `value` names a probe ABI. */
export function isProbeAbi(value: string): value is ProbeAbi {
  return value === 'host' || (ANDROID_ABIS as readonly string[]).includes(value);
}

/** The repository root, from this file's place in it (harness/targets/). */
export function repositoryRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
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
  const native = NATIVE_BY_ARCH[arch];
  return native?.[1];
}

/** Finds an executable on PATH. */
export function findOnPath(name: string, envPath: string = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/**
 * How to run the probe for `abi` here.
 * @throws ProbeMissingError when the binary is not built (run `scripts/build-probe`)
 * @throws TargetError when the ABI needs a qemu-user emulator that is not installed
 */
export function probeCommand(abi: ProbeAbi, options: { readonly root?: string; readonly arch?: string } = {}): ProbeCommand {
  const file = probePath(abi, options.root);
  if (!fs.existsSync(file)) {
    throw new ProbeMissingError(`the ${abi} probe is not built (looked for ${file}); run scripts/build-probe`);
  }
  const native = NATIVE_BY_ARCH[options.arch ?? process.arch] ?? ['host'];
  if (native.includes(abi) || abi === 'host') return { abi, file, command: file, args: [], emulated: false };
  const emulator = QEMU_BY_ABI[abi];
  const found = findOnPath(emulator);
  if (found === undefined) {
    throw new TargetError(`running the ${abi} probe on this ${process.arch} host needs ${emulator} (Debian qemu-user-static); run scripts/setup-host`);
  }
  return { abi, file, command: found, args: [file], emulated: true };
}
