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

/**
 * The environment a hello line describes. A field the hello lacks or gives with the wrong type
 * (a hand-written or truncated hello) keeps the default, so the model never runs with an
 * undefined page size or word size.
 */
export function environmentFromHello(h: ProbeHello): Environment {
  const d = DEFAULT_ENVIRONMENT;
  const [major, minor] = typeof h.kernel === 'string' ? kernelVersion(h.kernel) : [0, 0];
  const memory = typeof h.mem_bytes === 'number' && typeof h.swap_bytes === 'number' && h.mem_bytes > 0 ? { memoryBytes: h.mem_bytes + h.swap_bytes } : {};
  const callerBits = h.bits === 32 || h.bits === 64 ? h.bits : d.callerBits;
  return {
    ...d,
    pageSize: typeof h.page_size === 'number' && h.page_size > 0 ? h.page_size : d.pageSize,
    root: typeof h.uid === 'number' ? h.uid === 0 : d.root,
    callerBits,
    kernelBits: typeof h.machine === 'string' ? (machine64(h.machine) ? 64 : callerBits) : d.kernelBits,
    kernelSeeksWithoutFmode: major > 0 ? major >= 6 : d.kernelSeeksWithoutFmode,
    // drop_caches' pass loop follows the release (§12); an unreadable one leaves every era admitted.
    ...(major > 0 ? { kernelVersion: [major, minor] as const } : {}),
    ...memory,
  };
}

/** A results file's hello line that is not the probe's own: a usage error (exit 2). */
export class HelloError extends Error {
  override readonly name = 'HelloError';
}

/** What a probe hello line must carry for the model's environment, with the JSON type of each. */
function helloProblem(h: Readonly<Record<string, unknown>>): string | undefined {
  const pageSize = h.page_size;
  if (typeof pageSize !== 'number' || !Number.isSafeInteger(pageSize) || pageSize < 1024 || (pageSize & (pageSize - 1)) !== 0) return `"page_size" must be the page size in bytes (a power of two), got ${JSON.stringify(pageSize) ?? 'nothing'}`;
  if (h.bits !== 32 && h.bits !== 64) return `"bits" must be 32 or 64, got ${JSON.stringify(h.bits) ?? 'nothing'}`;
  if (typeof h.uid !== 'number') return `"uid" must be a number, got ${JSON.stringify(h.uid) ?? 'nothing'}`;
  for (const f of ['kernel', 'machine'] as const) if (typeof h[f] !== 'string') return `"${f}" must be a string, got ${JSON.stringify(h[f]) ?? 'nothing'}`;
  return undefined;
}

/**
 * Reads the probe's hello line out of result lines, if there is one. The fixture APK's hello
 * (`{fixture, sdk, ...}`) is not a probe's: see {@link fixtureApiLevel}.
 * @throws {@link HelloError} for a probe hello that lacks a fact the model needs (page size, word
 *   size, uid, kernel release, machine): judging with made-up facts would give made-up verdicts
 */
export function findHello(lines: readonly unknown[]): ProbeHello | undefined {
  for (const l of lines) {
    if (typeof l !== 'object' || l === null || !('hello' in l)) continue;
    const h = (l as { hello: unknown }).hello;
    if (typeof h !== 'object' || h === null || 'fixture' in h) continue;
    const problem = helloProblem(h as Record<string, unknown>);
    if (problem !== undefined) throw new HelloError(`the hello line is not a probe's: ${problem}`);
    return h as ProbeHello;
  }
  return undefined;
}

/** The Android API level the fixture APK's hello line reports (`sdk`), if there is one. */
export function fixtureApiLevel(lines: readonly unknown[]): number | undefined {
  for (const l of lines) {
    if (typeof l !== 'object' || l === null || !('hello' in l)) continue;
    const h = (l as { hello: unknown }).hello;
    if (typeof h === 'object' && h !== null && 'fixture' in h) {
      const sdk = (h as { sdk?: unknown }).sdk;
      return typeof sdk === 'number' && Number.isSafeInteger(sdk) && sdk > 0 ? sdk : undefined;
    }
  }
  return undefined;
}
