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
import { NO_TARGET, type CaseRecord, type DivergenceInfo, type LostTarget, type Report, type TargetInfo } from '../report/types.js';
import { JsonlSink } from '../io.js';
import { TargetError, type Target, type TargetFacts } from '../targets/target.js';
import { detectProfile } from './auto-profile.js';
import { environmentFromHello } from './environment.js';
import { judge, JudgeSession, type JudgeOptions, type Verdict } from './judge.js';
import { DEFAULT_GRACE_MS, interruptReason, killedByInterrupt, settleWithin, TargetHealth, Waker, type StopOptions } from './run-control.js';
import { timeline } from './timeline.js';

/** What `run` was asked to do. */
export interface RunSettings extends StopOptions {
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
  /** Called when a target is lost (the run goes on with the others). */
  readonly onLost?: (l: LostTarget) => void;
  /** Targets lost before the run (while being prepared), for the report. */
  readonly lostBefore?: { readonly lost: readonly LostTarget[]; readonly error?: TargetError };
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

/**
 * Prepares every target it can. With several targets, one that fails while being prepared (gone,
 * no probe for its ABI) is recorded as lost and left out, and the others go on; with one target,
 * or when none could be prepared, the first error is thrown as before.
 */
export async function prepareSurvivors(targets: readonly Target[], profile: string, onLost?: (l: LostTarget) => void): Promise<{ prepared: PreparedTarget[]; lost: LostTarget[]; error?: TargetError }> {
  const prepared: PreparedTarget[] = [];
  const lost: LostTarget[] = [];
  let error: TargetError | undefined;
  for (const target of targets) {
    try {
      prepared.push(...(await prepareTargets([target], profile)));
    } catch (e) {
      if (!(e instanceof TargetError) || targets.length === 1) throw e;
      error ??= e;
      const l: LostTarget = { id: target.id, at: new Date().toISOString(), error: e.name, reason: `while being prepared: ${e.message}`, casesDone: 0, unfinished: [], unfinishedWent: 'to other targets' };
      lost.push(l);
      onLost?.(l);
    }
  }
  if (prepared.length === 0 && error !== undefined) throw error;
  return error === undefined ? { prepared, lost } : { prepared, lost, error };
}

/** The divergence part of a verdict, for reports. */
export function divergenceInfo(v: Verdict): DivergenceInfo | undefined {
  return v.kind === 'diverged' ? { ...v.divergence } : undefined;
}

/** A file-system-safe name for a target id. */
export function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** A word for a POSIX shell: as is when it is plainly safe, else single-quoted. */
export function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/**
 * The `judge` flags that give the judge the options `o` (every field of {@link JudgeOptions}
 * that the CLI can set), so a replay judges exactly as the run did.
 */
export function judgeFlags(o: JudgeOptions): string[] {
  return [
    ...(o.otherUsers ? ['--other-users'] : []),
    ...(o.contended ? ['--contended'] : []),
    ...(o.backgroundReclaim ? ['--background-reclaim'] : []),
    '--shrinker', o.shrinker ?? 'any-prefix',
    ...(o.checkInvariants ? ['--check-invariants'] : []),
  ];
}

/** The `judge` flags for what the hello line cannot say about the environment (an emulated ABI). */
export function environmentFlags(env: Environment): string[] {
  return env.ioctlEmulation === 'qemu-user' ? ['--ioctl-emulation', 'qemu-user'] : [];
}

/**
 * The commands that replay a repro folder: `judge` on its own files (the verdict of the run,
 * exactly), then `exec` on the same target and `judge` of the fresh results; for a device, the
 * probe by hand with adb as well.
 */
export function replayCommands(p: PreparedTarget, opts: JudgeOptions, dir: string): string[] {
  const q = (words: readonly string[]): string => words.map(shellWord).join(' ');
  const script = path.join(dir, 'script.ops');
  const judgeArgs = ['--profile', p.profile.id, ...judgeFlags(opts), ...environmentFlags(p.env)];
  const cmds = [
    '# the verdict of the run, from the results it saw (observed.jsonl starts with the probe\'s hello line):',
    q(['ashmem-harness', 'judge', ...judgeArgs, script, path.join(dir, 'observed.jsonl')]),
  ];
  const execArgs = p.target.replayArgs?.();
  if (execArgs !== undefined) {
    cmds.push(
      '# again on the target:',
      `${q(['ashmem-harness', 'exec', ...execArgs, script])} > ${shellWord(path.join(dir, 'replay.jsonl'))}`,
      q(['ashmem-harness', 'judge', ...judgeArgs, script, path.join(dir, 'replay.jsonl')]),
    );
  }
  const byHand = p.target.byHand?.(script);
  if (byHand !== undefined && byHand.length > 0) cmds.push('# or by hand, without the harness:', ...byHand);
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

/**
 * Writes a standalone repro folder: `script.ops` exactly as executed (no header line, so its line
 * numbers are the ones `observed.jsonl` and the README name), `observed.jsonl` (the probe's hello,
 * then the results) and `README.txt` (what diverged, where, and the replay commands).
 */
function writeRepro(out: string, p: PreparedTarget, id: string, script: string, results: readonly OpResult[], opts: JudgeOptions, about: string[]): { dir: string; commands: string[] } {
  const dir = path.join(out, 'repro', `${safeName(p.target.id)}-${id}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'script.ops'), script);
  const hello = (p.info.facts as Partial<TargetFacts> | undefined)?.hello;
  const lines = [...(hello !== undefined ? [{ hello }] : []), ...results];
  fs.writeFileSync(path.join(dir, 'observed.jsonl'), lines.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const commands = replayCommands(p, opts, dir);
  fs.writeFileSync(path.join(dir, 'README.txt'), `${about.join('\n')}\n\nReplay:\n${commands.join('\n')}\n`);
  return { dir, commands };
}

/**
 * Judges one executed case and, on a divergence, shrinks it on the target (unless `signal` has
 * stopped the run: then the case is reported as it ran) and writes its repro folder.
 */
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
  signal?: AbortSignal,
): Promise<CaseRecord> {
  const base = { target: p.target.id, id, profile: p.profile.id, script: text, results, ...extra };
  const v = verdict ?? judge(script, results, p.profile, p.env, opts);
  if (v.kind === 'consistent') return { ...base, status: 'passed', durationMs: Date.now() - started };
  if (v.kind !== 'diverged') {
    const status = v.kind === 'undecidable' ? 'skipped' : 'error';
    const logs = status === 'error' ? await caseLogs(p.target) : undefined;
    return { ...base, status, reason: `${v.kind}: ${v.reason}`, ...(logs !== undefined ? { logs } : {}), durationMs: Date.now() - started };
  }
  let shrunk: CaseRecord['shrunk'];
  let shrinkNote: string | undefined;
  if (signal?.aborted === true) shrinkNote = `not shrunk: ${interruptReason(signal)}`;
  else {
    try {
      const small = await shrink(script.ops, async (t) => {
        // Once the run is stopped, no candidate runs: the smallest found so far stands.
        if (signal?.aborted === true) return false;
        const o = await p.target.exec(t);
        return judge(parseScript(t), o.results, p.profile, p.env, opts).kind === 'diverged';
      }, shrinkBudget);
      const again = await p.target.exec(small.text);
      const sv = judge(parseScript(small.text), again.results, p.profile, p.env, opts);
      shrunk = { script: small.text, results: again.results, ...(sv.kind === 'diverged' ? { divergence: { ...sv.divergence } } : {}), tries: small.tries };
      if (sv.kind !== 'diverged') shrinkNote = `the shrunk script (${small.tries} tries) did not diverge again when re-run (${sv.kind}): the repro keeps the original`;
    } catch (e) {
      // The target failed while shrinking (it may be gone): report the case as it ran.
      if (!(e instanceof TargetError)) throw e;
      shrinkNote = `not shrunk: the target failed while shrinking (${e.message})`;
    }
  }
  const useSmall = shrunk?.divergence !== undefined;
  const shownText = useSmall && shrunk !== undefined ? shrunk.script : text;
  const shownScript = useSmall ? parseScript(shownText) : script;
  const shownResults = useSmall && shrunk !== undefined ? shrunk.results : results;
  const div = (useSmall ? shrunk?.divergence : undefined) ?? { ...v.divergence };
  const tl = timeline(shownScript, shownResults, p.profile, p.env, opts);
  const about = [
    `${div.rule} (${div.section}) at line ${div.line}: ${div.op}`,
    `${id} on ${p.target.id}, judged against profile ${p.profile.id}.`,
    useSmall
      ? `script.ops is the shrunk script (${shownScript.ops.length} ops, from ${script.ops.length}, ${shrunk?.tries ?? 0} tries), re-executed on the target; observed.jsonl holds those results.`
      : `script.ops is the case as generated (${script.ops.length} ops); observed.jsonl holds its results${shrinkNote !== undefined ? ` (${shrinkNote})` : ''}.`,
  ];
  const repro = writeRepro(out, p, id, shownText, shownResults, opts, about);
  const logs = await caseLogs(p.target);
  if (logs !== undefined) {
    if (logs.logcat !== undefined) fs.writeFileSync(path.join(repro.dir, 'logcat.txt'), logs.logcat);
    if (logs.dmesg !== undefined) fs.writeFileSync(path.join(repro.dir, 'dmesg.txt'), logs.dmesg);
  }
  return {
    ...base,
    ...(logs !== undefined ? { logs } : {}),
    ...(shrinkNote !== undefined ? { reason: shrinkNote } : {}),
    status: 'diverged',
    divergence: { ...v.divergence },
    ...(shrunk !== undefined ? { shrunk } : {}),
    timeline: { ...tl, shows: useSmall ? 'shrunk' : 'original' },
    repro,
    durationMs: Date.now() - started,
  };
}

/** Generation settings for a target: its page size, memfd or not, drop_caches only with root, the probe under qemu-user or not. */
export function settingsFor(p: PreparedTarget, length: number): GenerateSettings {
  return settingsForTarget({ pageSize: p.env.pageSize, root: p.env.root, memfd: p.profile.features.flavor === 'memfd', ioctlEmulation: p.env.ioctlEmulation }, length);
}

/** A case that never ran, or was cut by the stop: recorded as skipped with why. */
export function notRunRecord(target: string, id: string, profile: string, reason: string, extra: Partial<CaseRecord> = {}): CaseRecord {
  return { target, id, profile, script: '', results: [], ...extra, status: 'skipped', reason: `not run: ${reason}`, notRun: true, durationMs: 0 };
}

/** The line results.jsonl carries for a case. */
function resultLine(rec: CaseRecord): Record<string, unknown> {
  return {
    target: rec.target,
    id: rec.id,
    status: rec.status,
    ...(rec.reason !== undefined ? { reason: rec.reason } : {}),
    ...(rec.notRun === true ? { notRun: true } : {}),
    ...(rec.divergence !== undefined ? { divergence: rec.divergence } : {}),
    ...(rec.shrunk !== undefined ? { shrunk: rec.shrunk.script } : {}),
  };
}

/** `case-17` → 17. */
function caseNumber(id: string): number {
  return Number(id.slice(5));
}

/**
 * Runs generated cases across prepared targets and returns the report (also streamed to `out`).
 *
 * Case i is planned for target i mod n (the same seed gives the same plan). A target that is
 * lost (its error says so, or {@link MAX_CONSECUTIVE_FAILURES} failures in a row) stops taking
 * cases; the cases it still owed, and its case in flight (once, and not when the failure is a
 * finding such as a kernel crash: then it is recorded as an error with the target's logs), go to
 * the targets still running, and the report records which target was lost, when and why. When no target is left, the remaining cases are recorded as not run. On
 * `s.signal` no new case starts; cases in flight get `s.graceMs` to end, and every case that did
 * not run is recorded as skipped with the reason. `error` is the first loss, if any.
 */
export async function runCases(prepared: readonly PreparedTarget[], s: RunSettings): Promise<{ report: Report; error?: TargetError }> {
  fs.mkdirSync(s.out, { recursive: true });
  const started = new Date().toISOString();
  const raw = new JsonlSink(path.join(s.out, 'raw.jsonl'));
  const finished = new JsonlSink(path.join(s.out, 'results.jsonl'));
  const signal = s.signal;
  const graceMs = s.graceMs ?? DEFAULT_GRACE_MS;
  // A function, not a property read: TypeScript would narrow the property across awaits.
  const stopping = (): boolean => signal?.aborted === true;
  // Cases that end after the grace period no longer count (the reports are being written).
  let open = true;
  const cases: CaseRecord[] = [];
  const lost: LostTarget[] = [...(s.lostBefore?.lost ?? [])];
  let firstLoss: TargetError | undefined = s.lostBefore?.error;
  // Case i is planned for target i mod n, as before: the same seed gives the same plan. A lost
  // target's cases (its case in flight, once, and those it still owed) go to a shared queue that
  // the targets still running take from when their own work is done.
  const own: number[][] = prepared.map((_, t) => Array.from({ length: Math.max(0, Math.ceil((s.cases - t) / prepared.length)) }, (_, k) => t + k * prepared.length));
  const orphans: number[] = [];
  const inFlight = new Map<number, PreparedTarget>();
  const busy = new Set<number>();
  const lostIds = new Set<string>();
  /** Cases once handed from a lost target to another. */
  const handedOver = new Set<number>();
  const waker = new Waker();
  signal?.addEventListener('abort', () => waker.notify(), { once: true });
  const texts = new Map<PreparedTarget, string[]>();
  const textOf = (p: PreparedTarget, i: number): string => {
    let t = texts.get(p);
    if (t === undefined) {
      t = generateCases(settingsFor(p, s.length), s.cases, s.seed);
      texts.set(p, t);
    }
    return t[i] as string;
  };
  const record = (rec: CaseRecord): void => {
    if (!open) return;
    cases.push(rec);
    finished.write(resultLine(rec));
    s.onCase?.(rec);
  };
  const rawLine = (v: Record<string, unknown>): void => {
    if (open) raw.write(v);
  };

  const worker = async (p: PreparedTarget, t: number): Promise<void> => {
    const health = new TargetHealth();
    const opts = s.judgeOptions(p.target);
    const mine = own[t] as number[];
    let done = 0;
    for (;;) {
      if (stopping()) return;
      const i = mine.shift() ?? orphans.shift();
      if (i === undefined) {
        // Nothing left here; another target still working may yet be lost and leave cases behind.
        if (![...busy].some((u) => u !== t)) return;
        busy.delete(t);
        await waker.next();
        busy.add(t);
        continue;
      }
      inFlight.set(i, p);
      try {
        const id = `case-${i}`;
        const text = textOf(p, i);
        const t0 = Date.now();
        const script = parseScript(text);
        // Judged as the results stream in, so the model's work overlaps the target's.
        const session = new JudgeSession(script, p.profile, p.env, opts);
        let results: readonly OpResult[];
        try {
          const o = await p.target.exec(text, (r) => {
            rawLine({ target: p.target.id, case: id, ...r });
            session.push(r);
          });
          results = o.results;
          if (o.exit.signal !== null) {
            rawLine({ target: p.target.id, case: id, probeKilled: o.exit.signal, stderr: o.stderr.slice(-2000) });
            if (await killedByInterrupt(o.exit.signal, signal)) {
              record(notRunRecord(p.target.id, id, p.profile.id, `${interruptReason(signal as AbortSignal)} while in flight (the probe was killed by ${o.exit.signal}; its results so far are in raw.jsonl)`, { script: text }));
              return;
            }
          }
        } catch (e) {
          if (!(e instanceof TargetError)) throw e;
          if (stopping()) {
            record(notRunRecord(p.target.id, id, p.profile.id, `${interruptReason(signal as AbortSignal)} while in flight (${e.message})`, { script: text }));
            return;
          }
          // A vanished or crashed target's last words (a guest's console with its oops) go into the report.
          const logs = await caseLogs(p.target);
          const failed: CaseRecord = { target: p.target.id, id, profile: p.profile.id, script: text, results: [], status: 'error', reason: e.message, ...(logs !== undefined ? { logs } : {}), durationMs: Date.now() - t0 };
          if (health.failed(e)) {
            firstLoss ??= e;
            lostIds.add(p.target.id);
            // A target that went away says nothing about the driver: its case in flight goes to
            // a target still running, once. A case that was in flight when a second target was
            // lost, or whose failure is a finding (a kernel crash), or that failed a target
            // several times in a row, is recorded as the error it was, with the target's logs.
            const survivor = prepared.some((q) => !lostIds.has(q.target.id));
            const handOver = e.lost && !e.isResult && survivor && !handedOver.has(i);
            if (handOver) handedOver.add(i);
            else record(failed);
            const left = [...(handOver ? [i] : []), ...mine.splice(0)];
            orphans.push(...left);
            orphans.sort((x, y) => x - y);
            const info: LostTarget = { id: p.target.id, at: new Date().toISOString(), error: e.name, reason: e.message, casesDone: done, unfinished: left.map((x) => `case-${x}`), unfinishedWent: survivor ? 'to other targets' : 'not run', ...(logs !== undefined ? { logs } : {}) };
            lost.push(info);
            s.onLost?.(info);
            return;
          }
          record(failed);
          done++;
          continue;
        }
        health.ok();
        for (const r of results) session.push(r); // a target that does not stream gives them all at the end
        const rec = await judgeCase(p, id, text, script, results, opts, s.out, s.shrinkBudget, t0, {}, session.finish(), signal);
        done++;
        record(rec);
      } finally {
        inFlight.delete(i);
        waker.notify();
      }
    }
  };

  let why: string | undefined;
  try {
    prepared.forEach((_, t) => busy.add(t));
    const ended = await settleWithin(Promise.all(prepared.map((p, t) => worker(p, t).finally(() => {
      busy.delete(t);
      waker.notify();
    }))), signal, graceMs);
    why = stopping() ? interruptReason(signal as AbortSignal) : undefined;
    if (!ended) {
      for (const [i, p] of inFlight) {
        record(notRunRecord(p.target.id, `case-${i}`, p.profile.id, `${why ?? 'stopped'} while in flight; it did not end within ${graceMs / 1000} s (its results so far are in raw.jsonl)`));
      }
    }
    const lastLoss = lost[lost.length - 1];
    const leftReason = why ?? (lastLoss !== undefined ? `every target was lost (the last: ${lastLoss.id}, ${lastLoss.error})` : 'no target ran it');
    const left = [...own.flat(), ...orphans].sort((a, b) => a - b);
    for (const i of left) record(notRunRecord(NO_TARGET, `case-${i}`, s.profile, leftReason));
  } finally {
    open = false;
    raw.close();
    finished.close();
  }
  const notRun = cases.filter((c) => c.notRun === true).length;
  const report: Report = {
    kind: 'run',
    started,
    finished: new Date().toISOString(),
    settings: { cases: s.cases, seed: s.seed, length: s.length, profile: s.profile, shrinkBudget: s.shrinkBudget },
    targets: prepared.map((p) => p.info),
    cases: cases.sort((a, b) => Number(a.target === NO_TARGET) - Number(b.target === NO_TARGET) || a.target.localeCompare(b.target) || caseNumber(a.id) - caseNumber(b.id)),
    ...(lost.length > 0 ? { lost } : {}),
    ...(notRun > 0
      ? { stopped: why !== undefined
        ? { cause: 'interrupted' as const, reason: why, notRun, total: s.cases }
        : { cause: 'targets-lost' as const, reason: 'every target was lost', notRun, total: s.cases } }
      : {}),
  };
  return firstLoss === undefined ? { report } : { report, error: firstLoss };
}
