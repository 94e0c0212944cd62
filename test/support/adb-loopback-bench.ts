/**
 * `adb-loopback: N cases/s, R round trips/case` for `npm run bench` (TEST INFRASTRUCTURE: uses
 * the loopback ADB daemon). Starts a private real adb server and a loopback device, sets the
 * target up, then times `cases` runs of one script. R comes from the target's own counter and is
 * checked against the OPENs the daemon really served, so the number cannot flatter itself.
 */
import { AdbTarget, measureCases } from '../../harness/targets/adb/index.js';
import { LoopbackAdbd } from './loopback-adbd/index.js';
import { connectLoopback, requireProbe, startPrivateAdbServer } from './private-adb-server.js';

/** What one bench run measured. */
export interface AdbLoopbackBench {
  readonly mode: 'stdin' | 'agent';
  readonly cases: number;
  readonly casesPerSecond: number;
  /** Device round trips per case after set-up, counted by the target. */
  readonly roundTripsPerCase: number;
  /** OPENs per case the daemon served (must equal roundTripsPerCase). */
  readonly daemonOpensPerCase: number;
  /** Device round trips spent on set-up (facts, push, hello, agent start). */
  readonly setupRoundTrips: number;
}

/** Runs the bench; `script` should run on memfd (the loopback device is this machine). */
export async function benchAdbLoopback(options: { readonly cases: number; readonly script: string; readonly mode?: 'stdin' | 'agent' }): Promise<AdbLoopbackBench> {
  const mode = options.mode ?? 'stdin';
  requireProbe();
  const adb = await startPrivateAdbServer();
  const daemon = new LoopbackAdbd();
  try {
    await daemon.start();
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
      return { mode, cases: m.cases, casesPerSecond: m.casesPerSecond, roundTripsPerCase: m.roundTripsPerCase, daemonOpensPerCase, setupRoundTrips };
    } finally {
      await target.close();
    }
  } finally {
    await daemon.close();
    await adb.stop();
  }
}

/** The bench line. */
export function formatAdbLoopback(b: AdbLoopbackBench): string {
  return `adb-loopback (${b.mode}): ${b.casesPerSecond.toFixed(1)} cases/s, ${b.roundTripsPerCase} round trips/case (set-up ${b.setupRoundTrips})`;
}
