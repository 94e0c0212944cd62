/**
 * `adb-loopback: N cases/s, R round trips/case` for `npm run bench` (TEST INFRASTRUCTURE: uses
 * the loopback ADB daemon). Starts a private real adb server and a loopback device (this
 * machine's shell, or with `backend: 'vm'` a vm guest with the real driver), sets the target up,
 * then times `cases` runs of one script. R comes from the target's own counter and is checked
 * against the OPENs the daemon really served, so the number cannot flatter itself.
 */
import { AdbTarget, measureCases } from '../../harness/targets/adb/index.js';
import { adbBackends } from './adb-backends.js';
import { connectLoopback, startPrivateAdbServer } from './private-adb-server.js';

/** What one bench run measured. */
export interface AdbLoopbackBench {
  readonly mode: 'stdin' | 'agent';
  /** The device served: this machine's shell or a vm guest. */
  readonly backend: 'host' | 'vm';
  readonly cases: number;
  readonly casesPerSecond: number;
  /** Device round trips per case after set-up, counted by the target. */
  readonly roundTripsPerCase: number;
  /** OPENs per case the daemon served (must equal roundTripsPerCase). */
  readonly daemonOpensPerCase: number;
  /** Device round trips spent on set-up (facts, push, hello, agent start). */
  readonly setupRoundTrips: number;
}

/** Runs the bench; `script` should suit the device's probe backend (memfd here, ashmem in a guest). */
export async function benchAdbLoopback(options: { readonly cases: number; readonly script: string; readonly mode?: 'stdin' | 'agent'; readonly backend?: 'host' | 'vm' }): Promise<AdbLoopbackBench> {
  const mode = options.mode ?? 'stdin';
  const backend = adbBackends().find((b) => b.name === (options.backend ?? 'host'));
  if (backend === undefined) throw new Error(`no adb backend ${options.backend ?? 'host'}`);
  await backend.setup();
  const adb = await startPrivateAdbServer();
  const device = await backend.device();
  const daemon = device.daemon;
  try {
    await connectLoopback(adb.server, daemon);
    const target = new AdbTarget({ server: adb.server, serial: daemon.serial, deviceDir: daemon.scratchDir, mode });
    try {
      await target.facts();
      const setupRoundTrips = target.roundTrips().device;
      const opensBefore = daemon.totalOpens();
      const m = await measureCases(
        target,
        Array.from({ length: options.cases }, () => options.script),
      );
      const daemonOpensPerCase = options.cases > 0 ? (daemon.totalOpens() - opensBefore) / options.cases : 0;
      if (daemonOpensPerCase !== m.roundTripsPerCase) {
        throw new Error(`round-trip count mismatch: target counted ${m.roundTripsPerCase}/case, the daemon served ${daemonOpensPerCase}/case`);
      }
      return { mode, backend: backend.name, cases: m.cases, casesPerSecond: m.casesPerSecond, roundTripsPerCase: m.roundTripsPerCase, daemonOpensPerCase, setupRoundTrips };
    } finally {
      await target.close();
    }
  } finally {
    await device.close();
    await adb.stop();
    await backend.teardown();
  }
}

/** The bench line. */
export function formatAdbLoopback(b: AdbLoopbackBench): string {
  return `adb-loopback${b.backend === 'vm' ? '-vm' : ''} (${b.mode}): ${b.casesPerSecond.toFixed(1)} cases/s, ${b.roundTripsPerCase} round trips/case (set-up ${b.setupRoundTrips})`;
}
