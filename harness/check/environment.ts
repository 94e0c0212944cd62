/**
 * The model's environment from what a target reported (the probe's hello line), so that
 * predictions use the target's page size, privileges, word sizes and kernel version.
 */
import { DEFAULT_ENVIRONMENT, type Environment } from '../model/profile.js';
import type { ProbeHello } from '../targets/target.js';

/** `6.1.0-13-amd64` → [6, 1]. */
export function kernelVersion(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m === null ? [0, 0] : [Number(m[1]), Number(m[2])];
}

/** True when the machine's word size is 64 bits. */
function machine64(machine: string): boolean {
  return /64|armv8|s390x/.test(machine);
}

/** The environment a hello line describes. */
export function environmentFromHello(h: ProbeHello): Environment {
  const [major, minor] = kernelVersion(h.kernel);
  const memory = typeof h.mem_bytes === 'number' && typeof h.swap_bytes === 'number' && h.mem_bytes > 0 ? { memoryBytes: h.mem_bytes + h.swap_bytes } : {};
  return {
    ...DEFAULT_ENVIRONMENT,
    pageSize: h.page_size,
    root: h.uid === 0,
    callerBits: h.bits,
    kernelBits: machine64(h.machine) ? 64 : h.bits,
    kernelSeeksWithoutFmode: major >= 6,
    // drop_caches' pass loop follows the release (§12); an unreadable one leaves every era admitted.
    ...(major > 0 ? { kernelVersion: [major, minor] as const } : {}),
    ...memory,
  };
}

/** Reads the hello line out of result lines, if there is one. */
export function findHello(lines: readonly unknown[]): ProbeHello | undefined {
  for (const l of lines) {
    if (typeof l === 'object' && l !== null && 'hello' in l) return (l as { hello: ProbeHello }).hello;
  }
  return undefined;
}
