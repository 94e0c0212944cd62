/**
 * `judge`: does some admissible model state explain every observed result? Nondeterministic
 * purges are judged with the set of possible worlds (design.md), so the judge never flags what
 * the spec allows and still catches a purge out of LRU order.
 */
import type { Op, Script } from '../ops/ast.js';
import type { OpResult } from '../ops/result.js';
import { checkInvariants } from '../model/invariants.js';
import type { Kernel } from '../model/kernel.js';
import type { Environment, Profile } from '../model/profile.js';
import { classify, modelState, opText, type ModelState } from './explain.js';
import { matches, type MatchOptions } from './match.js';
import { forScript, initialWorlds, step, WorldLimitError, type WorldOptions } from './worlds.js';

/** Everything the judge needs to know about the machine the results came from. */
export interface JudgeOptions extends WorldOptions, MatchOptions {}

/** The first op whose result no admissible world explains. */
export interface Divergence {
  readonly line: number;
  readonly op: string;
  readonly observed: OpResult;
  /** What the admissible worlds predicted (distinct results). */
  readonly expected: readonly OpResult[];
  readonly rule: string;
  readonly section: string;
  readonly state: ModelState;
}

/** The judge's answer. */
export type Verdict =
  | { readonly kind: 'consistent'; readonly worlds: number; readonly skipped: readonly number[] }
  | { readonly kind: 'diverged'; readonly divergence: Divergence }
  | { readonly kind: 'incomplete'; readonly line: number; readonly reason: string }
  | { readonly kind: 'undecidable'; readonly line: number; readonly reason: string };

/** Results keyed by line (metadata lines without `i` are dropped). */
export function byLine(results: readonly OpResult[]): Map<number, OpResult> {
  const m = new Map<number, OpResult>();
  for (const r of results) if (typeof r.i === 'number') m.set(r.i, r);
  return m;
}

/** Judges observed results against a profile. */
export function judge(script: Script, results: readonly OpResult[], profile: Profile, env: Environment, opts: JudgeOptions): Verdict {
  const observed = byLine(results);
  const o = forScript(opts, script.ops);
  let worlds: Kernel[] = initialWorlds(profile.features, env);
  const skipped: number[] = [];
  for (const [idx, op] of script.ops.entries()) {
    const obs = observed.get(op.line);
    if (obs === undefined) return { kind: 'incomplete', line: op.line, reason: `no result for line ${op.line} (${opText(op)}): the target stopped early` };
    if (obs.error === 'skipped' || obs.error === 'unsupported') {
      // A gated op (drop_caches without root, SharedMemory below API 27) did not run: the worlds stay as they were.
      skipped.push(op.line);
      continue;
    }
    if (obs.error === 'parse') {
      return { kind: 'incomplete', line: op.line, reason: `line ${op.line}: the target could not run it (${obs.error}: ${obs.message ?? ''})` };
    }
    // One world and a deterministic op: the common case, without building branch lists.
    const only = worlds.length === 1 && !o.backgroundReclaim ? (worlds[0] as Kernel) : undefined;
    if (only !== undefined && only.choices(op, o.contended, o.shrinker ?? 'any-prefix') === undefined) {
      if (!matches(only.apply(op), obs, opts)) return { kind: 'diverged', divergence: explain(script, results, profile, env, opts, idx, obs) };
      if (o.checkInvariants) checkInvariants(only);
      continue;
    }
    let branches;
    try {
      branches = step(worlds, op, o);
    } catch (e) {
      if (e instanceof WorldLimitError) return { kind: 'undecidable', line: op.line, reason: e.message };
      throw e;
    }
    const keep = branches.filter((b) => matches(b.result, obs, opts));
    if (keep.length === 0) return { kind: 'diverged', divergence: explain(script, results, profile, env, opts, idx, obs) };
    worlds = keep.map((b) => b.world);
  }
  return { kind: 'consistent', worlds: worlds.length, skipped };
}

/**
 * Replays the judge up to op `idx` (the worlds were consumed on the way) and describes the
 * divergence against the admissible world whose prediction is closest to the observation.
 */
function explain(script: Script, results: readonly OpResult[], profile: Profile, env: Environment, opts: JudgeOptions, idx: number, obs: OpResult): Divergence {
  const observed = byLine(results);
  const o = forScript(opts, script.ops);
  let worlds: Kernel[] = initialWorlds(profile.features, env);
  for (const op of script.ops.slice(0, idx)) {
    const r = observed.get(op.line) as OpResult;
    if (r.error === 'skipped') continue;
    worlds = step(worlds, op, o).filter((b) => matches(b.result, r, opts)).map((b) => b.world);
  }
  const op = script.ops[idx] as Op;
  const before = worlds.map((w) => w.clone());
  const branches = step(worlds, op, o);
  const expected = [...new Map(branches.map((b) => [JSON.stringify(b.result), b.result])).values()];
  // The closest world: the one whose predicted result shares the most with the observation.
  let best = 0;
  let bestScore = -1;
  branches.forEach((b, k) => {
    const s = closeness(b.result, obs);
    if (s > bestScore) { best = k; bestScore = s; }
  });
  const bestBranch = branches[best];
  const pre = before[Math.min(best, before.length - 1)] as Kernel;
  const { rule, section } = classify(op, bestBranch?.world ?? pre, bestBranch?.result ?? (expected[0] as OpResult), obs);
  return { line: op.line, op: opText(op), observed: obs, expected, rule, section, state: modelState(pre) };
}

function closeness(a: OpResult, b: OpResult): number {
  let s = 0;
  if (a.ret === b.ret && a.errno === b.errno && a.signal === b.signal) s += 1 << 30;
  if (a.rle !== undefined && b.rle !== undefined) s -= bytesDiffering(a.rle, b.rle);
  return s;
}

/** How many bytes two run lists disagree on (walks both lists once). */
function bytesDiffering(a: readonly (readonly [number, number])[], b: readonly (readonly [number, number])[]): number {
  let i = 0, j = 0, ai = 0, bj = 0, diff = 0;
  while (i < a.length && j < b.length) {
    const [x, xn] = a[i] as readonly [number, number];
    const [y, yn] = b[j] as readonly [number, number];
    const n = Math.min(xn - ai, yn - bj);
    if (x !== y) diff += n;
    ai += n; bj += n;
    if (ai === xn) { i++; ai = 0; }
    if (bj === yn) { j++; bj = 0; }
  }
  return diff;
}

/** A divergence as text lines for the console. */
export function formatDivergence(d: Divergence): string {
  const show = (r: OpResult): string => JSON.stringify(r);
  const lines = [
    `diverged at line ${d.line}: ${d.op}`,
    `  observed: ${show(d.observed)}`,
    ...d.expected.slice(0, 4).map((e, k) => `  ${k === 0 ? 'expected' : '      or'}: ${show(e)}`),
    ...(d.expected.length > 4 ? [`      (and ${d.expected.length - 4} more admissible results)`] : []),
    `  rule: ${d.rule} (${d.section})`,
    `  model: lru_count ${d.state.lruCount}; LRU oldest first: ${d.state.lru.join(' ') || '(empty)'}`,
    ...d.state.areas.map((a) => `         area ${a.area} unpinned (descending): ${a.ranges.join(', ') || '(none)'}`),
  ];
  return lines.join('\n');
}
