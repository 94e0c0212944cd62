/**
 * `npm run coverage`: how much of the model the generated cases reach, beside the conformance
 * suite (issue 12 §6).
 *
 *   tsx scripts/coverage.ts [--cases N] [--seed S] [--out DIR]
 *
 * Runs, in this process under V8's precise block coverage (Node's own inspector; the data c8
 * reads), first the generator's cases through `predict` — `--cases` cases from `--seed` for every
 * profile, case i for target kind i mod 6 of {@link TARGETS}, generated with the
 * settings `run` uses for such a target — then the conformance suite exactly as `test/model/behaviours.test.ts`
 * runs it (each scenario under its profiles and `# env:`). It prints
 *
 *   model branch coverage by generated cases: N%
 *   model branch coverage by the conformance suite: M%
 *
 * over the branches of `harness/model/**` (see `branch-coverage.ts` for what a branch is) and
 * writes `DIR/coverage-missed.txt`: the branches the conformance suite reaches and the generated
 * cases miss, then every branch the generated cases miss; `DIR/coverage.json` has the figures.
 * The Java layer (`JAVA_LAYER`) is counted in a second line only: its ops are run by the fixture
 * APK, never by the probe that runs generated cases.
 *
 * Exit 0 when the figures were computed (whatever they are), 2 on bad arguments.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { branchPoints, formatPercent, lineColumn, runCoverage, type BranchPoint, type V8Script } from './branch-coverage.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = pathToFileURL(join(ROOT, 'harness', 'model')).href + '/';

/**
 * Files of the model only Java-layer ops reach (MemoryFile / SharedMemory over libcutils): the
 * fixture APK runs them, the probe that runs generated cases cannot.
 */
export const JAVA_LAYER: readonly string[] = ['java.ts', 'libcutils.ts'];

/**
 * The kinds of target `run` judges generated cases for: the facts a probe reports in its hello
 * line (environment) and how the judge reads a target of that kind (world options: a vm guest's
 * shrinker batches, a device's contended lock).
 */
export const TARGETS = [
  { name: 'vm guest: root, 64-bit, kernel 5.10, 512 MiB, shrinker batches', env: { kernelVersion: [5, 10], memoryBytes: 512 << 20 }, world: { shrinker: 'batches' } },
  { name: 'device: no root, kernel 5.10, 4 GiB, contended lock', env: { root: false, kernelVersion: [5, 10], memoryBytes: 4 * 2 ** 30 }, world: { contended: true } },
  { name: 'this machine: root, kernel 6.1 (seeks without FMODE_LSEEK)', env: { kernelSeeksWithoutFmode: true, kernelVersion: [6, 1] }, world: {} },
  { name: '32-bit caller, kernel and memory not reported', env: { callerBits: 32 }, world: {} },
  { name: 'arm probe under qemu-user: 32-bit caller, root, kernel 6.1', env: { callerBits: 32, ioctlEmulation: 'qemu-user', kernelSeeksWithoutFmode: true, kernelVersion: [6, 1] }, world: {} },
  { name: 'old 32-bit device: 32-bit kernel and caller, root, kernel 4.9, contended lock', env: { callerBits: 32, kernelBits: 32, kernelVersion: [4, 9], memoryBytes: 2 * 2 ** 30 }, world: { contended: true } },
] as const;

/** The figures one invocation computed. */
export interface CoverageFigures {
  readonly cases: number;
  readonly seed: number;
  readonly generatedRuns: number;
  readonly conformanceRuns: number;
  readonly branches: number;
  readonly generated: { readonly covered: number; readonly percent: number };
  readonly conformance: { readonly covered: number; readonly percent: number };
  /** Conformance-reached branches the generated cases miss. */
  readonly missedReachedByConformance: number;
  /** Runs whose possible worlds passed the judge's limit (their ops up to there count). */
  readonly overWorldLimit: number;
  /** The same figures with the Java layer counted. */
  readonly withJavaLayer: { readonly branches: number; readonly generated: number; readonly conformance: number };
}

function positiveInt(name: string): (v: string) => number {
  return (v) => {
    if (!/^[0-9]+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return Number(v);
  };
}

type Coverage = readonly V8Script[];

async function take(s: Session): Promise<Coverage> {
  const r = await s.post('Profiler.takePreciseCoverage');
  return r.result;
}

/** Where a branch point is in the TypeScript source: `file.ts:LINE` and that line's text. */
function place(p: BranchPoint, sources: ReadonlyMap<string, string>): string {
  const path = fileURLToPath(p.url);
  const file = relative(ROOT, path);
  const src = sources.get(p.url);
  const map = findSourceMap(path);
  if (src === undefined || map === undefined) return `${file} @${p.offset}`;
  const { line, column } = lineColumn(src, p.offset);
  const e = map.findEntry(line, column);
  if (!('originalLine' in e)) return `${file} @${p.offset}`;
  const tsLine = (readFileSync(path, 'utf8').split('\n')[e.originalLine] ?? '').trim();
  return `${file}:${e.originalLine + 1}:${e.originalColumn + 1}  ${p.functionName === '' ? '' : `[${p.functionName}] `}${tsLine.length > 110 ? tsLine.slice(0, 107) + '...' : tsLine}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('coverage')
    .description('model branch coverage of the generated cases beside the conformance suite')
    .option('--cases <n>', 'generated cases per profile (case i for the target kind i mod 6)', positiveInt('--cases'), 300)
    .option('--seed <n>', 'seed of the generated cases', positiveInt('--seed'), 1)
    .option('--out <dir>', 'where coverage-missed.txt and coverage.json go', 'reports')
    .exitOverride()
    .configureOutput({ writeErr: (m) => process.stderr.write(m) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    return (e as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const opts = program.opts<{ cases: number; seed: number; out: string }>();

  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  // Before the model is loaded, so every function of it is compiled with block counters.
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  const { predict } = await import('../harness/check/predict.js');
  const { parseScript } = await import('../harness/ops/parse.js');
  const { generateCases, settingsForTarget } = await import('../harness/ops/generate.js');
  const { DEFAULT_ENVIRONMENT, PROFILES, profileById } = await import('../harness/model/profile.js');
  const { checkedProfiles, scenarioEnvironment } = await import('../harness/check/scenario-env.js');
  const { readScenarios } = await import('../harness/check/scenario-header.js');
  const { QUIET, WorldLimitError } = await import('../harness/check/worlds.js');
  // Without observations to choose between them, the worlds of a case with several drop_caches
  // over hundreds of ranges can pass the limit (a judge keeps only those the results allow): the
  // ops up to there count, and the case is counted.
  let overLimit = 0;
  const run = (text: string, profile: Parameters<typeof predict>[1], env: Parameters<typeof predict>[2], world: Partial<typeof QUIET> = {}): void => {
    try {
      predict(parseScript(text), profile, env, { ...QUIET, ...world });
    } catch (e) {
      if (!(e instanceof WorldLimitError)) throw e;
      overLimit++;
    }
  };
  const load = await take(session);

  let generatedRuns = 0;
  // Profiles are looked up by id in both runs, as every verb does: the lookup is the harness's, not a case's.
  for (const profile of PROFILES.map((p) => profileById(p.id))) {
    // Case i is judged as for target kind i mod 6, generated as `run` generates for such a target.
    TARGETS.forEach(({ env: delta, world }, e) => {
      const env = { ...DEFAULT_ENVIRONMENT, ...delta };
      const settings = settingsForTarget({ pageSize: env.pageSize, root: env.root, memfd: profile.features.flavor === 'memfd', ioctlEmulation: env.ioctlEmulation }, 40);
      generateCases(settings, opts.cases, opts.seed).forEach((text, i) => {
        if (i % TARGETS.length !== e) return;
        run(text, profile, env, world);
        generatedRuns++;
      });
    });
  }
  const generated = await take(session);

  const dir = join(ROOT, 'conformance', 'scenarios');
  let conformanceRuns = 0;
  for (const h of readScenarios(dir)) {
    const src = readFileSync(join(dir, h.file), 'utf8');
    const env = scenarioEnvironment(src, h.file);
    for (const id of checkedProfiles(h)) {
      run(src, profileById(id), env);
      conformanceRuns++;
    }
  }
  const conformance = await take(session);
  await session.post('Profiler.stopPreciseCoverage');

  // The transformed sources, to turn offsets into lines through the source maps.
  await session.post('Debugger.enable');
  const sources = new Map<string, string>();
  for (const s of conformance) {
    if (!s.url.startsWith(MODEL)) continue;
    sources.set(s.url, (await session.post('Debugger.getScriptSource', { scriptId: s.scriptId })).scriptSource);
  }
  session.disconnect();

  const runs = [load, generated, conformance];
  const isJava = (url: string): boolean => JAVA_LAYER.some((f) => url === MODEL + f);
  const points = branchPoints(runs, (url) => url.startsWith(MODEL) && !isJava(url));
  const gen = runCoverage(generated, points, [load]);
  const conf = runCoverage(conformance, points, [load]);
  const all = branchPoints(runs, (url) => url.startsWith(MODEL));
  const genAll = runCoverage(generated, all, [load]);
  const confAll = runCoverage(conformance, all, [load]);

  const missedConf = points.filter((_, i) => conf.reached[i] === true && gen.reached[i] !== true);
  const missedGen = points.filter((_, i) => gen.reached[i] !== true);
  const figures: CoverageFigures = {
    cases: opts.cases,
    seed: opts.seed,
    generatedRuns,
    conformanceRuns,
    branches: points.length,
    generated: { covered: gen.covered, percent: gen.percent },
    conformance: { covered: conf.covered, percent: conf.percent },
    missedReachedByConformance: missedConf.length,
    overWorldLimit: overLimit,
    withJavaLayer: { branches: all.length, generated: genAll.percent, conformance: confAll.percent },
  };

  const out = resolve(opts.out);
  mkdirSync(out, { recursive: true });
  const missedFile = join(out, 'coverage-missed.txt');
  writeFileSync(
    missedFile,
    [
      `# model branches (harness/model/** less ${JAVA_LAYER.join(', ')}) the conformance suite reaches and the generated cases miss (--cases ${opts.cases} --seed ${opts.seed}): ${missedConf.length}`,
      ...missedConf.map((p) => place(p, sources)),
      '',
      `# every model branch the generated cases miss: ${missedGen.length}`,
      ...missedGen.map((p) => `${conf.reached[points.indexOf(p)] === true ? '' : '(conformance misses it too) '}${place(p, sources)}`),
      '',
    ].join('\n'),
  );
  writeFileSync(join(out, 'coverage.json'), JSON.stringify(figures, null, 2) + '\n');

  const w = (s: string): boolean => process.stdout.write(s + '\n');
  w(`model branch coverage by generated cases: ${formatPercent(gen.percent)} (${gen.covered} of ${points.length} branches; ${generatedRuns} cases: ${opts.cases} from seed ${opts.seed} per profile, spread over ${TARGETS.length} kinds of target)`);
  w(`model branch coverage by the conformance suite: ${formatPercent(conf.percent)} (${conf.covered} of ${points.length} branches; ${conformanceRuns} scenario runs)`);
  w(`branches the conformance suite reaches and the generated cases miss: ${missedConf.length}`);
  if (overLimit > 0) w(`(${overLimit} runs passed the limit of possible worlds without results to choose between them; their ops up to there count)`);
  for (const p of missedConf.slice(0, 40)) w(`  ${place(p, sources)}`);
  if (missedConf.length > 40) w(`  ... ${missedConf.length - 40} more in ${relative(process.cwd(), missedFile)}`);
  w(`with the Java layer (${JAVA_LAYER.join(', ')}: fixture APK ops, never generated): generated ${formatPercent(genAll.percent)}, conformance ${formatPercent(confAll.percent)} of ${all.length} branches`);
  w(`written: ${relative(process.cwd(), missedFile)}, ${relative(process.cwd(), join(out, 'coverage.json'))}`);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
