/**
 * `conform`: the curated suite (`conformance/scenarios/*.ops`, one file per behaviour of the
 * spec) run on every target, judged against the target's profile, reported per scenario:
 * passed, diverged, or skipped with the reason.
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../package-root.js';
import { parseScript } from '../ops/parse.js';
import { parseScenarioHeader, type ScenarioHeader } from './scenario-header.js';
import { naturalCompare } from '../report/text.js';
import type { CaseRecord, LostTarget, Report } from '../report/types.js';
import { JsonlSink } from '../io.js';
import { TargetError } from '../targets/target.js';
import type { JudgeOptions } from './judge.js';
import { caseLogs, judgeCase, notRunRecord, type PreparedTarget } from './run.js';
import { DEFAULT_GRACE_MS, interruptReason, killedByInterrupt, settleWithin, TargetHealth, type StopOptions } from './run-control.js';

/** A scenario: its header's fields, plus its name, path and text. */
export interface Scenario extends Omit<ScenarioHeader, 'file' | 'headerLines'> {
  readonly name: string;
  /** The scenario's path. */
  readonly file: string;
  readonly text: string;
}

/** The scenarios folder of this checkout (or of the installed package). */
export function scenariosDir(): string {
  return path.join(packageRoot(), 'conformance', 'scenarios');
}

/** Loads every scenario (in natural order of names: 1.3, 2, 10.1), optionally those whose name matches `only`; a malformed header is an error. */
export function loadScenarios(dir = scenariosDir(), only?: RegExp): Scenario[] {
  if (!fs.existsSync(dir)) throw new TargetError(`no scenarios folder at ${dir}`);
  return fs.readdirSync(dir).filter((f) => f.endsWith('.ops')).sort(naturalCompare).flatMap((f) => {
    const name = f.replace(/\.ops$/, '');
    if (only !== undefined && !only.test(name)) return [];
    const file = path.join(dir, f);
    const text = fs.readFileSync(file, 'utf8');
    const h = parseScenarioHeader(text, f);
    // The header's own `file` (a bare name) and line count give way to the path and the text.
    return [{ title: h.title, section: h.section, shows: h.shows, needs: h.needs, profiles: h.profiles, ...(h.decidable !== undefined ? { decidable: h.decidable } : {}), name, file, text }];
  });
}

/** Why a scenario does not apply to a target, or undefined when it runs. */
export function skipReason(s: Scenario, p: PreparedTarget): string | undefined {
  const memfd = p.profile.features.flavor === 'memfd';
  if (s.profiles.length > 0 && !s.profiles.includes(p.profile.id)) return `not applicable to profile ${p.profile.id} (scenario is for ${s.profiles.join(', ')})`;
  if (s.needs.includes('root') && !p.env.root) return 'needs root (CAP_SYS_ADMIN for PURGE_ALL_CACHES / drop_caches)';
  if (s.needs.includes('memfd') && !memfd) return 'needs a memfd-backed target';
  const forMemfd = s.needs.includes('memfd') || s.profiles.some((x) => /memfd|host/.test(x));
  if (memfd && !forMemfd) return `needs /dev/ashmem: this target has memfd only (profile ${p.profile.id}); ${s.section} is not exercised here`;
  return undefined;
}

/** Options of {@link conformSuite}. */
export interface ConformOptions extends StopOptions {
  /** Called after each scenario run. */
  readonly onCase?: (c: CaseRecord) => void;
  /** Called when a target is lost (the others go on). */
  readonly onLost?: (l: LostTarget) => void;
  /** Targets lost before the suite (while being prepared): their scenarios are recorded as not run. */
  readonly lostBefore?: { readonly lost: readonly LostTarget[]; readonly error?: TargetError };
}

/**
 * Runs the suite on prepared targets; writes `results.jsonl` as scenarios finish. A lost target's
 * remaining scenarios are recorded as not run (each target runs every scenario, so nobody else
 * can run them for it); the others go on. On `signal` no new scenario starts, the ones in
 * flight get `graceMs`, and every scenario run left out is recorded as not run with why.
 */
export async function conformSuite(prepared: readonly PreparedTarget[], scenarios: readonly Scenario[], out: string, judgeOptions: (p: PreparedTarget) => JudgeOptions, options: ConformOptions = {}): Promise<{ report: Report; error?: TargetError }> {
  fs.mkdirSync(out, { recursive: true });
  const started = new Date().toISOString();
  const sink = new JsonlSink(path.join(out, 'results.jsonl'));
  // Every result as it arrives, as `run` does: what a scenario cut by a stop or a loss did is kept.
  const raw = new JsonlSink(path.join(out, 'raw.jsonl'));
  const { signal } = options;
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const stopping = (): boolean => signal?.aborted === true;
  let open = true;
  const cases: CaseRecord[] = [];
  const lost: LostTarget[] = [];
  let firstLoss: TargetError | undefined = options.lostBefore?.error;
  /** Per target, the index of the next scenario not yet recorded. */
  const next = new Map<PreparedTarget, number>();
  const record = (rec: CaseRecord): void => {
    if (!open) return;
    cases.push(rec);
    sink.write({ target: rec.target, id: rec.id, section: rec.section, status: rec.status, ...(rec.reason !== undefined ? { reason: rec.reason } : {}), ...(rec.notRun === true ? { notRun: true } : {}), ...(rec.divergence !== undefined ? { divergence: rec.divergence } : {}) });
    options.onCase?.(rec);
  };
  const notRun = (p: PreparedTarget, from: number, why: string): void => {
    for (const s of scenarios.slice(from)) record(notRunRecord(p.target.id, s.name, p.profile.id, why, { section: s.section, title: s.title, script: s.text }));
    next.set(p, scenarios.length);
  };
  // Targets lost while being prepared owe every scenario: recorded as not run, with why.
  for (const l of options.lostBefore?.lost ?? []) {
    lost.push({ ...l, unfinished: scenarios.map((x) => x.name), unfinishedWent: 'not run' });
    for (const x of scenarios) record(notRunRecord(l.id, x.name, '', `${l.id} was lost at ${l.at} (${l.error}: ${l.reason})`, { section: x.section, title: x.title, script: x.text }));
  }
  const worker = async (p: PreparedTarget): Promise<void> => {
    const health = new TargetHealth();
    let done = 0;
    for (const [k, s] of scenarios.entries()) {
      next.set(p, k);
      if (stopping()) return;
      const t0 = Date.now();
      const meta = { section: s.section, title: s.title };
      const why = skipReason(s, p);
      let rec: CaseRecord;
      if (why !== undefined) {
        rec = { target: p.target.id, id: s.name, ...meta, status: 'skipped', reason: why, profile: p.profile.id, script: s.text, results: [], durationMs: 0 };
      } else {
        try {
          const o = await p.target.exec(s.text, (r) => {
            if (open) raw.write({ target: p.target.id, case: s.name, ...r });
          });
          if (await killedByInterrupt(o.exit.signal, signal)) {
            notRun(p, k, `${interruptReason(signal as AbortSignal)} while in flight (the probe was killed by ${o.exit.signal ?? ''})`);
            return;
          }
          health.ok();
          rec = await judgeCase(p, s.name, s.text, parseScript(s.text), o.results, judgeOptions(p), out, 50, t0, meta, undefined, signal);
        } catch (e) {
          if (!(e instanceof TargetError)) throw e;
          if (stopping()) {
            notRun(p, k, `${interruptReason(signal as AbortSignal)} while in flight (${e.message})`);
            return;
          }
          // A vanished or crashed target's last words (a guest's console with its oops) go into the report.
          const logs = await caseLogs(p.target);
          const failed: CaseRecord = { target: p.target.id, id: s.name, ...meta, status: 'error', reason: e.message, profile: p.profile.id, script: s.text, results: [], ...(logs !== undefined ? { logs } : {}), durationMs: Date.now() - t0 };
          if (health.failed(e)) {
            firstLoss ??= e;
            const at = new Date().toISOString();
            // The scenario in flight is recorded as the error it met; the ones after it never ran.
            record(failed);
            const info: LostTarget = { id: p.target.id, at, error: e.name, reason: e.message, casesDone: done, unfinished: scenarios.slice(k + 1).map((x) => x.name), unfinishedWent: 'not run', ...(logs !== undefined ? { logs } : {}) };
            lost.push(info);
            options.onLost?.(info);
            notRun(p, k + 1, `${p.target.id} was lost at ${at} (${e.name}: ${e.message})`);
            return;
          }
          rec = failed;
        }
      }
      done++;
      record(rec);
    }
    next.set(p, scenarios.length);
  };
  let why: string | undefined;
  try {
    const ended = await settleWithin(Promise.all(prepared.map((p) => worker(p))), signal, graceMs);
    why = stopping() ? interruptReason(signal as AbortSignal) : undefined;
    for (const p of prepared) {
      const k = next.get(p) ?? 0;
      if (k >= scenarios.length) continue;
      notRun(p, k, ended ? (why ?? 'stopped') : `${why ?? 'stopped'}; the scenario in flight did not end within ${graceMs / 1000} s`);
    }
  } finally {
    open = false;
    sink.close();
    raw.close();
  }
  const left = cases.filter((c) => c.notRun === true).length;
  // Targets lost before the suite after the others.
  const order = (id: string): number => {
    const k = prepared.findIndex((p) => p.target.id === id);
    return k < 0 ? prepared.length : k;
  };
  const total = scenarios.length * (prepared.length + (options.lostBefore?.lost.length ?? 0));
  const report: Report = {
    kind: 'conform',
    started,
    finished: new Date().toISOString(),
    settings: { scenarios: scenarios.length },
    targets: prepared.map((p) => p.info),
    // Target by target as given, scenarios in natural order, whatever order they finished in.
    cases: cases.sort((a, b) => order(a.target) - order(b.target) || naturalCompare(a.id, b.id)),
    ...(lost.length > 0 ? { lost } : {}),
    ...(left > 0
      ? { stopped: why !== undefined ? { cause: 'interrupted' as const, reason: why, notRun: left, total } : { cause: 'targets-lost' as const, reason: `${lost.map((l) => l.id).join(', ')} lost`, notRun: left, total } }
      : {}),
  };
  return firstLoss === undefined ? { report } : { report, error: firstLoss };
}
