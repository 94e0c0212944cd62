/**
 * ashmem-harness command line: profiles, predict, judge, exec, run, diff, conform.
 * Exit codes: 0 consistent / done, 1 divergence, 2 usage or environment error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { kernelRelease, pageSize, wholeNumber } from './cli-values.js';
import { windowTooLarge } from './check/window-limit.js';
import { packageRoot } from './package-root.js';
import { environmentFromHello, findHello, fixtureApiLevel, HelloError } from './check/environment.js';
import { diffProfiles } from './check/diff.js';
import { formatDivergence, judge, type JudgeOptions } from './check/judge.js';
import { predict } from './check/predict.js';
import { QUIET } from './check/worlds.js';
import { InputError, readResults, readScript } from './io.js';
import { DEFAULT_ENVIRONMENT, PROFILES, profileById, UnknownProfileError, type Environment } from './model/profile.js';
import { defaultSettings } from './ops/generate.js';
import { TargetError, type ProbeHello } from './targets/target.js';
import { registerTargetCommands } from './commands.js';

/** Exit codes. */
export const EXIT = { ok: 0, diverged: 1, usage: 2 } as const;

const int = wholeNumber;

/** This package's version (package.json), for --version. */
function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/** Reads a script for the model: refuses windows the model cannot walk in bounded time and memory. */
function readModelScript(file: string): ReturnType<typeof readScript> {
  const read = readScript(file);
  const tooLarge = windowTooLarge(read.script);
  if (tooLarge !== undefined) throw new InputError(tooLarge);
  return read;
}

/** Options that describe the machine, for predict and judge (a results file's hello line wins). */
export function environmentOptions(cmd: Command): Command {
  return cmd
    .option('--page-size <bytes>', 'kernel page size: a power of two from 4096 to 65536', pageSize)
    .option('--no-root', 'the caller lacks CAP_SYS_ADMIN (PURGE_ALL_CACHES gives EPERM, drop_caches EACCES)')
    .addOption(new Option('--bits <bits>', 'the caller\'s word size').choices(['32', '64']))
    .addOption(new Option('--kernel-bits <bits>', 'the kernel\'s word size').choices(['32', '64']))
    .option('--kernel <release>', 'kernel release as uname -r prints it (6.0+ seeks files without FMODE_LSEEK; drop_caches repeats its passes by version, §12)', kernelRelease)
    .option('--api-level <n>', 'Android API level of the Java layer (MemoryFile changed at 27, §8)', int('API level'))
    .addOption(new Option('--ioctl-emulation <how>', 'qemu-user: the probe ran under qemu-user, whose ashmem ioctls answer ENOSYS (repro folders of local:ABI runs say so)').choices(['none', 'qemu-user']));
}

export interface EnvFlags { pageSize?: number; root?: boolean; bits?: string; kernelBits?: string; kernel?: string; apiLevel?: number; ioctlEmulation?: 'none' | 'qemu-user' }

/** The environment from flags, on top of a hello line or the defaults. */
export function environmentFrom(flags: EnvFlags, base: Environment = DEFAULT_ENVIRONMENT): Environment {
  const major = flags.kernel === undefined ? undefined : Number(/^(\d+)/.exec(flags.kernel)?.[1] ?? 0);
  const release = flags.kernel === undefined ? undefined : /^(\d+)\.(\d+)/.exec(flags.kernel);
  return {
    ...base,
    ...(flags.pageSize !== undefined ? { pageSize: flags.pageSize } : {}),
    ...(flags.root === false ? { root: false } : {}),
    ...(flags.bits !== undefined ? { callerBits: Number(flags.bits) as 32 | 64 } : {}),
    ...(flags.kernelBits !== undefined ? { kernelBits: Number(flags.kernelBits) as 32 | 64 } : {}),
    ...(major !== undefined ? { kernelSeeksWithoutFmode: major >= 6 } : {}),
    ...(release !== undefined && release !== null ? { kernelVersion: [Number(release[1]), Number(release[2])] as const } : {}),
    ...(flags.apiLevel !== undefined ? { apiLevel: flags.apiLevel } : {}),
    ...(flags.ioctlEmulation !== undefined ? { ioctlEmulation: flags.ioctlEmulation } : {}),
  };
}

/**
 * The machine judge models: the results' own hello line, else the hello of the target that
 * `--profile auto --target` fingerprinted, else the defaults; flags (`--kernel`, ...) win.
 */
export function judgeEnvironment(flags: EnvFlags, resultsHello: ProbeHello | undefined, targetHello: ProbeHello | undefined): Environment {
  const hello = resultsHello ?? targetHello;
  return environmentFrom(flags, hello === undefined ? DEFAULT_ENVIRONMENT : environmentFromHello(hello));
}

/** Options that say how busy the machine was, for judge, run and conform. */
export function worldOptions(cmd: Command): Command {
  return cmd
    .option('--other-users', 'other processes use ashmem: PURGE_ALL_CACHES counts are a lower bound (§3.7)')
    .option('--contended', 'the ashmem lock may be held by others: a trylock PURGE_ALL_CACHES may purge less (§3.7)')
    .option('--background-reclaim', 'reclaim may purge an LRU prefix before any op (a busy device)')
    .addOption(new Option('--shrinker <model>', 'what a drop_caches or pressure may purge (§5.2, §5.3): any-prefix, or batches on a freshly booted exclusive guest (drop_caches worked out with the kernel version\'s arithmetic, §12)').choices(['any-prefix', 'batches']).default('any-prefix'))
    .option('--check-invariants', 'check the model\'s §11 invariants after every op');
}

interface WorldFlags { otherUsers?: boolean; contended?: boolean; backgroundReclaim?: boolean; shrinker: 'any-prefix' | 'batches'; checkInvariants?: boolean }

/** Judge options from flags. */
export function judgeOptionsFrom(flags: WorldFlags): JudgeOptions {
  return {
    ...QUIET,
    contended: flags.contended === true,
    backgroundReclaim: flags.backgroundReclaim === true,
    otherUsers: flags.otherUsers === true,
    shrinker: flags.shrinker,
    checkInvariants: flags.checkInvariants === true,
  };
}

/**
 * `--profile auto` for judge: fingerprint a target, or read the hello line when it decides alone.
 * With a target, its own hello line comes back too (the machine's facts, such as its kernel
 * release, for results that carry none), and `emulated`: its probe runs under qemu-user here (its
 * facts' runner), whose own ENOSYS for ashmem ioctls the model must then expect.
 */
async function autoProfile(target: string | undefined, hello: ReturnType<typeof findHello>): Promise<{ profile: string; hello?: ProbeHello; emulated: boolean }> {
  if (target !== undefined) {
    const { openTargets } = await import('./commands.js');
    const { detectProfile } = await import('./check/auto-profile.js');
    const [t] = await openTargets({ target: [target] });
    if (t === undefined) throw new InputError(`no target ${target}`);
    try {
      const facts = await t.facts();
      const emulated = facts.runner?.startsWith('qemu-user') === true;
      const c = await detectProfile(t, emulated);
      process.stderr.write(`profile ${c.profile}: ${c.reasons.join('; ')}${emulated ? `; the probe runs ${facts.runner ?? ''}: ashmem ioctls answer ENOSYS from the emulator (modelled as such)` : ''}\n`);
      return { profile: c.profile, hello: facts.hello, emulated };
    } finally {
      await t.close();
    }
  }
  if (hello?.backend === 'memfd') {
    process.stderr.write('profile linux-memfd: the results\' hello line says the probe met memfd (add --target to fingerprint a memfd shim)\n');
    return { profile: 'linux-memfd', emulated: false };
  }
  throw new InputError('--profile auto needs --target SPEC to fingerprint the driver (the results alone cannot tell the lineage): or give --profile');
}

function write(line: unknown): void {
  process.stdout.write(JSON.stringify(line) + '\n');
}

/** Builds the program. */
export function program(): Command {
  const p = new Command('ashmem-harness')
    .description('Conformance and differential testing of Android ashmem against an executable model of the driver')
    .version(packageVersion(), '--version', 'print the version and exit')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  p.command('profiles')
    .description('list the model profiles: one id per line, then a description')
    .action(() => {
      for (const pr of PROFILES) process.stdout.write(`${pr.id}\n    ${pr.description} [${pr.sources}]\n`);
    });

  environmentOptions(worldOptions(p.command('predict')))
    .description("the model's results for a script, as JSON Lines (nondeterministic ops say what the model admits)")
    .requiredOption('--profile <id>', 'model profile (see "profiles")')
    .argument('<script>', 'op script file, or - for standard input')
    .action((file: string, flags: EnvFlags & WorldFlags & { profile: string }) => {
      const { script } = readModelScript(file);
      predict(script, profileById(flags.profile), environmentFrom(flags), judgeOptionsFrom(flags), write);
    });

  environmentOptions(worldOptions(p.command('judge')))
    .description('exit 0 if some admissible model state explains every result, else 1 and the first divergence')
    .requiredOption('--profile <id>', 'model profile (see "profiles"), or auto')
    .option('--target <spec>', 'with --profile auto: the target to fingerprint (else the results\' hello line decides, where it can)')
    .argument('<script>', 'op script file')
    .argument('<results>', 'JSON Lines results (from exec, a device, or a file), or - for standard input')
    .action(async (file: string, resultsFile: string, flags: EnvFlags & WorldFlags & { profile: string; target?: string }) => {
      const { script } = readModelScript(file);
      const { results, meta, fileLines } = readResults(resultsFile);
      let hello: ProbeHello | undefined;
      try {
        hello = findHello(meta);
      } catch (e) {
        if (e instanceof HelloError) throw new InputError(`${resultsFile === '-' ? '<stdin>' : resultsFile}: ${e.message} (give the probe's own output, or drop the hello line)`);
        throw e;
      }
      const auto = flags.profile === 'auto' ? await autoProfile(flags.target, hello) : undefined;
      const profile = auto?.profile ?? flags.profile;
      // The fixture APK reports its device's API level: MemoryFile changed at 27 (§8).
      const apiLevel = fixtureApiLevel(meta);
      const env = {
        ...judgeEnvironment(apiLevel !== undefined && flags.apiLevel === undefined ? { ...flags, apiLevel } : flags, hello, auto?.hello),
        ...(auto?.emulated === true ? { ioctlEmulation: 'qemu-user' as const } : {}),
      };
      const v = judge(script, results, profileById(profile), env, judgeOptionsFrom(flags));
      switch (v.kind) {
        case 'consistent':
          process.stdout.write(`consistent: ${script.ops.length} ops explained by profile ${profile} (${v.worlds} admissible world${v.worlds === 1 ? '' : 's'} at the end${v.skipped.length > 0 ? `; skipped lines ${v.skipped.join(', ')}` : ''})\n`);
          return;
        case 'diverged':
          process.stdout.write(formatDivergence(v.divergence) + '\n');
          process.exitCode = EXIT.diverged;
          return;
        case 'invalid': {
          const where = `${resultsFile === '-' ? '<stdin>' : resultsFile}:${fileLines[v.error.index] ?? '?'}`;
          throw new InputError(`${where}: ${v.reason}; these results cannot be judged against ${file}: give one well-formed result per op of that script (docs/op-scripts.md "Results")`);
        }
        default:
          process.stderr.write(`${v.kind}: ${v.reason}\n`);
          process.exitCode = EXIT.usage;
      }
    });

  environmentOptions(p.command('diff'))
    .description('model against model: shrunk scripts that tell two driver lineages apart')
    .requiredOption('--profile <id>', 'lineage A')
    .requiredOption('--against <id>', 'lineage B')
    .option('--cases <n>', 'generated cases (at least 1)', int('cases', 1), 300)
    .option('--seed <n>', 'seed (the same seed finds the same scripts)', int('seed'), 1)
    .option('--length <n>', 'ops per case at most (at least 1)', int('length', 1), 40)
    .action(async (flags: EnvFlags & { profile: string; against: string; cases: number; seed: number; length: number }) => {
      const a = profileById(flags.profile);
      const b = profileById(flags.against);
      const env = environmentFrom(flags);
      const started = Date.now();
      const found = await diffProfiles(a, b, env, { ...defaultSettings(env.pageSize), length: flags.length }, flags.cases, flags.seed, (d) => {
        const who = d.direction === 'a-not-b' ? `${a.id} does this, ${b.id} cannot` : `${b.id} does this, ${a.id} cannot`;
        process.stdout.write(`# ${who}: ${d.divergence.rule} (${d.divergence.section}), at "${d.divergence.op}"\n# ${d.ops} ops, from case ${d.caseIndex} of seed ${d.seed}\n${d.text}\n`);
      });
      process.stdout.write(`# ${found.length} distinguishing script(s) in ${((Date.now() - started) / 1000).toFixed(1)} s from ${flags.cases} cases\n`);
      process.exitCode = found.length > 0 ? EXIT.diverged : EXIT.ok;
    });

  registerTargetCommands(p);
  return p;
}

/** Runs the CLI; never throws, sets the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await program().parseAsync(argv as string[], { from: 'user' });
    return Number(process.exitCode ?? EXIT.ok);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are not errors; everything else commander rejects is usage.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof InputError || e instanceof UnknownProfileError || e instanceof TargetError) {
      process.stderr.write(`ashmem-harness: ${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
}

/** Runs the CLI as the program: exits with its code (70 and the stack on an internal error). */
export function runAsProgram(argv: readonly string[]): void {
  main(argv).then((code) => process.exit(code), (e: unknown) => {
    process.stderr.write(`ashmem-harness: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(70);
  });
}

// `tsx harness/cli.ts` (npm start); bin/ashmem-harness.js calls runAsProgram itself.
if (import.meta.url === `file://${process.argv[1] ?? ''}`) runAsProgram(process.argv.slice(2));
