/**
 * Root: whether the shell runs as uid 0, `adb root` where the image allows it (which restarts
 * adbd, so the device drops off the server for a moment), and the gates that follow from it for
 * root-only purge triggers.
 */
import type { DeviceClient } from '@devicefarmer/adbkit';
import type { TargetFacts } from '../target.js';
import type { AdbServer } from './adb-server.js';
import { AdbServerError } from './errors.js';
import type { RoundTripCounter } from './round-trips.js';
import { bounded, sleep } from './timeout.js';

/** What `adb root` did. */
export type AdbRootOutcome = 'already-root' | 'restarted' | 'refused';

/** A TCP serial (`HOST:PORT`), which the server must reconnect after adbd restarts. */
export function tcpSerial(serial: string): { host: string; port: number } | undefined {
  const m = /^(.+):(\d+)$/.exec(serial);
  if (m === null || m[1] === undefined || m[2] === undefined) return undefined;
  return { host: m[1], port: Number(m[2]) };
}

/**
 * Asks adbd to restart as root and waits (bounded) for the device to come back.
 * Production builds refuse; that is an answer, not an error.
 */
export async function adbRoot(server: AdbServer, device: DeviceClient, counter: RoundTripCounter, ms: number): Promise<AdbRootOutcome> {
  counter.device('root');
  try {
    await bounded<boolean>(device.root(), ms, `adb ${device.serial}: root`);
  } catch (error) {
    const text = (error as Error).message;
    if (/already running as root/.test(text)) return 'already-root';
    if (/cannot run as root|production builds|not allowed|closed/i.test(text)) return 'refused';
    throw error;
  }
  // adbd restarts: give it a moment to drop off, then wait for it to come back.
  await sleep(300);
  const tcp = tcpSerial(device.serial);
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await server.waitForDevice(device.serial, Math.min(2000, Math.max(1, deadline - Date.now())))) return 'restarted';
    // Network devices are not always reconnected by the server on its own.
    if (tcp !== undefined) {
      try {
        await server.connectDevice(tcp.host, tcp.port);
      } catch {
        // adbd may still be restarting; poll again.
      }
    }
  }
  throw new AdbServerError(`device ${device.serial} did not come back within ${ms} ms after adb root restarted adbd`);
}

/** What root-only triggers can do on a target. */
export interface RootGate {
  readonly root: boolean;
  /**
   * `PURGE_ALL_CACHES` always runs: with root it purges (exact, judged as such); without root
   * the kernel must answer EPERM, which is still a check.
   */
  readonly purgeAll: { readonly expect: 'purge' | 'EPERM' };
  /** `drop_caches` needs root to write /proc/sys/vm/drop_caches; otherwise skip with the reason. */
  readonly dropCaches: { readonly run: true } | { readonly run: false; readonly reason: string };
  /** Memory pressure needs no root. */
  readonly pressure: { readonly run: true };
}

/** The gate for a target, from its facts (root = the probe runs as uid 0). */
export function rootGate(facts: TargetFacts): RootGate {
  const root = facts.android?.root ?? facts.hello.uid === 0;
  return {
    root,
    purgeAll: { expect: root ? 'purge' : 'EPERM' },
    dropCaches: root
      ? { run: true }
      : {
          run: false,
          reason: `drop_caches needs root and the probe runs as uid ${facts.hello.uid}${facts.android !== undefined ? ' (adb root refused or not tried: use a userdebug/eng or google_apis emulator image)' : ''}`,
        },
    pressure: { run: true },
  };
}

/** Op names used by a script (ignoring comments and `pN:` prefixes), without parsing it fully. */
export function opsInScript(script: string): Set<string> {
  const ops = new Set<string>();
  for (const raw of script.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const m = /^(?:p\d+:\s*)?([a-z_]+)/.exec(line);
    if (m?.[1] !== undefined) ops.add(m[1]);
  }
  return ops;
}

/**
 * Why a case cannot run on this target, or undefined when it can: a script with `drop_caches`
 * on a target without root is skipped with the reason (the report shows it).
 */
export function skipReason(script: string, gate: RootGate): string | undefined {
  if (!gate.dropCaches.run && opsInScript(script).has('drop_caches')) return gate.dropCaches.reason;
  return undefined;
}
