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
import type { CaseRecord, Report } from '../report/types.js';
import { JsonlSink } from '../io.js';
import { TargetError } from '../targets/target.js';
import type { JudgeOptions } from './judge.js';
import { judgeCase, type PreparedTarget } from './run.js';

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

/** Loads every scenario (sorted by name), optionally those whose name matches `only`; a malformed header is an error. */
export function loadScenarios(dir = scenariosDir(), only?: RegExp): Scenario[] {
  if (!fs.existsSync(dir)) throw new TargetError(`no scenarios folder at ${dir}`);
  return fs.readdirSync(dir).filter((f) => f.endsWith('.ops')).sort().flatMap((f) => {
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

/** Runs the suite on prepared targets; writes `results.jsonl` as scenarios finish. */
export async function conformSuite(prepared: readonly PreparedTarget[], scenarios: readonly Scenario[], out: string, judgeOptions: (p: PreparedTarget) => JudgeOptions, onCase?: (c: CaseRecord) => void): Promise<{ report: Report; error?: TargetError }> {
  fs.mkdirSync(out, { recursive: true });
  const started = new Date().toISOString();
  const sink = new JsonlSink(path.join(out, 'results.jsonl'));
  const cases: CaseRecord[] = [];
  let error: TargetError | undefined;
  try {
    await Promise.all(prepared.map(async (p) => {
      for (const s of scenarios) {
        if (error !== undefined) return;
        const t0 = Date.now();
        const meta = { section: s.section, title: s.title };
        const why = skipReason(s, p);
        let rec: CaseRecord;
        if (why !== undefined) {
          rec = { target: p.target.id, id: s.name, ...meta, status: 'skipped', reason: why, profile: p.profile.id, script: s.text, results: [], durationMs: 0 };
        } else {
          try {
            const o = await p.target.exec(s.text);
            rec = await judgeCase(p, s.name, s.text, parseScript(s.text), o.results, judgeOptions(p), out, 50, t0, meta);
          } catch (e) {
            if (!(e instanceof TargetError)) throw e;
            error ??= e;
            rec = { target: p.target.id, id: s.name, ...meta, status: 'error', reason: e.message, profile: p.profile.id, script: s.text, results: [], durationMs: Date.now() - t0 };
          }
        }
        cases.push(rec);
        sink.write({ target: rec.target, id: rec.id, section: s.section, status: rec.status, ...(rec.reason !== undefined ? { reason: rec.reason } : {}), ...(rec.divergence !== undefined ? { divergence: rec.divergence } : {}) });
        onCase?.(rec);
      }
    }));
  } finally {
    sink.close();
  }
  const report: Report = {
    kind: 'conform',
    started,
    finished: new Date().toISOString(),
    settings: { scenarios: scenarios.length },
    targets: prepared.map((p) => p.info),
    cases,
  };
  return error === undefined ? { report } : { report, error };
}
