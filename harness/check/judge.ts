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
import { classify, modelState, opText, type History, type ModelState, type PurgeCause } from './explain.js';
import { matches, type MatchOptions } from './match.js';
import { belongingProblem, opsByLine, ResultsMismatchError, shapeProblem } from './result-checks.js';
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
  | { readonly kind: 'undecidable'; readonly line: number; readonly reason: string }
  /** The results do not belong to the script (a usage error): `error.index` is the first bad result. */
  | { readonly kind: 'invalid'; readonly line: number; readonly reason: string; readonly error: ResultsMismatchError };

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
  private readonly opAt: Map<number, Op>;
  private worlds: Device[];
  private next = 0;
  private readonly skipped: number[] = [];
  private early: Verdict | undefined;
  private invalid: Extract<Verdict, { kind: 'invalid' }> | undefined;
  /** Results taken so far (their positions name a bad one). */
  private count = 0;
  /** The result with the highest line so far, and its position: a gap before it is a missing result. */
  private last: { line: number; index: number } | undefined;

  constructor(
    readonly script: Script,
    readonly profile: Profile,
    readonly env: Environment,
    readonly opts: JudgeOptions,
  ) {
    this.o = forScript(opts, script.ops);
    this.worlds = initialWorlds(profile.features, env);
    this.opAt = opsByLine(script);
  }

  /**
   * Takes one result and judges every op it makes ready. Objects with neither `i` nor `op` are
   * metadata (hello, end) and ignored; pushing the very same result object again is a no-op (a
   * streaming target hands each result over as it comes and once more in its final list).
   */
  push(r: OpResult): void {
    const line = r as unknown as Readonly<Record<string, unknown>>;
    if (line.i === undefined && line.op === undefined) return;
    if (typeof r.i === 'number' && this.observed.get(r.i) === r) return;
    const index = this.count++;
    if (this.invalid !== undefined) return;
    const problem = shapeProblem(line) ?? (this.observed.has(r.i) ? `a second result for line ${r.i} (${r.op})` : belongingProblem(r, this.opAt.get(r.i), this.script.ops));
    if (problem !== undefined) {
      this.invalid = { kind: 'invalid', line: typeof r.i === 'number' ? r.i : 0, reason: problem, error: new ResultsMismatchError(problem, index) };
      return;
    }
    this.observed.set(r.i, r);
    if (this.last === undefined || r.i > this.last.line) this.last = { line: r.i, index };
    if (this.early === undefined) this.advance();
  }

  /**
   * The verdict once the target is done. Results that do not belong to the script win over any
   * other verdict; ops without a result make it incomplete when nothing follows them (the target
   * stopped), invalid when a later op has one (a result is missing).
   */
  finish(): Verdict {
    if (this.invalid !== undefined) return this.invalid;
    const missing = this.script.ops.find((op) => !this.observed.has(op.line));
    if (missing !== undefined && this.last !== undefined && this.last.line > missing.line) {
      const reason = `no result for line ${missing.line} (${opText(missing)}), though line ${this.last.line} has one: a result is missing`;
      return { kind: 'invalid', line: missing.line, reason, error: new ResultsMismatchError(reason, this.last.index) };
    }
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
      if (notRun(obs)) {
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
      if (only !== undefined && only.choices(op, o.contended, o.shrinker ?? 'any-prefix') === undefined && only.variants(op) === 1) {
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

/** A world with the purge choices and variants that led to it (line → choice or variant), so that it can be replayed alone. */
interface Lineage {
  readonly world: Device;
  readonly choices: ReadonlyMap<number, number>;
  readonly variants: ReadonlyMap<number, number>;
}

/** True when the judge passes over this result without running its op (a gate, §"skipped"). */
function notRun(r: OpResult | undefined): boolean {
  return r !== undefined && (r.error === 'skipped' || r.error === 'unsupported');
}

/**
 * Replays the judge up to op `idx` (the worlds were consumed on the way), keeping each world's
 * choices, and describes the divergence against the admissible world whose prediction is
 * closest to the observation.
 */
function explain(script: Script, results: readonly OpResult[], profile: Profile, env: Environment, opts: JudgeOptions, idx: number, obs: OpResult): Divergence {
  const observed = byLine(results);
  const o = forScript(opts, script.ops);
  const zeroIsHole = o.distinguishHoles !== true;
  let lineages: Lineage[] = initialWorlds(profile.features, env).map((world) => ({ world, choices: new Map(), variants: new Map() }));
  for (const op of script.ops.slice(0, idx)) {
    const r = observed.get(op.line) as OpResult;
    if (notRun(r)) continue;
    const next: Lineage[] = [];
    const seen = new Set<string>();
    for (const l of lineages) {
      for (const b of step([l.world], op, o)) {
        if (!matches(b.result, r, opts)) continue;
        const key = b.world.key(zeroIsHole);
        if (seen.has(key)) continue;
        seen.add(key);
        next.push({
          world: b.world,
          choices: b.choice === undefined ? l.choices : new Map(l.choices).set(op.line, b.choice),
          variants: b.variant === undefined ? l.variants : new Map(l.variants).set(op.line, b.variant),
        });
      }
    }
    lineages = next;
  }
  const op = script.ops[idx] as Op;
  const candidates = lineages.flatMap((l) => {
    const pre = l.world.clone();
    return step([l.world], op, o).map((branch) => ({ branch, pre, lineage: l }));
  });
  const expected = [...new Map(candidates.map((c) => [JSON.stringify(c.branch.result), c.branch.result])).values()];
  // The closest world: the one whose predicted result shares the most with the observation.
  let best = candidates[0];
  let bestScore = -Infinity;
  for (const c of candidates) {
    const s = closeness(c.branch.result, obs);
    if (s > bestScore) { best = c; bestScore = s; }
  }
  if (best === undefined) throw new Error(`no admissible world before line ${op.line}: the judge's replay lost every world`);
  const ops = script.ops.slice(0, idx);
  const chosen = best.lineage;
  const history: History = {
    causeOf: (areaId, page) => purgeCause(ops, observed, chosen, profile, env, areaId, page),
    anyPrefixExplains: () => opts.shrinker === 'batches' && explainedByAnyPrefix(script, idx, observed, profile, env, opts),
    anyTrigger: () => ops.some((o) => PURGING.has(o.kind) && !notRun(observed.get(o.line))),
  };
  const { rule, section } = classify(op, best.pre.kernel, best.branch.result, obs, history);
  return { line: op.line, op: opText(op), observed: obs, expected, rule, section, state: modelState(best.pre.kernel) };
}

/** Ops that can purge ranges. */
const PURGING: ReadonlySet<string> = new Set(['drop_caches', 'pressure', 'app_wait', 'purge_all']);

/** True when a page of an area lies in a purged range. */
function purgedPage(d: Device, areaId: number, page: number): boolean {
  return d.kernel.areas.get(areaId)?.unpinned.some((r) => r.purged && page >= r.pgstart && page <= r.pgend) === true;
}

/**
 * Replays one world's choices and finds the op that last purged `page` of an area, with the
 * ranges that op purged which were newer on the LRU than the page's range. Undefined when the
 * replay does not purge it (background reclaim, which the choices do not record).
 */
function purgeCause(ops: readonly Op[], observed: ReadonlyMap<number, OpResult>, lineage: Lineage, profile: Profile, env: Environment, areaId: number, page: number): PurgeCause | undefined {
  const d = initialWorlds(profile.features, env)[0] as Device;
  let cause: PurgeCause | undefined;
  for (const op of ops) {
    if (notRun(observed.get(op.line))) continue;
    const was = purgedPage(d, areaId, page);
    const lru = [...d.kernel.lru];
    d.apply(op, lineage.choices.get(op.line), lineage.variants.get(op.line) ?? 0);
    const now = purgedPage(d, areaId, page);
    if (now && !was) {
      // Purging marks the LRU's own range objects, oldest first: those marked now went in this op.
      const mine = lru.findIndex((r) => r.areaId === areaId && page >= r.pgstart && page <= r.pgend);
      const newer = lru.filter((r, k) => mine >= 0 && r.purged && k > mine).map((r) => `${r.areaId}:${r.pgstart === r.pgend ? r.pgstart : `${r.pgstart}-${r.pgend}`}`);
      cause = { line: op.line, kind: op.kind, newer };
    } else if (!now) cause = undefined;
  }
  return cause;
}

/** Judges the ops up to and including `idx` again with purges of any LRU prefix (§5.3). */
function explainedByAnyPrefix(script: Script, idx: number, observed: ReadonlyMap<number, OpResult>, profile: Profile, env: Environment, opts: JudgeOptions): boolean {
  const ops = script.ops.slice(0, idx + 1);
  const results = ops.map((op) => observed.get(op.line)).filter((r): r is OpResult => r !== undefined);
  return judge({ ops }, results, profile, env, { ...opts, shrinker: 'any-prefix' }).kind === 'consistent';
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
