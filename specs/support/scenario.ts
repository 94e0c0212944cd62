/**
 * Running a scenario (scripts and purges) through either door and judging it against the model
 * (model-adapter.ts), with one-line reports of what was not predicted or could not be run.
 */
import assert from 'node:assert/strict';
import type { OpResult } from '../../harness/ops/result.js';
import { describeDivergences, diverge, predictJava, unpredicted, type JavaFacts, type JavaStep, type Prediction } from './model-adapter.js';

/**
 * Asserts that a script's results match the model's predictions; logs the lines it does not predict.
 * @param label - what ran (for messages)
 * @param predicted - the model's lines
 * @param observed - the device's results
 */
export function assertAsPredicted(label: string, predicted: readonly Prediction[], observed: readonly OpResult[]): void {
  const ds = diverge(predicted, observed);
  assert.equal(ds.length, 0, `${label}: the device diverges from the model\n${describeDivergences(ds)}`);
  const open = unpredicted(predicted);
  if (open.length > 0) console.log(`${label}: lines ${open.join(', ')} not predicted by the model (compared: the rest)`);
}

/**
 * Splits a script at an `app_wait` line into the steps the model sees: the lines before it, the
 * purge, then the rest — earlier lines blanked so that line numbers stay those of the script.
 * @param script - a script with exactly one app_wait
 * @param purge - what the purge did
 */
export function stepsAroundWait(script: string, purge: 'all' | 'none'): { steps: JavaStep[]; waitLine: number } {
  const lines = script.split('\n');
  const k = lines.findIndex((l) => /^\s*app_wait\b/.test(l));
  if (k < 0) throw new Error('the script has no app_wait');
  return {
    steps: [{ script: lines.slice(0, k).join('\n') }, { purge }, { script: '\n'.repeat(k) + lines.slice(k).join('\n') }],
    waitLine: k + 1,
  };
}

/** Predictions of a split script, joined back into one list in script order. */
export function predictAroundWait(script: string, purge: 'all' | 'none', facts: JavaFacts): Prediction[] {
  return predictJava(stepsAroundWait(script, purge).steps, facts).flat();
}
