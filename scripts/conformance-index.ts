/**
 * The conformance suite's scenario headers and the index table of `conformance/README.md`.
 *
 *   tsx scripts/conformance-index.ts           rewrite the index in conformance/README.md
 *   tsx scripts/conformance-index.ts --check   exit 1 if the README's index is stale
 *   tsx scripts/conformance-index.ts --print   print the table only
 *
 * A scenario (`conformance/scenarios/*.ops`) opens with a block of `# key: value` comment lines
 * (title, section, shows, and optionally needs, profiles, decidable, env); the first line that is not
 * a comment ends the header. Exit 2 on a malformed header.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What a scenario may need from a target before it can run. */
export const NEEDS = ['root', 'second-process', 'ashmem', 'memfd'] as const;

/** One of {@link NEEDS}. */
export type Need = (typeof NEEDS)[number];

/** The keys a header may carry, in the order they are written. */
export const HEADER_KEYS = ['title', 'section', 'shows', 'needs', 'profiles', 'decidable', 'env'] as const;

/** One of {@link HEADER_KEYS}. */
export type HeaderKey = (typeof HEADER_KEYS)[number];

/** A scenario's parsed header. */
export interface ScenarioHeader {
  /** The file name, without its directory. */
  readonly file: string;
  /** One line: the behaviour the scenario shows. */
  readonly title: string;
  /** The spec section, as written: `§3.6`, `§10.2`, `§12`. */
  readonly section: string;
  /** What the scenario shows and what each lineage should do. */
  readonly shows: string;
  /** What the target must offer; empty when the header has no `needs:` line. */
  readonly needs: readonly Need[];
  /** The only profiles the scenario applies to; empty means every profile. */
  readonly profiles: readonly string[];
  /** Why a nondeterministic purge outcome is still decidable; absent for deterministic scenarios. */
  readonly decidable?: string;
  /** The number of header lines (the first op can be on the next line at the earliest). */
  readonly headerLines: number;
}

/** A header that does not follow the format of `conformance/README.md`. */
export class ScenarioHeaderError extends Error {
  override readonly name = 'ScenarioHeaderError';
  /**
   * @param file - the scenario's file name
   * @param line - 1-based line of the problem
   * @param problem - what is wrong
   */
  constructor(readonly file: string, readonly line: number, problem: string) {
    super(`${file}:${line}: ${problem}`);
  }
}

const HEADER_LINE = /^#\s*([a-z]+):\s*(.*?)\s*$/;
const SECTION_RE = /^§(\d+)(?:\.(\d+))?$/;

function isHeaderKey(k: string): k is HeaderKey {
  return (HEADER_KEYS as readonly string[]).includes(k);
}

function isNeed(k: string): k is Need {
  return (NEEDS as readonly string[]).includes(k);
}

/**
 * Parses the header of one scenario.
 * @param text - the whole `.ops` file
 * @param file - its file name, for messages and the result
 * @returns the header fields
 * @throws {@link ScenarioHeaderError} for a missing or malformed field
 */
export function parseScenarioHeader(text: string, file: string): ScenarioHeader {
  const lines = text.split('\n');
  const fields = new Map<HeaderKey, string>();
  let n = 0;
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    if (!line.startsWith('#')) break;
    n++;
    const m = HEADER_LINE.exec(line);
    if (m === null || m[1] === undefined || m[2] === undefined) {
      throw new ScenarioHeaderError(file, n, 'a header line must read "# key: value"');
    }
    const key = m[1];
    if (!isHeaderKey(key)) throw new ScenarioHeaderError(file, n, `unknown header key "${key}" (known: ${HEADER_KEYS.join(', ')})`);
    if (fields.has(key)) throw new ScenarioHeaderError(file, n, `"${key}" appears twice`);
    if (m[2] === '') throw new ScenarioHeaderError(file, n, `"${key}" is empty`);
    fields.set(key, m[2]);
  }
  const need = (key: HeaderKey): string => {
    const v = fields.get(key);
    if (v === undefined) throw new ScenarioHeaderError(file, 1, `the header has no "${key}:" line`);
    return v;
  };
  const section = need('section');
  if (parseSection(section) === undefined) throw new ScenarioHeaderError(file, 1, `section "${section}" is not of the form §N or §N.M`);
  const needs = (fields.get('needs') ?? '').split(/\s+/).filter((s) => s !== '');
  for (const x of needs) if (!isNeed(x)) throw new ScenarioHeaderError(file, 1, `unknown need "${x}" (known: ${NEEDS.join(', ')})`);
  const decidable = fields.get('decidable');
  return {
    file,
    title: need('title'),
    section,
    shows: need('shows'),
    needs: needs.filter(isNeed),
    profiles: (fields.get('profiles') ?? '').split(/\s+/).filter((s) => s !== ''),
    ...(decidable !== undefined ? { decidable } : {}),
    headerLines: n,
  };
}

/**
 * Splits a section reference.
 * @param section - `§3.6`, `§10.2` or `§12`
 * @returns `[major, minor]` (minor 0 when absent), or undefined if it is not a section reference
 */
export function parseSection(section: string): readonly [number, number] | undefined {
  const m = SECTION_RE.exec(section);
  if (m === null || m[1] === undefined) return undefined;
  return [Number(m[1]), m[2] === undefined ? 0 : Number(m[2])];
}

/** Orders headers by section number (§3.9 before §3.10, §6 before §10), then by file name. */
export function compareScenarios(a: ScenarioHeader, b: ScenarioHeader): number {
  const [am, an] = parseSection(a.section) ?? [0, 0];
  const [bm, bn] = parseSection(b.section) ?? [0, 0];
  return am - bm || an - bn || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
}

/**
 * Reads every scenario of a directory.
 * @param dir - the scenarios directory
 * @returns the headers, in {@link compareScenarios} order
 */
export function readScenarios(dir: string): ScenarioHeader[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ops'))
    .map((f) => parseScenarioHeader(readFileSync(join(dir, f), 'utf8'), f))
    .sort(compareScenarios);
}

function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
}

/**
 * The markdown index table.
 * @param headers - the scenarios, already in order
 * @returns the table, one row per scenario, ending with a newline
 */
export function renderIndex(headers: readonly ScenarioHeader[]): string {
  const rows = headers.map((h) => `| [${cell(h.file)}](scenarios/${h.file}) | ${cell(h.title)} | ${h.section} |`);
  return ['| file | title | section |', '|---|---|---|', ...rows].join('\n') + '\n';
}

/** The markers between which the README holds the generated table. */
export const INDEX_START = '<!-- index:start (generated by scripts/conformance-index.ts; do not edit) -->';
/** See {@link INDEX_START}. */
export const INDEX_END = '<!-- index:end -->';

/**
 * Replaces the index between the markers.
 * @param readme - the README's text
 * @param table - the new table
 * @returns the README with the new table
 * @throws Error if the markers are missing
 */
export function withIndex(readme: string, table: string): string {
  const start = readme.indexOf(INDEX_START);
  const end = readme.indexOf(INDEX_END);
  if (start < 0 || end < start) throw new Error(`the README lacks the index markers ${INDEX_START} … ${INDEX_END}`);
  return readme.slice(0, start + INDEX_START.length) + '\n' + table + readme.slice(end);
}

/** The repository's conformance folder. */
export const CONFORMANCE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'conformance');

function main(argv: readonly string[]): number {
  const scenarios = join(CONFORMANCE_DIR, 'scenarios');
  const readmePath = join(CONFORMANCE_DIR, 'README.md');
  let table: string;
  try {
    table = renderIndex(readScenarios(scenarios));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  if (argv.includes('--print')) {
    process.stdout.write(table);
    return 0;
  }
  const readme = readFileSync(readmePath, 'utf8');
  const next = withIndex(readme, table);
  if (argv.includes('--check')) {
    if (next === readme) return 0;
    process.stderr.write(`${readmePath}: the index is stale; run: npx tsx scripts/conformance-index.ts\n`);
    return 1;
  }
  if (next !== readme) writeFileSync(readmePath, next);
  process.stdout.write(`${basename(readmePath)}: ${table.split('\n').length - 3} scenarios indexed\n`);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
