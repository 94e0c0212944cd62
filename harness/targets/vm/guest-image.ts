/**
 * What a vm guest boots: the kernel (Debian's, a local package, or the user's own image with its
 * modules) and the initramfs built around it (busybox, the modules in order, both probes of the
 * guest's architecture), cached by content.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { probePath } from '../probe-binary.js';
import { ProbeMissingError, TargetError } from '../target.js';
import { cachedEntry } from './cache.js';
import { debianKernel, localKernelDeb, type GuestKernel } from './debian-kernel.js';
import { initramfs, initScript, type CpioEntry } from './initramfs.js';
import { moduleName } from './modules.js';
import type { VmOptions } from './vm-options.js';
import { VM_ABIS, type VmTargetSpec } from './vm-spec.js';

/** The kernel a vm target boots, as the flags say. */
export async function guestKernel(spec: VmTargetSpec, o: VmOptions, cache: string): Promise<GuestKernel> {
  const fetch = { cache, ...(o.progress !== undefined ? { progress: o.progress } : {}), ...(o.refresh === true ? { refresh: true } : {}) };
  if (o.kernelDeb !== undefined) {
    if (o.kernel !== undefined) throw new TargetError('--vm-kernel-deb and --vm-kernel exclude each other: give one');
    return localKernelDeb(spec.arch, o.kernelDeb, fetch);
  }
  if (o.kernel !== undefined) {
    for (const f of [o.kernel, ...(o.modules ?? [])]) {
      if (!fs.existsSync(f)) throw new TargetError(`${f}: no such file (--vm-kernel / --vm-module)`);
    }
    return { arch: spec.arch, image: path.resolve(o.kernel), modules: (o.modules ?? []).map((m) => path.resolve(m)), release: undefined, source: `kernel ${o.kernel}${(o.modules ?? []).length > 0 ? ` with ${(o.modules ?? []).map((m) => path.basename(m)).join(', ')}` : ''}` };
  }
  if ((o.modules ?? []).length > 0) throw new TargetError('--vm-module goes with --vm-kernel (the Debian kernel brings its own modules)');
  return debianKernel(spec.arch, fetch);
}

/** Builds (or reuses) the initramfs for a guest: busybox, the kernel's modules, both probes of the arch. */
export async function guestInitramfs(spec: VmTargetSpec, kernel: GuestKernel, busybox: string, cache: string, root: string): Promise<string> {
  const entries: CpioEntry[] = [
    { kind: 'dir', path: 'bin' }, { kind: 'dir', path: 'lib' }, { kind: 'dir', path: 'lib/modules' }, { kind: 'dir', path: 'probe' },
    { kind: 'dir', path: 'proc' }, { kind: 'dir', path: 'sys' }, { kind: 'dir', path: 'dev' }, { kind: 'dir', path: 'tmp' },
    { kind: 'file', path: 'bin/busybox', data: fs.readFileSync(busybox), mode: 0o755 },
    { kind: 'file', path: 'init', data: Buffer.from(initScript()), mode: 0o755 },
  ];
  kernel.modules.forEach((m, n) => {
    entries.push({ kind: 'file', path: `lib/modules/${String(n).padStart(2, '0')}-${moduleName(m)}.ko`, data: fs.readFileSync(m), mode: 0o644 });
  });
  for (const abi of VM_ABIS[spec.arch]) {
    const file = probePath(abi, root);
    if (!fs.existsSync(file)) throw new ProbeMissingError(`the ${abi} probe is not built (${file}): run scripts/build-probe`);
    entries.push({ kind: 'dir', path: `probe/${abi}` }, { kind: 'file', path: `probe/${abi}/ashmem-probe`, data: fs.readFileSync(file), mode: 0o755 });
  }
  const hash = crypto.createHash('sha256');
  for (const e of entries) hash.update(`${e.kind}:${e.path}:`).update(e.kind === 'file' ? e.data : '');
  const file = path.join(cache, 'vm', 'initramfs', `${spec.arch}-${hash.digest('hex').slice(0, 16)}.cpio.gz`);
  return cachedEntry(file, 60_000, undefined, async (tmp) => {
    fs.writeFileSync(tmp, initramfs(entries));
  });
}
