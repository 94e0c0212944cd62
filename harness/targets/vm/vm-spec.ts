/**
 * `--target vm…` values. A vm target is a QEMU guest booting a kernel with a real ashmem driver;
 * the spelling follows `local:ABI`:
 *
 * * `vm` — the x86_64 guest, the x86_64 probe;
 * * `vm:x86_64`, `vm:arm64` — that guest, its 64-bit probe;
 * * `vm:x86_64/x86`, `vm:arm64/armeabi-v7a` — that guest, the 32-bit probe (the driver's compat_ioctl);
 * * `vm:x86_64/all`, `vm:arm64/all` — both ABIs of that guest, one guest each.
 */
import { TargetError } from '../target.js';

/** The guest architectures: Debian's names of the kernel flavours are `amd64` and `arm64`. */
export const VM_ARCHES = ['x86_64', 'arm64'] as const satisfies readonly string[];

/** A guest architecture. */
export type VmArch = (typeof VM_ARCHES)[number];

/** The probe ABIs each guest runs: its own first, then the 32-bit one through the compat layer. */
export const VM_ABIS = {
  x86_64: ['x86_64', 'x86'],
  arm64: ['arm64-v8a', 'armeabi-v7a'],
} as const satisfies Record<VmArch, readonly [string, string]>;

/** A probe ABI a guest can run. */
export type VmAbi = (typeof VM_ABIS)[VmArch][number];

/** One guest and the probe ABI it serves. */
export interface VmTargetSpec {
  readonly arch: VmArch;
  readonly abi: VmAbi;
  /** The canonical id: `vm:x86_64`, `vm:x86_64/x86`, … */
  readonly id: string;
}

function isArch(value: string): value is VmArch {
  return (VM_ARCHES as readonly string[]).includes(value);
}

/** The canonical id of a guest and ABI. */
export function vmTargetId(arch: VmArch, abi: VmAbi): string {
  return abi === VM_ABIS[arch][0] ? `vm:${arch}` : `vm:${arch}/${abi}`;
}

const USAGE = 'use vm, vm:x86_64, vm:x86_64/x86, vm:x86_64/all, vm:arm64, vm:arm64/armeabi-v7a or vm:arm64/all';

/**
 * Parses a `vm…` target value into one spec per guest.
 * @throws TargetError naming the accepted spellings
 */
export function parseVmTargetSpec(spec: string): VmTargetSpec[] {
  if (spec === 'vm') return [{ arch: 'x86_64', abi: 'x86_64', id: 'vm:x86_64' }];
  const m = /^vm:([^/]+)(?:\/(.+))?$/.exec(spec);
  const arch = m?.[1];
  if (arch === undefined || !isArch(arch)) throw new TargetError(`unknown vm target ${JSON.stringify(spec)}: ${USAGE}`);
  const abiText = m?.[2];
  const abis: readonly VmAbi[] = VM_ABIS[arch];
  if (abiText === undefined) return [{ arch, abi: abis[0] as VmAbi, id: vmTargetId(arch, abis[0] as VmAbi) }];
  if (abiText === 'all') return abis.map((abi) => ({ arch, abi, id: vmTargetId(arch, abi) }));
  const abi = abis.find((a) => a === abiText);
  if (abi === undefined) throw new TargetError(`the ${arch} guest runs the ${abis.join(' and ')} probes, not ${JSON.stringify(abiText)}: ${USAGE}`);
  return [{ arch, abi, id: vmTargetId(arch, abi) }];
}
