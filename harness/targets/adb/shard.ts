/**
 * Sharding cases across devices. Every selected device pulls the next case from one shared
 * queue, so fast and slow devices both stay busy; each outcome records which device ran it.
 * A device that vanished, lost its server or has no probe stops taking cases at once; one that
 * fails cases otherwise (timeouts, a probe that would not start) stops after
 * `maxConsecutiveFailures` in a row. The others go on. A failed case keeps its partial results.
 */
import type { OpResult } from '../../ops/result.js';
import { TargetError, type ExecOutcome, type Target } from '../target.js';
import { AdbDeviceVanishedError } from './errors.js';

/** One case's outcome in a sharded run. */
export type ShardedOutcome<C> =
  | { readonly case: C; readonly index: number; readonly target: string; readonly ok: true; readonly outcome: ExecOutcome }
  | { readonly case: C; readonly index: number; readonly target: string; readonly ok: false; readonly error: Error; readonly partial: readonly OpResult[] };

/** The whole run: outcomes in case order (cases never started are absent), per-device errors. */
export interface ShardedRun<C> {
  readonly outcomes: readonly ShardedOutcome<C>[];
  /** Cases no device ran (every device had stopped). */
  readonly notRun: readonly C[];
  /** The error that stopped a device, by target id. */
  readonly stopped: ReadonlyMap<string, Error>;
}

/** Options of {@link runSharded}. */
export interface ShardOptions<C> {
  /** The script of a case. */
  readonly script: (c: C) => string;
  /** Called with each result as it arrives (stream it to disk: results survive a vanish). */
  readonly onResult?: (target: string, c: C, result: OpResult) => void;
  /** Called when a case finished or failed. */
  readonly onOutcome?: (outcome: ShardedOutcome<C>) => void;
  /** Target errors in a row after which a device stops taking cases (default 3). */
  readonly maxConsecutiveFailures?: number;
}

/** Errors after which a device can run nothing more (see {@link TargetError.lost}). */
function fatal(e: Error): boolean {
  return e instanceof TargetError && e.lost;
}

/** Deterministic round-robin split (case i goes to device i mod n), for reproducible plans. */
export function shardRoundRobin<C>(cases: readonly C[], devices: number): C[][] {
  const shards: C[][] = Array.from({ length: Math.max(1, devices) }, () => []);
  cases.forEach((c, i) => shards[i % shards.length]?.push(c));
  return shards;
}

/** Runs cases across targets in parallel from a shared queue. */
export async function runSharded<C>(targets: readonly Target[], cases: readonly C[], options: ShardOptions<C>): Promise<ShardedRun<C>> {
  const outcomes: (ShardedOutcome<C> | undefined)[] = new Array<ShardedOutcome<C> | undefined>(cases.length);
  const stopped = new Map<string, Error>();
  let next = 0;
  const limit = options.maxConsecutiveFailures ?? 3;
  const worker = async (target: Target): Promise<void> => {
    let failures = 0;
    for (;;) {
      const index = next;
      if (index >= cases.length) return;
      next += 1;
      const c = cases[index] as C;
      const partial: OpResult[] = [];
      try {
        const outcome = await target.exec(options.script(c), (r) => {
          partial.push(r);
          options.onResult?.(target.id, c, r);
        });
        const done: ShardedOutcome<C> = { case: c, index, target: target.id, ok: true, outcome };
        outcomes[index] = done;
        failures = 0;
        options.onOutcome?.(done);
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        const kept = e instanceof AdbDeviceVanishedError ? e.partial : partial;
        const failed: ShardedOutcome<C> = { case: c, index, target: target.id, ok: false, error: e, partial: kept };
        outcomes[index] = failed;
        options.onOutcome?.(failed);
        if (e instanceof TargetError) failures += 1;
        if (fatal(e) || failures >= limit) {
          stopped.set(target.id, e);
          return;
        }
      }
    }
  };
  await Promise.all(targets.map((t) => worker(t)));
  const notRun = cases.filter((_, i) => outcomes[i] === undefined);
  return { outcomes: outcomes.filter((o): o is ShardedOutcome<C> => o !== undefined), notRun, stopped };
}
