/**
 * What the fixture's Activity shows after a press of Run, parsed: id/status reads
 * `run K: N results`, id/results holds the hello line and N result lines.
 */
import type { OpResult } from '../../harness/ops/result.js';

/** id/status after a run. */
export const STATUS_LINE = /^run (\d+): (\d+) results$/;

/** The Activity's output for one press of Run. */
export interface ActivityRun {
  /** Which press of Run this was (1, 2, ... in one app process). */
  readonly run: number;
  readonly hello: Readonly<Record<string, unknown>>;
  readonly results: readonly OpResult[];
}

/** The Activity showed something that is not its result format. */
export class ActivityOutputError extends Error {
  override readonly name = 'ActivityOutputError';
}

/**
 * Parses the texts of id/status and id/results.
 * @param status - id/status
 * @param results - id/results
 */
export function parseActivityOutput(status: string, results: string): ActivityRun {
  const lines = results.split('\n').filter((l) => l.trim() !== '');
  const parsed = lines.map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      throw new ActivityOutputError(`id/results has a line that is not JSON: ${l}`);
    }
  });
  const first = parsed[0];
  if (first === undefined || typeof first['hello'] !== 'object' || first['hello'] === null) {
    throw new ActivityOutputError(`id/results does not start with the hello line: ${results.slice(0, 200)}`);
  }
  const m = STATUS_LINE.exec(status.trim());
  if (m?.[1] === undefined || m[2] === undefined || Number(m[2]) !== parsed.length - 1) {
    throw new ActivityOutputError(`id/status "${status}" does not match the ${parsed.length - 1} result lines shown`);
  }
  return { run: Number(m[1]), hello: first['hello'] as Record<string, unknown>, results: parsed.slice(1) as unknown as OpResult[] };
}
