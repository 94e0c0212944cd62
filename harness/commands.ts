/**
 * The verbs that reach a target: exec, run, conform. Kept apart from cli.ts so that the
 * model-only verbs load without the adb stack.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { wholeNumber } from './cli-values.js';
import { checkOutFile, prepareOutFolder } from './out-folder.js';
import type { JudgeOptions } from './check/judge.js';
import { QUIET } from './check/worlds.js';
import { DEFAULT_GRACE_MS } from './check/run-control.js';
import type { PreparedTarget } from './check/run.js';
import type { CaseRecord, LostTarget, Report } from './report/types.js';
import { InputError, JsonlSink, escapedText, readScript } from './io.js';
import type { ResolveOptions } from './targets/resolve.js';
import type { Target, TargetError } from './targets/target.js';
import type { OpResult } from './ops/result.js';

/** Collects a repeatable option. (Variadic options would swallow the positional script.) */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Target options shared by exec, run and conform. */
export function targetOptions(cmd: Command): Command {
  return cmd
    .option('--target <spec>', 'local, local:ABI (arm64-v8a, armeabi-v7a, x86_64, x86), vm, vm:ARCH[/ABI|/all] (a QEMU guest with a real ashmem driver: vm:x86_64/x86, vm:arm64/armeabi-v7a, ...), adb:SERIAL, adb:SERIAL@HOST:PORT or adb:all; repeat for several (default local)', collect, [])
    .option('--adb-server <host:port>', 'an adb server to use (device labs, STF); repeatable; default the local one', collect, [])
    .addOption(new Option('--backend <b>', 'probe backend (ashmem, memfd, or auto)').choices(['auto', 'ashmem', 'memfd']))
    .option('--agent', 'serve cases through the probe\'s agent: many cases per connection (0 round trips per case)')
    .addOption(new Option('--agent-transport <t>', 'how agent connections reach the device').choices(['direct', 'forward']))
    .option('--device-dir <dir>', 'device folder for the probe (default /data/local/tmp)')
    .option('--keep', 'leave the pushed probe on devices')
    .option('--try-root', 'try "adb root" on debuggable images (PURGE_ALL_CACHES and drop_caches need root)')
    .option('--vm-kernel <path>', 'vm targets: boot this kernel image (bzImage / Image) instead of Debian 11\'s 5.10')
    .option('--vm-module <path>', 'vm targets: a module for --vm-kernel, loaded in order (the ashmem .ko; virtio-net ones if not built in); repeatable', collect, [])
    .option('--vm-kernel-deb <path>', 'vm targets: a local kernel package (.deb) with the ashmem module, for machines without the archive')
    .option('--vm-cache <dir>', 'vm targets: cache of kernels and initramfs images (default $ASHMEM_HARNESS_CACHE, else $XDG_CACHE_HOME/ashmem-harness)')
    .addOption(new Option('--vm-accel <a>', 'vm targets: KVM when it really boots the guest, else TCG (auto); or force one').choices(['auto', 'kvm', 'tcg']))
    .option('--vm-memory <mib>', 'vm targets: guest memory in MiB (default 512)', (v: string) => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 128 || n > 65536) throw new InvalidArgumentError(`--vm-memory must be a whole number of MiB from 128 to 65536, got "${v}"`);
      return n;
    });
}

export interface TargetFlags {
  target: string[]; adbServer?: string[]; backend?: 'auto' | 'ashmem' | 'memfd'; agent?: boolean; agentTransport?: 'direct' | 'forward'; deviceDir?: string; keep?: boolean; tryRoot?: boolean;
  vmKernel?: string; vmModule?: string[]; vmKernelDeb?: string; vmCache?: string; vmAccel?: 'auto' | 'kvm' | 'tcg'; vmMemory?: number;
}

/** Resolve options from flags. */
export function resolveOptionsFrom(f: TargetFlags): ResolveOptions {
  return {
    ...(f.adbServer !== undefined && f.adbServer.length > 0 ? { adbServers: f.adbServer } : {}),
    ...(f.backend !== undefined ? { backend: f.backend } : {}),
    agent: f.agent === true,
    ...(f.agentTransport !== undefined ? { agentTransport: f.agentTransport } : {}),
    ...(f.deviceDir !== undefined ? { deviceDir: f.deviceDir } : {}),
    keep: f.keep === true,
    tryRoot: f.tryRoot === true,
    vm: {
      ...(f.vmKernel !== undefined ? { kernel: f.vmKernel } : {}),
      ...(f.vmModule !== undefined && f.vmModule.length > 0 ? { modules: f.vmModule } : {}),
      ...(f.vmKernelDeb !== undefined ? { kernelDeb: f.vmKernelDeb } : {}),
      ...(f.vmCache !== undefined ? { cache: f.vmCache } : {}),
      ...(f.vmAccel !== undefined ? { accel: f.vmAccel } : {}),
      ...(f.vmMemory !== undefined ? { memoryMiB: f.vmMemory } : {}),
      progress: (line: string) => process.stderr.write(`${line}\n`),
    },
  };
}

/** The first `--target` value given twice, if any. */
function repeatedSpec(specs: readonly string[]): string | undefined {
  return specs.find((s, i) => specs.indexOf(s) !== i);
}

/** Refuses a `--target` value given twice, before anything is created or touched. */
function checkTargetSpecs(flags: TargetFlags): void {
  const twice = repeatedSpec(flags.target);
  if (twice !== undefined) throw new InputError(`--target ${escapedText(twice)} is given twice: name each target once`);
}

/**
 * Opens targets; the adb stack is loaded only when a command needs a target.
 * @throws InputError when a target is named twice (`--target local --target local`, or
 *   `adb:all` with one of its devices): it would run every case twice on one device
 */
export async function openTargets(flags: TargetFlags): Promise<Target[]> {
  checkTargetSpecs(flags);
  const { resolveTargets } = await import('./targets/resolve.js');
  const targets = await resolveTargets(flags.target.length > 0 ? flags.target : ['local'], resolveOptionsFrom(flags));
  const ids = targets.map((t) => t.id);
  const dup = repeatedSpec(ids);
  if (dup !== undefined) {
    for (const t of targets) await t.close();
    throw new InputError(`target ${dup} is named twice (by ${flags.target.join(', ')}): name each device once`);
  }
  return targets;
}

const int = wholeNumber;

interface BusyFlags { otherUsers?: boolean; quiet?: boolean; backgroundReclaim?: boolean; shrinker?: 'any-prefix' | 'batches' }

/** Options saying how busy the targets are. */
function busyOptions(cmd: Command): Command {
  return cmd
    .option('--quiet', 'treat devices as exclusive and quiet (a fresh emulator nobody else uses): exact PURGE_ALL_CACHES counts')
    .option('--background-reclaim', 'reclaim may purge an LRU prefix before any op')
    .addOption(new Option('--shrinker <model>', 'what drop_caches or pressure may purge (§5.2, §5.3)').choices(['any-prefix', 'batches']));
}

/**
 * Judge options for a target: this machine is exclusive and quiet; a device is busy (other
 * apps use ashmem, its lock may be contended) unless --quiet says otherwise. A vm guest is quiet
 * and gives every drop_caches or pressure case a freshly booted guest, so its purges are judged
 * with the shrinker's batch arithmetic of a fresh guest (§5.2, §12) unless --shrinker says otherwise.
 */
export function judgeOptionsFor(targetId: string, f: BusyFlags): JudgeOptions {
  const device = targetId.startsWith('adb:') && f.quiet !== true;
  const vm = targetId === 'vm' || targetId.startsWith('vm:');
  return {
    ...QUIET,
    otherUsers: device,
    contended: device,
    backgroundReclaim: f.backgroundReclaim === true,
    shrinker: f.shrinker ?? (vm ? 'batches' : 'any-prefix'),
  };
}

/** What was learnt about a target before the cases, for stderr: how its probe runs, its profile and why. */
async function preparedLine(t: { readonly target: Target; readonly info: { readonly id: string; readonly profile: string; readonly profileReason: string } }): Promise<string> {
  const runner = (await t.target.facts()).runner;
  return `${t.info.id}: ${runner !== undefined ? `probe runs ${runner}; ` : ''}profile ${t.info.profile} (${t.info.profileReason})\n`;
}

/** Writes report.json, junit.xml and report.html into `out`. */
async function writeReports(report: Report, out: string): Promise<void> {
  const { writeJson } = await import('./report/json.js');
  const { writeJunit } = await import('./report/junit.js');
  const { writeHtml } = await import('./report/html.js');
  writeJson(report, path.join(out, 'report.json'));
  writeJunit(report, path.join(out, 'junit.xml'));
  writeHtml(report, path.join(out, 'report.html'));
}

/** Exit code of a run stopped by SIGINT / SIGTERM (128 + SIGINT, as shells report Ctrl-C). */
export const EXIT_INTERRUPTED = 130;

/**
 * SIGINT / SIGTERM for `run` and `conform`: the first aborts the returned signal (no new cases;
 * those in flight get a bounded time; the reports are written) and calls `onFirst`; a second
 * exits at once with {@link EXIT_INTERRUPTED}. `dispose` removes the handlers.
 */
export function interruptHandler(out: string, onFirst: () => void): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController();
  const handle = (sig: NodeJS.Signals): void => {
    if (ctl.signal.aborted) {
      process.stderr.write(`\nashmem-harness: ${sig} again: exiting now; the results streamed so far are in ${out} (results.jsonl, raw.jsonl)\n`);
      process.exit(EXIT_INTERRUPTED);
    }
    onFirst();
    process.stderr.write(`\nashmem-harness: ${sig}: stopping — no new cases; the cases in flight get ${DEFAULT_GRACE_MS / 1000} s, then the reports are written (${sig} again to exit at once)\n`);
    ctl.abort(sig);
    // Interrupted is the answer even when the signal lands after the last case, as reports are written.
    process.exitCode = EXIT_INTERRUPTED;
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
  return {
    signal: ctl.signal,
    dispose: () => {
      process.off('SIGINT', handle);
      process.off('SIGTERM', handle);
    },
  };
}

/**
 * Writes the reports, prints the summary and sets the exit code: 130 when interrupted; else 2
 * when a target was lost (even if the others ran every case: that target's coverage is short) or
 * errors occurred; else 1 for a divergence; else 0.
 */
async function finish(report: Report, error: Error | undefined, out: string, head: string, detail: (c: Report['cases'][number]) => string | undefined, unit: string, interrupted: AbortSignal): Promise<void> {
  const { countStatuses, countsLine, lostLine, stoppedLine } = await import('./report/text.js');
  await writeReports(report, out);
  const n = countStatuses(report.cases);
  for (const c of report.cases) {
    const line = detail(c);
    if (line !== undefined) process.stdout.write(`  ${line}\n`);
  }
  process.stdout.write(`${head}: ${countsLine(n)}; reports in ${out} (report.html, report.json, junit.xml)\n`);
  for (const l of report.lost ?? []) process.stderr.write(`ashmem-harness: ${lostLine(l)}\n`);
  if (report.stopped !== undefined) process.stderr.write(`ashmem-harness: ${stoppedLine(report.stopped, unit)}; results so far are in ${out}\n`);
  else if (error !== undefined && report.lost === undefined) process.stderr.write(`ashmem-harness: ${error.message}\n(results are in ${out})\n`);
  if (report.stopped?.cause === 'interrupted' || interrupted.aborted) process.exitCode = EXIT_INTERRUPTED;
  else if (error !== undefined || report.lost !== undefined) process.exitCode = 2;
  else process.exitCode = n.diverged > 0 ? 1 : n.error > 0 ? 2 : 0;
}

/** What run's and conform's loops are handed: progress and loss hooks, the stop signal, the targets lost while being prepared. */
interface LoopHooks {
  readonly onCase: (c: CaseRecord) => void;
  readonly onLost: (l: LostTarget) => void;
  readonly signal: AbortSignal;
  readonly lostBefore: { readonly lost: readonly LostTarget[]; readonly error?: TargetError };
}

/** The part of run and conform that differs: the loop over prepared targets, and what the summary says. */
interface TargetLoop {
  /** Steps of the progress bar, from the targets prepared and those lost while being prepared. */
  readonly total: (prepared: number, lost: number) => number;
  readonly loop: (prepared: PreparedTarget[], hooks: LoopHooks) => Promise<{ report: Report; error?: TargetError }>;
  /** The summary's head, from the report and the number of targets opened. */
  readonly head: (report: Report, targets: number) => string;
  /** A line for a case worth naming in the summary, or undefined. */
  readonly detail: (c: Report['cases'][number]) => string | undefined;
  /** What the counts count (`cases`, `scenario runs`). */
  readonly unit: string;
}

/**
 * The frame run and conform share around their loop: the target specs checked and the report
 * folder prepared, the targets opened and prepared (one lost meanwhile is said, and the others
 * go on), a progress bar, the first signal stopping the loop, the reports written and the
 * summary said, and the targets closed (their device folders cleaned) however it ends.
 */
async function onPreparedTargets(flags: TargetFlags & { out: string; force?: boolean; profile: string }, run: TargetLoop): Promise<void> {
  const { prepareSurvivors } = await import('./check/run.js');
  const { createProgress } = await import('./report/progress.js');
  checkTargetSpecs(flags);
  prepareOutFolder(flags.out, flags.force === true);
  const { lostLine } = await import('./report/text.js');
  let progress: { stop(): void } | undefined;
  const interrupt = interruptHandler(flags.out, () => progress?.stop());
  const targets = await openTargets(flags);
  try {
    const before = await prepareSurvivors(targets, flags.profile, (l) => process.stderr.write(`ashmem-harness: ${lostLine(l)}; the other targets go on\n`));
    const prepared = before.prepared;
    for (const t of prepared) process.stderr.write(await preparedLine(t));
    const bar = createProgress(run.total(prepared.length, before.lost.length), process.stderr);
    progress = bar;
    const { report, error } = await run.loop(prepared, {
      onCase: (c) => bar.tick(`${c.id} on ${c.target}`, c.status),
      onLost: (l) => bar.note(`ashmem-harness: ${lostLine(l)}; the other targets go on`),
      signal: interrupt.signal,
      lostBefore: before,
    });
    bar.stop();
    await finish(report, error, flags.out, run.head(report, targets.length), run.detail, run.unit, interrupt.signal);
  } finally {
    // Cleans the device folders (probe, scratch files) even when interrupted; a second signal exits at once.
    for (const t of targets) await t.close();
    interrupt.dispose();
  }
}

/** Adds exec (and, as they exist, run and conform) to the program. */
export function registerTargetCommands(p: Command): void {
  targetOptions(p.command('exec'))
    .description("run a script on a target in one round trip; the target's real results as JSON Lines (the hello line first)")
    .argument('<script>', 'op script file, or - for standard input')
    .option('--out <file>', 'also append the lines to this file as they arrive')
    .action(async (file: string, flags: TargetFlags & { out?: string }) => {
      const { text } = readScript(file); // fail on a bad script before touching a device
      if (flags.target.length > 1) throw new InputError(`exec runs on one target, got ${flags.target.length} (--target ${flags.target.map(escapedText).join(' --target ')}): keep one (run and conform take several)`);
      if (flags.out !== undefined) checkOutFile(flags.out);
      const targets = await openTargets(flags);
      if (targets.length !== 1) {
        for (const t of targets) await t.close();
        throw new InputError(`exec runs on one target; ${flags.target.join(' ')} names ${targets.length} (${targets.map((t) => t.id).join(', ')}): name one device`);
      }
      const target = targets[0] as (typeof targets)[0];
      const sink = flags.out === undefined ? undefined : new JsonlSink(flags.out);
      const emit = (v: unknown): void => {
        process.stdout.write(JSON.stringify(v) + '\n');
        sink?.write(v);
      };
      try {
        emit({ hello: (await target.facts()).hello });
        const outcome = await target.exec(text, (r: OpResult) => emit(r));
        if (outcome.exit.signal !== null) process.stderr.write(`ashmem-harness: the probe was killed by ${outcome.exit.signal} (see the kernel log; §12 SMAP note)\n`);
      } finally {
        sink?.close();
        await target.close();
      }
    });

  busyOptions(targetOptions(p.command('run')))
    .description('generated cases on the target(s): executed, judged, divergences shrunk, reports written')
    .option('--profile <id>', 'model profile, or auto (from the target\'s facts and fingerprints)', 'auto')
    .option('--cases <n>', 'cases in all, at least 1 (sharded across targets)', int('cases', 1), 100)
    .option('--seed <n>', 'seed: the same seed gives the same cases', int('seed'), 1)
    .option('--length <n>', 'ops per case at most, at least 1 (after the prelude)', int('length', 1), 40)
    .option('--shrink-budget <n>', 're-executions allowed to shrink one divergence', int('shrink budget'), 200)
    .requiredOption('--out <dir>', 'report folder (results.jsonl, raw.jsonl, report.json, junit.xml, report.html, repro/); an earlier run\'s files there are replaced')
    .option('--force', 'run even if --out holds files the harness did not write (they are left alone)')
    .action(async (flags: TargetFlags & BusyFlags & { profile: string; cases: number; seed: number; length: number; shrinkBudget: number; out: string; force?: boolean }) => {
      const { runCases } = await import('./check/run.js');
      await onPreparedTargets(flags, {
        total: () => flags.cases,
        loop: async (prepared, hooks) => {
          fs.mkdirSync(flags.out, { recursive: true });
          return runCases(prepared, {
            cases: flags.cases, seed: flags.seed, length: flags.length, out: flags.out, profile: flags.profile, shrinkBudget: flags.shrinkBudget,
            judgeOptions: (t) => judgeOptionsFor(t.id, flags),
            ...hooks,
          });
        },
        head: (report) => `${report.cases.length} cases`,
        detail: (c) => (c.repro !== undefined ? `${c.id} on ${c.target}: ${c.divergence?.rule ?? ''} -> ${c.repro.dir}` : undefined),
        unit: 'cases',
      });
    });

  busyOptions(targetOptions(p.command('conform')))
    .description('the curated suite: one scenario per behaviour of the spec, judged per scenario on each target')
    .option('--profile <id>', 'model profile, or auto', 'auto')
    .option('--only <pattern>', 'only scenarios whose name matches this regular expression')
    .requiredOption('--out <dir>', 'report folder (results.jsonl, raw.jsonl, report.json, junit.xml, report.html, repro/); an earlier run\'s files there are replaced')
    .option('--force', 'run even if --out holds files the harness did not write (they are left alone)')
    .action(async (flags: TargetFlags & BusyFlags & { profile: string; only?: string; out: string; force?: boolean }) => {
      const { conformSuite, loadScenarios } = await import('./check/conform.js');
      let only: RegExp | undefined;
      try {
        only = flags.only === undefined ? undefined : new RegExp(flags.only);
      } catch (e) {
        throw new InputError(`--only ${escapedText(flags.only ?? '')} is not a valid regular expression (${(e as Error).message}); escape ( [ { \\ with a backslash`);
      }
      const scenarios = loadScenarios(undefined, only);
      if (scenarios.length === 0) throw new InputError(`no scenario name matches --only ${escapedText(flags.only ?? '')} (names look like 3.6-status-order; see conformance/scenarios/)`);
      await onPreparedTargets(flags, {
        total: (prepared, lost) => scenarios.length * (prepared + lost),
        loop: (prepared, hooks) => conformSuite(prepared, scenarios, flags.out, (pt) => judgeOptionsFor(pt.target.id, flags), hooks),
        head: (_report, targets) => `${scenarios.length} scenarios x ${targets} target(s)`,
        detail: (c) => (c.status === 'diverged' ? `DIVERGED ${c.id} on ${c.target} (${c.section ?? ''}): ${c.divergence?.rule ?? ''}` : undefined),
        unit: 'scenario runs',
      });
    });
}
