/**
 * `run`: generated cases on one or more targets. Cases are sharded across targets, each case is
 * one round trip, results stream to disk as they arrive, every case is judged, divergences are
 * shrunk by re-executing candidates on the same target and written as standalone repros.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Script } from '../ops/ast.js';
import { generateCases, settingsForTarget, type GenerateSettings } from '../ops/generate.js';
import { parseScript } from '../ops/parse.js';
import type { OpResult } from '../ops/result.js';
import { shrink } from '../ops/shrink.js';
import { profileById, type Environment, type Profile } from '../model/profile.js';
import type { CaseRecord, DivergenceInfo, Report, TargetInfo } from '../report/types.js';
import { JsonlSink } from '../io.js';
import { TargetError, type Target } from '../targets/target.js';
import { detectProfile } from './auto-profile.js';
import { environmentFromHello } from './environment.js';
import { judge, JudgeSession, type JudgeOptions, type Verdict } from './judge.js';
import { timeline } from './timeline.js';

/** What `run` was asked to do. */
export interface RunSettings {
  readonly cases: number;
  readonly seed: number;
  readonly length: number;
  readonly out: string;
  /** A profile id, or `auto`. */
  readonly profile: string;
  readonly shrinkBudget: number;
  /** Judge options for a target (local targets are quiet, devices busy). */
  readonly judgeOptions: (target: Target) => JudgeOptions;
  /** Called after each case. */
  readonly onCase?: (c: CaseRecord) => void;
}

/** A target with what was learnt about it before the cases. */
export interface PreparedTarget {
  readonly target: Target;
  readonly env: Environment;
  readonly profile: Profile;
  readonly info: TargetInfo;
}

/** Facts, environment and profile (auto-detected or given) for each target. */
export async function prepareTargets(targets: readonly Target[], profile: string): Promise<PreparedTarget[]> {
  const out: PreparedTarget[] = [];
  for (const target of targets) {
    const facts = await target.facts();
    // The runner found by trying the probe, not the host's architecture: qemu-user answers ashmem ioctls itself.
    const emulated = facts.runner?.startsWith('qemu-user') === true;
    const env = { ...environmentFromHello(facts.hello), ...(emulated ? { ioctlEmulation: 'qemu-user' as const } : {}) };
    let chosen = profile;
    let reason = 'given with --profile';
    if (profile === 'auto') {
      const c = await detectProfile(target, emulated);
      chosen = c.profile;
      reason = c.reasons.join('; ');
    }
    if (emulated) reason += '; under qemu-user: ashmem ioctls answer ENOSYS from the emulator and never reach the kernel (modelled as such)';
    out.push({ target, env, profile: profileById(chosen), info: { id: target.id, profile: chosen, profileReason: reason, facts } });
  }
  return out;
}

/** The divergence part of a verdict, for reports. */
export function divergenceInfo(v: Verdict): DivergenceInfo | undefined {
  return v.kind === 'diverged' ? { ...v.divergence } : undefined;
}

/** A file-system-safe name for a target id. */
export function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** The commands that replay a script on a target, for a repro's README. */
export function replayCommands(targetId: string, profile: string, dir: string): string[] {
  const script = path.join(dir, 'script.ops');
  const cmds = [
    `ashmem-harness exec --target ${targetId} ${script} > ${path.join(dir, 'replay.jsonl')}`,
    `ashmem-harness judge --profile ${profile} ${script} ${path.join(dir, 'replay.jsonl')}`,
  ];
  if (targetId.startsWith('adb:')) {
    const serial = targetId.slice(4).split('@')[0] ?? '';
    cmds.push(
      `# or by hand, with the probe built by scripts/build-probe for the device's ABI:`,
      `adb -s ${serial} push apk-fixtures/probe/build/<abi>/ashmem-probe /data/local/tmp/`,
      `adb -s ${serial} shell /data/local/tmp/ashmem-probe < ${script}`,
    );
  }
  return cmds;
}

/** A target that can hand over its logs (adb targets: logcat, and dmesg where readable). */
interface LogSource {
  captureLogcat(lines?: number): Promise<{ available: true; text: string } | { available: false; reason: string }>;
  captureDmesg(lines?: number): Promise<{ available: true; text: string } | { available: false; reason: string }>;
}

function hasLogs(t: Target): t is Target & LogSource {
  return typeof (t as Partial<LogSource>).captureLogcat === 'function' && typeof (t as Partial<LogSource>).captureDmesg === 'function';
}

/** logcat and dmesg for a report, each the text or why it could not be read; never throws. */
export async function caseLogs(t: Target): Promise<{ logcat?: string; dmesg?: string } | undefined> {
  if (!hasLogs(t)) return undefined;
  const text = (l: { available: true; text: string } | { available: false; reason: string }): string => (l.available ? l.text : `(not captured: ${l.reason})`);
  try {
    return { logcat: text(await t.captureLogcat()), dmesg: text(await t.captureDmesg()) };
  } catch (e) {
    return { logcat: `(not captured: ${e instanceof Error ? e.message : String(e)})` };
  }
}

/** Writes a standalone repro folder for a shrunk divergence. */
function writeRepro(out: string, rec: { target: string; id: string; profile: string }, script: string, results: readonly OpResult[], text: string): { dir: string; commands: string[] } {
  const dir = path.join(out, 'repro', `${safeName(rec.target)}-${rec.id}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'script.ops'), `# shrunk divergence: ${rec.id} on ${rec.target}, profile ${rec.profile}\n${script}`);
  fs.writeFileSync(path.join(dir, 'observed.jsonl'), results.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const commands = replayCommands(rec.target, rec.profile, dir);
  fs.writeFileSync(path.join(dir, 'README.txt'), `${text}\n\nReplay:\n${commands.join('\n')}\n`);
  return { dir, commands };
}

/** Judges one executed case and, on a divergence, shrinks it on the target. */
export async function judgeCase(
  p: PreparedTarget,
  id: string,
  text: string,
  script: Script,
  results: readonly OpResult[],
  opts: JudgeOptions,
  out: string,
  shrinkBudget: number,
  started: number,
  extra: Partial<CaseRecord> = {},
  verdict?: Verdict,
): Promise<CaseRecord> {
  const base = { target: p.target.id, id, profile: p.profile.id, script: text, results, ...extra };
  const v = verdict ?? judge(script, results, p.profile, p.env, opts);
  if (v.kind === 'consistent') return { ...base, status: 'passed', durationMs: Date.now() - started };
  if (v.kind !== 'diverged') {
    const status = v.kind === 'undecidable' ? 'skipped' : 'error';
    const logs = status === 'error' ? await caseLogs(p.target) : undefined;
    return { ...base, status, reason: `${v.kind}: ${v.reason}`, ...(logs !== undefined ? { logs } : {}), durationMs: Date.now() - started };
  }
  const small = await shrink(script.ops, async (t) => {
    const o = await p.target.exec(t);
    return judge(parseScript(t), o.results, p.profile, p.env, opts).kind === 'diverged';
  }, shrinkBudget);
  const again = await p.target.exec(small.text);
  const sv = judge(parseScript(small.text), again.results, p.profile, p.env, opts);
  const useSmall = sv.kind === 'diverged';
  const shownScript = useSmall ? parseScript(small.text) : script;
  const shownResults = useSmall ? again.results : results;
  const tl = timeline(shownScript, shownResults, p.profile, p.env, opts);
  const div = divergenceInfo(useSmall ? sv : v) as DivergenceInfo;
  const repro = writeRepro(out, base, useSmall ? small.text : text, shownResults, `${div.rule} (${div.section}) at line ${div.line}: ${div.op}`);
  const logs = await caseLogs(p.target);
  if (logs !== undefined) {
    if (logs.logcat !== undefined) fs.writeFileSync(path.join(repro.dir, 'logcat.txt'), logs.logcat);
    if (logs.dmesg !== undefined) fs.writeFileSync(path.join(repro.dir, 'dmesg.txt'), logs.dmesg);
  }
  return {
    ...base,
    ...(logs !== undefined ? { logs } : {}),
    status: 'diverged',
    divergence: divergenceInfo(v) as DivergenceInfo,
    shrunk: { script: small.text, results: again.results, ...(useSmall ? { divergence: div } : {}), tries: small.tries },
    timeline: tl,
    repro,
    durationMs: Date.now() - started,
  };
}

/** Generation settings for a target: its page size, memfd or not, drop_caches only with root. */
export function settingsFor(p: PreparedTarget, length: number): GenerateSettings {
  return settingsForTarget({ pageSize: p.env.pageSize, root: p.env.root, memfd: p.profile.features.flavor === 'memfd' }, length);
}

/** Runs generated cases across prepared targets and returns the report (also written to `out`). */
export async function runCases(prepared: readonly PreparedTarget[], s: RunSettings): Promise<{ report: Report; error?: TargetError }> {
  fs.mkdirSync(s.out, { recursive: true });
  const started = new Date().toISOString();
  const raw = new JsonlSink(path.join(s.out, 'raw.jsonl'));
  const finished = new JsonlSink(path.join(s.out, 'results.jsonl'));
  const cases: CaseRecord[] = [];
  let error: TargetError | undefined;
  try {
    await Promise.all(prepared.map(async (p, t) => {
      const texts = generateCases(settingsFor(p, s.length), s.cases, s.seed);
      const opts = s.judgeOptions(p.target);
      for (let i = t; i < s.cases && error === undefined; i += prepared.length) {
        const text = texts[i] as string;
        const id = `case-${i}`;
        const t0 = Date.now();
        let results: readonly OpResult[];
        const script = parseScript(text);
        // Judged as the results stream in, so the model's work overlaps the target's.
        const session = new JudgeSession(script, p.profile, p.env, opts);
        try {
          const o = await p.target.exec(text, (r) => {
            raw.write({ target: p.target.id, case: id, ...r });
            session.push(r);
          });
          results = o.results;
          if (o.exit.signal !== null) raw.write({ target: p.target.id, case: id, probeKilled: o.exit.signal, stderr: o.stderr.slice(-2000) });
        } catch (e) {
          if (e instanceof TargetError) {
            error ??= e;
            // A vanished or crashed target's last words (a guest's console with its oops) go into the report.
            const logs = await caseLogs(p.target);
            const rec: CaseRecord = { target: p.target.id, id, profile: p.profile.id, script: text, results: [], status: 'error', reason: e.message, ...(logs !== undefined ? { logs } : {}), durationMs: Date.now() - t0 };
            cases.push(rec);
            finished.write(rec);
            s.onCase?.(rec);
            return;
          }
          throw e;
        }
        for (const r of results) session.push(r); // a target that does not stream gives them all at the end
        const rec = await judgeCase(p, id, text, script, results, opts, s.out, s.shrinkBudget, t0, {}, session.finish());
        cases.push(rec);
        finished.write({ target: rec.target, id: rec.id, status: rec.status, ...(rec.reason !== undefined ? { reason: rec.reason } : {}), ...(rec.divergence !== undefined ? { divergence: rec.divergence } : {}), ...(rec.shrunk !== undefined ? { shrunk: rec.shrunk.script } : {}) });
        s.onCase?.(rec);
      }
    }));
  } finally {
    raw.close();
    finished.close();
  }
  const report: Report = {
    kind: 'run',
    started,
    finished: new Date().toISOString(),
    settings: { cases: s.cases, seed: s.seed, length: s.length, profile: s.profile, shrinkBudget: s.shrinkBudget },
    targets: prepared.map((p) => p.info),
    cases: cases.sort((a, b) => a.target.localeCompare(b.target) || Number(a.id.slice(5)) - Number(b.id.slice(5))),
  };
  return error === undefined ? { report } : { report, error };
}
