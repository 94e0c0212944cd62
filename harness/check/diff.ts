/**
 * `diff`: model against model. A script tells lineage A from lineage B when A's own behaviour
 * (its canonical run: triggers purge nothing, PURGE_ALL_CACHES purges everything) is a result
 * trace that no admissible world of B explains, or the other way round. Found scripts are
 * shrunk to 1-minimal ones.
 */
import type { Op } from '../ops/ast.js';
import type { OpResult } from '../ops/result.js';
import { generateCases, type GenerateSettings } from '../ops/generate.js';
import { parseScript } from '../ops/parse.js';
import { shrink } from '../ops/shrink.js';
import { Kernel } from '../model/kernel.js';
import type { Environment, Profile } from '../model/profile.js';
import { judge, type Divergence } from './judge.js';
import { QUIET, type WorldOptions } from './worlds.js';

/** One distinguishing script. */
export interface Distinction {
  readonly text: string;
  readonly ops: number;
  /** Which profile's canonical trace the other could not produce. */
  readonly direction: 'a-not-b' | 'b-not-a';
  readonly divergence: Divergence;
  readonly seed: number;
  readonly caseIndex: number;
}

/**
 * A lineage's canonical run: one concrete result per op. A purge trigger takes its lineage's
 * first shrinker batch (the smallest nonzero admissible purge), so that the batch unit shows.
 */
export function canonicalTrace(ops: readonly Op[], profile: Profile, env: Environment): OpResult[] {
  const k = new Kernel(profile.features, env);
  return ops.map((op) => {
    const choices = k.choices(op, false, DIFF_WORLDS.shrinker);
    const c = choices === undefined ? undefined : (choices.find((x) => x > 0) ?? choices[0]);
    return k.apply(op, c);
  });
}

/** Worlds for diffing: an exclusive guest, shrinker batches known (§5.2). */
export const DIFF_WORLDS: WorldOptions = { ...QUIET, shrinker: 'batches' };

function distinguishes(ops: readonly Op[], a: Profile, b: Profile, env: Environment): { direction: Distinction['direction']; divergence: Divergence } | undefined {
  const opts = { ...DIFF_WORLDS, otherUsers: false };
  const script = { ops };
  const va = judge(script, canonicalTrace(ops, a, env), b, env, opts);
  if (va.kind === 'diverged') return { direction: 'a-not-b', divergence: va.divergence };
  const vb = judge(script, canonicalTrace(ops, b, env), a, env, opts);
  if (vb.kind === 'diverged') return { direction: 'b-not-a', divergence: vb.divergence };
  return undefined;
}

/**
 * Generates cases and returns the shrunk scripts that tell A and B apart (one per distinct
 * shrunk text).
 */
export async function diffProfiles(a: Profile, b: Profile, env: Environment, settings: GenerateSettings, cases: number, seed: number, onFound?: (d: Distinction) => void): Promise<Distinction[]> {
  const found = new Map<string, Distinction>();
  const texts = generateCases(settings, cases, seed);
  for (const [idx, text] of texts.entries()) {
    const ops = parseScript(text).ops;
    if (distinguishes(ops, a, b, env) === undefined) continue;
    const small = await shrink(ops, async (_t, cand) => distinguishes(cand, a, b, env) !== undefined, 2000);
    const why = distinguishes(small.ops, a, b, env);
    if (why === undefined) continue;
    // One script per kind of difference: the rule broken, at which op.
    const key = `${why.direction}|${why.divergence.op.split(' ')[0] ?? ''}|${why.divergence.rule.replace(/-?\d+/g, 'N')}`;
    const d: Distinction = { text: small.text, ops: small.ops.length, direction: why.direction, divergence: why.divergence, seed, caseIndex: idx };
    const prev = found.get(key);
    if (prev !== undefined && prev.ops <= d.ops) continue;
    if (prev === undefined) onFound?.(d);
    found.set(key, d);
  }
  return [...found.values()];
}
