/**
 * `predict`: the model's results for a script. Where an op's outcome is not determined the
 * prediction says what the model admits instead of inventing one answer.
 */
import type { Script } from '../ops/ast.js';
import type { OpResult } from '../ops/result.js';
import type { Environment, Profile } from '../model/profile.js';
import { resultKey } from './match.js';
import { forScript, initialWorlds, QUIET, step, type WorldOptions } from './worlds.js';

/** A predicted line: one result, or the set of results the admissible worlds give. */
export type Prediction =
  | (OpResult & { readonly admits?: { readonly purged_ranges: readonly number[] } })
  | { readonly i: number; readonly op: string; readonly proc?: string; readonly oneOf: readonly OpResult[] };

/** Predicts every op of a script. */
export function predict(script: Script, profile: Profile, env: Environment, opts: WorldOptions = QUIET, sink?: (p: Prediction) => void): Prediction[] {
  let worlds = initialWorlds(profile.features, env);
  const out: Prediction[] = [];
  const o = forScript(opts, script.ops);
  for (const op of script.ops) {
    const branches = step(worlds, op, o);
    const distinct = new Map<string, OpResult>();
    for (const b of branches) distinct.set(resultKey(b.result), b.result);
    const choices = [...new Set(branches.flatMap((b) => (b.purged === undefined ? [] : [b.purged])))].sort((a, b) => a - b);
    const nondeterministic = op.kind === 'drop_caches' || op.kind === 'pressure' || choices.length > 1;
    let line: Prediction;
    const only = [...distinct.values()];
    if (only.length === 1) {
      const r = only[0] as OpResult;
      line = nondeterministic && choices.length > 0 ? { ...r, admits: { purged_ranges: choices } } : r;
    } else {
      line = op.proc === 'p0' ? { i: op.line, op: op.kind, oneOf: only } : { i: op.line, op: op.kind, proc: op.proc, oneOf: only };
    }
    out.push(line);
    sink?.(line);
    worlds = branches.map((b) => b.world);
  }
  return out;
}
