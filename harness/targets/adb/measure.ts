/**
 * Throughput and round trips of cases on one target, for `npm run bench`
 * (`adb-loopback: N cases/s, R round trips/case`). Set-up (facts, push, hello, agent start) is
 * done before the clock starts, so R is what a case costs after set-up: 1 in stdin mode, 0 in
 * agent mode, 2 for a script too long to inline.
 */
import type { AdbTarget } from './adb-target.js';
import type { RoundTripCounts } from './round-trips.js';

/** What a batch of cases cost. */
export interface CaseThroughput {
  readonly cases: number;
  readonly ms: number;
  readonly casesPerSecond: number;
  /** Device service opens per case (shell + sync + tcp + root). */
  readonly roundTripsPerCase: number;
  /** The counts over the batch, by kind. */
  readonly delta: RoundTripCounts;
}

function minus(a: RoundTripCounts, b: RoundTripCounts): RoundTripCounts {
  return { shell: a.shell - b.shell, sync: a.sync - b.sync, tcp: a.tcp - b.tcp, root: a.root - b.root, host: a.host - b.host, device: a.device - b.device };
}

/** Runs the scripts one after another on the target and measures them. */
export async function measureCases(target: AdbTarget, scripts: readonly string[]): Promise<CaseThroughput> {
  await target.facts();
  const before = target.roundTrips();
  const started = process.hrtime.bigint();
  for (const script of scripts) await target.exec(script);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const delta = minus(target.roundTrips(), before);
  const cases = scripts.length;
  return {
    cases,
    ms,
    casesPerSecond: ms > 0 ? (cases * 1000) / ms : 0,
    roundTripsPerCase: cases > 0 ? delta.device / cases : 0,
    delta,
  };
}
