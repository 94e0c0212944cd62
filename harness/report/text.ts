/**
 * Plain-text pieces shared by the report writers: results and divergences as a kernel engineer
 * reads them, and a visible form for characters no report format may carry raw.
 */
import type { OpResult } from '../ops/result.js';
import type { CaseRecord, DivergenceInfo, LostTarget, StoppedEarly } from './types.js';

/**
 * Characters that neither XML 1.0 nor HTML may carry as text: C0 controls other than tab and
 * newline, DEL and the C1 controls, lone surrogates, U+FFFE/U+FFFF. A GET_NAME result is a byte
 * string (char codes 0–255), and a hostile script may hold anything.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const INVISIBLE = /[\0-\x08\x0B-\x1F\x7F-\x9F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Replaces every character a report cannot carry raw with a visible escape (`\x00`, `\r`,
 * `\u{d800}`), so that nothing is dropped silently and the output stays well-formed.
 */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (c) => {
    if (c === '\r') return '\\r';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** The fields of a result in the order docs/op-scripts.md lists them, so lines read alike. */
const RESULT_ORDER = ['i', 'op', 'proc', 'ret', 'errno', 'signal', 'exception', 'error', 'message', 'rle', 'name', 'copied', 'id', 'resident', 'mode', 'size'] as const;

/** One result as its JSON line, fields in the documented order (unknown fields after them). */
export function formatResult(r: OpResult): string {
  const rec = r as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of RESULT_ORDER) if (rec[k] !== undefined) out[k] = rec[k];
  for (const k of Object.keys(rec).sort()) if (!(k in out) && rec[k] !== undefined) out[k] = rec[k];
  return JSON.stringify(out);
}

/** The model's ranges and LRU as lines. */
export function stateLines(d: DivergenceInfo): string[] {
  const lines = d.state.areas.map((a) => `  area ${a.area}: unpinned ${a.ranges.length === 0 ? '(none)' : a.ranges.join(', ')}`);
  lines.push(`  lru (oldest first, ${d.state.lruCount} pages): ${d.state.lru.length === 0 ? '(empty)' : d.state.lru.join(' ')}`);
  return lines;
}

/** A divergence as the judge states it: op, observed, expected, rule and section, model state. */
export function divergenceText(d: DivergenceInfo): string {
  return [
    `line ${d.line}: ${d.op}`,
    `  observed: ${formatResult(d.observed)}`,
    ...(d.expected.length === 0
      ? ['  expected: (no admissible result)']
      : d.expected.map((e, k) => `  ${k === 0 ? 'expected:' : '      or:'} ${formatResult(e)}`)),
    `  rule: ${d.rule} (${d.section})`,
    'model state before the op:',
    ...stateLines(d),
  ].join('\n');
}

/** The failure text of a case: its divergence, the shrunk script and how to replay it. */
export function caseFailureText(c: CaseRecord): string {
  const parts: string[] = [];
  if (c.divergence !== undefined) parts.push(divergenceText(c.divergence));
  if (c.shrunk !== undefined) {
    parts.push(`shrunk script (${c.shrunk.tries} tries):\n${c.shrunk.script.replace(/\n$/, '')}`);
    if (c.shrunk.divergence !== undefined) parts.push(`shrunk divergence:\n${divergenceText(c.shrunk.divergence)}`);
  }
  if (c.repro !== undefined) parts.push(`repro in ${c.repro.dir}:\n${c.repro.commands.map((x) => `  ${x}`).join('\n')}`);
  return parts.join('\n\n');
}

/** Counts of case statuses; `notRun` counts the skipped cases a stop left unrun (within `skipped`). */
export interface StatusCounts {
  total: number;
  passed: number;
  diverged: number;
  skipped: number;
  error: number;
  notRun: number;
}

/** Counts the statuses of `cases`. */
export function countStatuses(cases: readonly CaseRecord[]): StatusCounts {
  const n: StatusCounts = { total: 0, passed: 0, diverged: 0, skipped: 0, error: 0, notRun: 0 };
  for (const c of cases) {
    n.total++;
    n[c.status]++;
    if (c.notRun === true) n.notRun++;
  }
  return n;
}

/** `3 passed, 1 diverged, 0 skipped, 0 errors` (and `, 96 not run` when a stop left cases out; those are not counted as skipped here). */
export function countsLine(n: StatusCounts): string {
  return `${n.passed} passed, ${n.diverged} diverged, ${n.skipped - n.notRun} skipped, ${n.error} errors${n.notRun > 0 ? `, ${n.notRun} not run` : ''}`;
}

const COLLATOR = new Intl.Collator('en', { numeric: true });

/** Natural order of ids: `1.3-x` < `2-y` < `10.1-z`, `case-2` < `case-10`. */
export function naturalCompare(a: string, b: string): number {
  return COLLATOR.compare(a, b);
}

/**
 * The targets of a report in order: those listed in `targets`, then any that only cases name
 * (a merged report may lack a target's info; its cases must still show).
 */
export function targetIds(targets: readonly { id: string }[], cases: readonly CaseRecord[]): string[] {
  const ids = targets.map((t) => t.id);
  for (const c of cases) if (!ids.includes(c.target)) ids.push(c.target);
  return ids;
}

/** `stopped early: 12 of 100 cases not run (interrupted by SIGINT)`: the line every report shows for a stop. */
export function stoppedLine(s: StoppedEarly, unit = 'cases'): string {
  return `stopped early: ${s.notRun} of ${s.total} ${unit} not run (${s.reason})`;
}

/** `adb:X lost at 2026-…, after 3 case(s): AdbDeviceVanishedError: …; 1 unfinished, to other targets: case-7`. */
export function lostLine(l: LostTarget): string {
  const list = l.unfinished.slice(0, 10).join(', ') + (l.unfinished.length > 10 ? ', …' : '');
  const unfinished = l.unfinished.length === 0 ? '' : `; ${l.unfinished.length} unfinished, ${l.unfinishedWent}: ${list}`;
  return `${l.id} lost at ${l.at}, after ${l.casesDone} case(s): ${l.error}: ${l.reason}${unfinished}`;
}
