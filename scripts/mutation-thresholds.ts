/**
 * `npm run mutation`'s last step (issue 12 §7): per-file mutation-score thresholds, which
 * Stryker's own `thresholds` (one global figure) cannot express.
 *
 *   tsx scripts/mutation-thresholds.ts [--report FILE] [--table FILE] [--partial]
 *
 * Reads Stryker's JSON report (`reports/mutation/mutation.json`, the mutation-testing-report
 * schema) and the threshold table kept beside `stryker.config.json`
 * (`stryker.thresholds.json`: an overall minimum, a default per-file minimum and per-file
 * overrides), prints every mutated file's score with its counts, and fails when the overall
 * score or any file's score is below its minimum.
 *
 * The score is Stryker's: detected (Killed, Timeout) over valid mutants (detected plus Survived
 * and NoCoverage); CompileError, RuntimeError and Ignored mutants count in neither.
 *
 * Exit 0 when every figure meets its minimum, 1 when one does not, 2 when the report or the
 * table is missing or malformed, or a file the table names is absent from the report (a stale
 * table, or a report of a partial `--mutate` run). With `--partial` (a `stryker run --mutate`
 * subset) such files are listed as not measured instead, and only the measured ones decide.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { Command } from 'commander';

/** Minimums, in percent, for the overall score and each file's. */
export interface ThresholdTable {
  /** Minimum of the score over every mutated file together. */
  readonly overall: number;
  /** Minimum for a file the table does not name. */
  readonly perFileDefault: number;
  /** Minimums for named files (paths relative to the project root, as in the report). */
  readonly files: Readonly<Record<string, number>>;
}

/** The counts one file's mutants give, and its score. */
export interface FileScore {
  readonly file: string;
  readonly killed: number;
  readonly timeout: number;
  readonly survived: number;
  readonly noCoverage: number;
  /** Mutants that count in no score: CompileError, RuntimeError, Ignored. */
  readonly invalid: number;
  /** Detected over valid, in percent; undefined for a file with no valid mutant. */
  readonly score: number | undefined;
}

/** One figure measured against its minimum. */
export interface ThresholdResult extends FileScore {
  readonly minimum: number;
  readonly ok: boolean;
}

/** The report or the table cannot be used: exit 2, with this one-line message. */
export class MutationInputError extends Error {
  override readonly name = 'MutationInputError';
}

const percent = (detected: number, valid: number): number | undefined =>
  valid === 0 ? undefined : (100 * detected) / valid;

/** Counts a file's mutants by status and computes Stryker's mutation score over them. */
export function fileScore(file: string, statuses: readonly string[]): FileScore {
  const count = (s: string): number => statuses.filter((x) => x === s).length;
  const killed = count('Killed');
  const timeout = count('Timeout');
  const survived = count('Survived');
  const noCoverage = count('NoCoverage');
  const invalid = statuses.length - killed - timeout - survived - noCoverage;
  return { file, killed, timeout, survived, noCoverage, invalid, score: percent(killed + timeout, killed + timeout + survived + noCoverage) };
}

const tableSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['overall', 'perFileDefault', 'files'],
  properties: {
    $comment: { type: 'string' },
    overall: { type: 'number', minimum: 0, maximum: 100 },
    perFileDefault: { type: 'number', minimum: 0, maximum: 100 },
    files: { type: 'object', additionalProperties: { type: 'number', minimum: 0, maximum: 100 } },
  },
} as const;

const reportSchema = {
  type: 'object',
  required: ['files'],
  properties: {
    files: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['mutants'],
        properties: {
          mutants: { type: 'array', items: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } } },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: false });
const validTable = ajv.compile(tableSchema);
const validReport = ajv.compile(reportSchema);

/** Checks a parsed threshold table; throws {@link MutationInputError} saying what is wrong. */
export function parseTable(data: unknown, where: string): ThresholdTable {
  if (!validTable(data)) {
    const e = validTable.errors?.[0];
    throw new MutationInputError(`${where}: ${e?.instancePath || '(top)'} ${e?.message ?? 'is invalid'}; expected { "overall": N, "perFileDefault": N, "files": { "path": N } } with N in 0–100`);
  }
  return data as ThresholdTable;
}

/** The mutants' statuses per file of a parsed Stryker JSON report. */
export function reportStatuses(data: unknown, where: string): Map<string, string[]> {
  if (!validReport(data)) {
    const e = validReport.errors?.[0];
    throw new MutationInputError(`${where}: ${e?.instancePath || '(top)'} ${e?.message ?? 'is invalid'}; is it Stryker's JSON report (jsonReporter)?`);
  }
  const files = (data as { files: Record<string, { mutants: { status: string }[] }> }).files;
  return new Map(Object.entries(files).map(([f, r]) => [f, r.mutants.map((m) => m.status)]));
}

/**
 * Measures every file of the report, and the whole, against the table. A file the table names
 * and the report lacks is an input error: its minimum would silently go unchecked.
 */
export function checkThresholds(statuses: ReadonlyMap<string, readonly string[]>, table: ThresholdTable, partial = false): { files: ThresholdResult[]; overall: ThresholdResult; missing: string[] } {
  const missing = Object.keys(table.files).filter((f) => !statuses.has(f)).sort();
  if (missing.length > 0 && !partial) {
    throw new MutationInputError(`the report has no mutants of ${missing.join(', ')}: run the whole \`npm run mutation\` (not a --mutate subset), or remove the file from the table`);
  }
  const measure = (s: FileScore, minimum: number): ThresholdResult => ({ ...s, minimum, ok: s.score === undefined || s.score >= minimum });
  const files = [...statuses.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([f, st]) => measure(fileScore(f, st), table.files[f] ?? table.perFileDefault));
  const overall = measure(fileScore('all files', [...statuses.values()].flat()), table.overall);
  return { files, overall, missing };
}

const fmt = (r: ThresholdResult): string =>
  `${r.ok ? 'ok  ' : 'FAIL'} ${(r.score === undefined ? 'n/a' : r.score.toFixed(2) + '%').padStart(7)} (min ${r.minimum}%)  ` +
  `killed ${r.killed}, timeout ${r.timeout}, survived ${r.survived}, no coverage ${r.noCoverage}` +
  `${r.invalid > 0 ? `, not counted ${r.invalid}` : ''}  ${r.file}`;

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MutationInputError(`cannot read the ${what} ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})${what === 'report' ? ': run `npm run mutation` first' : ''}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new MutationInputError(`the ${what} ${file} is not JSON: ${(e as Error).message}`);
  }
}

/** The command; returns the exit code. */
export function main(argv: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n'), err: (s: string) => void = (s) => process.stderr.write(s + '\n')): number {
  const cmd = new Command('mutation-thresholds')
    .description('check per-file mutation scores of a Stryker JSON report against a threshold table')
    .option('--report <file>', "Stryker's JSON report", 'reports/mutation/mutation.json')
    .option('--table <file>', 'the threshold table', 'stryker.thresholds.json')
    .option('--partial', 'the report is of a --mutate subset: list the files it lacks as not measured')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err });
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    return (e as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const opts = cmd.opts<{ report: string; table: string; partial?: true }>();
  try {
    const table = parseTable(readJson(opts.table, 'threshold table'), opts.table);
    const { files, overall, missing } = checkThresholds(reportStatuses(readJson(opts.report, 'report'), opts.report), table, opts.partial === true);
    for (const r of files) out(fmt(r));
    out(fmt({ ...overall, file: missing.length > 0 ? 'all measured files' : overall.file }));
    if (missing.length > 0) out(`not measured in this report (${missing.length}): ${missing.join(', ')}`);
    const failed = [...files, overall].filter((r) => !r.ok);
    if (failed.length > 0) {
      err(`mutation score below its minimum in ${failed.length} of ${files.length + 1} figures: ${failed.map((r) => r.file).join(', ')}`);
      return 1;
    }
    return 0;
  } catch (e) {
    if (e instanceof MutationInputError) {
      err(`mutation-thresholds: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
