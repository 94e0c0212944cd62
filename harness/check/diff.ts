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
import { printScript } from '../ops/print.js';
import { shrink } from '../ops/shrink.js';
import { Device } from '../model/device.js';
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
  const k = Device.create(profile.features, env);
  return ops.map((op) => {
    const choices = k.choices(op, false, DIFF_WORLDS.shrinker);
    const c = choices === undefined ? undefined : (choices.find((x) => k.purgedBy(x) > 0) ?? choices[0]);
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

/** One kind of difference: which way, at which op, which rule (numbers left out). */
function kindOf(why: { direction: Distinction['direction']; divergence: Divergence }): string {
  return `${why.direction}|${why.divergence.op.split(' ')[0] ?? ''}|${why.divergence.rule.replace(/0x[0-9a-f]+|-?\d+/gi, 'N')}`;
}

/** How many known differences are peeled off one case to reach the ones behind them. */
const PEELS = 12;

/**
 * Generates cases and returns one shrunk script per kind of difference. A case usually shows
 * the first difference early (argument checks, say) and hides the rest behind it, so after each
 * difference the op that showed it is removed and the case is looked at again ("peeling"):
 * that is how differences deep in a script — a driver that never purges, a shrinker that stops
 * in another unit — are reached. Each script is shrunk while it still shows its own kind, so it
 * is 1-minimal for that difference.
 */
export async function diffProfiles(a: Profile, b: Profile, env: Environment, settings: GenerateSettings, cases: number, seed: number, onFound?: (d: Distinction) => void): Promise<Distinction[]> {
  const found = new Map<string, Distinction>();
  const texts = generateCases(settings, cases, seed);
  for (const [idx, text] of texts.entries()) {
    let ops: readonly Op[] = parseScript(text).ops;
    for (let peel = 0; peel < PEELS; peel++) {
      const why = distinguishes(ops, a, b, env);
      if (why === undefined) break;
      const kind = kindOf(why);
      if (!found.has(kind)) {
        const small = await shrink(ops, async (_t, cand) => {
          const w = distinguishes(cand, a, b, env);
          return w !== undefined && kindOf(w) === kind;
        }, 2000);
        const w = distinguishes(small.ops, a, b, env);
        if (w !== undefined && kindOf(w) === kind) {
          const d: Distinction = { text: small.text, ops: small.ops.length, direction: w.direction, divergence: w.divergence, seed, caseIndex: idx };
          found.set(kind, d);
          onFound?.(d);
        }
      }
      const rest = ops.filter((op) => op.line !== why.divergence.line);
      try {
        ops = parseScript(printScript(rest)).ops;
      } catch {
        break; // removing it broke the script (an open, an mmap): nothing further to reach here
      }
    }
  }
  return [...found.values()];
}
