/**
 * Shrinking a failing script to a minimal one by delta debugging: remove chunks of ops, then
 * single ops, keeping a candidate only if it still fails (re-executed on the target, or
 * re-judged by the model for `diff`). Candidates whose handles no longer make sense are
 * skipped by re-parsing them. The result is 1-minimal: no single op can be removed.
 */
import type { Op } from './ast.js';
import { ScriptErrors } from './errors.js';
import { parseScript } from './parse.js';
import { printScript } from './print.js';

/** Decides whether a candidate script still shows the failure. */
export type StillFails = (text: string, ops: readonly Op[]) => Promise<boolean>;

/** How far shrinking went. */
export interface Shrunk {
  readonly text: string;
  readonly ops: readonly Op[];
  /** Candidates tried (each one a target round trip, for `run`). */
  readonly tries: number;
}

function valid(ops: readonly Op[]): { text: string; ops: readonly Op[] } | undefined {
  const text = printScript(ops);
  try {
    return { text, ops: parseScript(text).ops };
  } catch (e) {
    if (e instanceof ScriptErrors) return undefined;
    throw e;
  }
}

/**
 * Shrinks `ops` while `stillFails` holds.
 * @param budget - at most this many candidates are tried
 */
export async function shrink(ops: readonly Op[], stillFails: StillFails, budget = 300): Promise<Shrunk> {
  let current = valid(ops) ?? { text: printScript(ops), ops };
  let tries = 0;
  const attempt = async (cand: readonly Op[]): Promise<boolean> => {
    if (tries >= budget) return false;
    const v = valid(cand);
    if (v === undefined) return false;
    tries++;
    if (await stillFails(v.text, v.ops)) {
      current = v;
      return true;
    }
    return false;
  };
  // ddmin: try dropping each of n chunks; refine n until chunks are single ops.
  let n = 2;
  while (current.ops.length >= 2 && tries < budget) {
    const size = Math.ceil(current.ops.length / n);
    let reduced = false;
    for (let start = 0; start < current.ops.length; start += size) {
      const cand = [...current.ops.slice(0, start), ...current.ops.slice(start + size)];
      if (cand.length > 0 && (await attempt(cand))) {
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (size === 1) break;
      n = Math.min(n * 2, current.ops.length);
    }
  }
  // Single-op removal to a fixpoint (1-minimality).
  let changed = true;
  while (changed && tries < budget) {
    changed = false;
    for (let i = current.ops.length - 1; i >= 0; i--) {
      const cand = [...current.ops.slice(0, i), ...current.ops.slice(i + 1)];
      if (cand.length > 0 && (await attempt(cand))) changed = true;
    }
  }
  return { text: current.text, ops: current.ops, tries };
}
