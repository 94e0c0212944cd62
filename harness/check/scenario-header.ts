/**
 * The header of a conformance scenario (`conformance/README.md`: title, section, shows, needs,
 * profiles, decidable, env), parsed strictly: a header that does not follow the format is an
 * error naming the file and line. One parser for the `conform` runner and the index script.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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
