/**
 * `judge`: does some admissible model state explain every observed result? Nondeterministic
 * purges are judged with the set of possible worlds (design.md), so the judge never flags what
 * the spec allows and still catches a purge out of LRU order.
 */
import type { Op, Script } from '../ops/ast.js';
import type { OpResult } from '../ops/result.js';
import { checkInvariants } from '../model/invariants.js';
import type { Device } from '../model/device.js';
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

/**
 * An incremental judge: results are pushed as the target streams them, and each op is judged
 * as soon as its result is there, so judging overlaps the target's work instead of following it.
 */
export class JudgeSession {
  private readonly observed = new Map<number, OpResult>();
  private readonly o: WorldOptions;
  private worlds: Device[];
  private next = 0;
  private readonly skipped: number[] = [];
  private early: Verdict | undefined;

  constructor(
    readonly script: Script,
    readonly profile: Profile,
    readonly env: Environment,
    readonly opts: JudgeOptions,
  ) {
    this.o = forScript(opts, script.ops);
    this.worlds = initialWorlds(profile.features, env);
  }

  /** Takes one result (metadata lines are ignored) and judges every op it makes ready. */
  push(r: OpResult): void {
    if (typeof r.i !== 'number' || this.early !== undefined) return;
    this.observed.set(r.i, r);
    this.advance();
  }

  /** The verdict once the target is done: ops still without a result make it incomplete. */
  finish(): Verdict {
    if (this.early !== undefined) return this.early;
    const op = this.script.ops[this.next];
    if (op !== undefined) return { kind: 'incomplete', line: op.line, reason: `no result for line ${op.line} (${opText(op)}): the target stopped early` };
    return { kind: 'consistent', worlds: this.worlds.length, skipped: this.skipped };
  }

  private advance(): void {
    const { script, opts } = this;
    const o = this.o;
    for (; this.early === undefined && this.next < script.ops.length; this.next++) {
      const idx = this.next;
      const op = script.ops[idx] as Op;
      const obs = this.observed.get(op.line);
      if (obs === undefined) return;
      if (obs.error === 'skipped' || obs.error === 'unsupported') {
        // A gated op (drop_caches without root, SharedMemory below API 27) did not run: the worlds stay as they were.
        this.skipped.push(op.line);
        continue;
      }
      if (obs.error === 'parse') {
        this.early = { kind: 'incomplete', line: op.line, reason: `line ${op.line}: the target could not run it (${obs.error}: ${obs.message ?? ''})` };
        return;
      }
      // One world and a deterministic op: the common case, without building branch lists.
      const only = this.worlds.length === 1 && !o.backgroundReclaim ? (this.worlds[0] as Device) : undefined;
      if (only !== undefined && only.choices(op, o.contended, o.shrinker ?? 'any-prefix') === undefined) {
        if (!matches(only.apply(op), obs, opts)) this.diverged(idx, obs);
        else if (o.checkInvariants) checkInvariants(only.kernel);
        continue;
      }
      let branches;
      try {
        branches = step(this.worlds, op, o);
      } catch (e) {
        if (e instanceof WorldLimitError) {
          this.early = { kind: 'undecidable', line: op.line, reason: e.message };
          return;
        }
        throw e;
      }
      const keep = branches.filter((b) => matches(b.result, obs, opts));
      if (keep.length === 0) this.diverged(idx, obs);
      else this.worlds = keep.map((b) => b.world);
    }
  }

  private diverged(idx: number, obs: OpResult): void {
    this.early = { kind: 'diverged', divergence: explain(this.script, [...this.observed.values()], this.profile, this.env, this.opts, idx, obs) };
  }
}

/** Judges observed results against a profile. */
export function judge(script: Script, results: readonly OpResult[], profile: Profile, env: Environment, opts: JudgeOptions): Verdict {
  const session = new JudgeSession(script, profile, env, opts);
  for (const r of results) session.push(r);
  return session.finish();
}

/**
 * Replays the judge up to op `idx` (the worlds were consumed on the way) and describes the
 * divergence against the admissible world whose prediction is closest to the observation.
 */
function explain(script: Script, results: readonly OpResult[], profile: Profile, env: Environment, opts: JudgeOptions, idx: number, obs: OpResult): Divergence {
  const observed = byLine(results);
  const o = forScript(opts, script.ops);
  let worlds: Device[] = initialWorlds(profile.features, env);
  for (const op of script.ops.slice(0, idx)) {
    const r = observed.get(op.line) as OpResult;
    if (r.error === 'skipped' || r.error === 'unsupported') continue;
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
  const pre = before[Math.min(best, before.length - 1)] as Device;
  const { rule, section } = classify(op, (bestBranch?.world ?? pre).kernel, bestBranch?.result ?? (expected[0] as OpResult), obs);
  return { line: op.line, op: opText(op), observed: obs, expected, rule, section, state: modelState(pre.kernel) };
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
