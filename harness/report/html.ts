/**
 * report.html: one self-contained page (inline CSS, no scripts, no external assets) that a
 * device lab can attach to a bug: a summary per target, the target × scenario matrix of a
 * conform run, and for every failing case its divergence, shrunk script, repro and timeline.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { sortKeys } from './json.js';
import { el, esc } from './markup.js';
import { countStatuses, countsLine, formatResult, lostLine, naturalCompare, stoppedLine, targetIds } from './text.js';
import { TIMELINE_CSS, timelineLegend, timelineSvg } from './timeline-svg.js';
import { NO_TARGET, type CaseRecord, type DivergenceInfo, type Report } from './types.js';

const CSS = `
body{overflow-wrap:anywhere;font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}
h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.5em 0 .5em;border-bottom:1px solid #ccc}
h3{font-size:1.05em;margin:0 0 .5em}
table{border-collapse:collapse;margin:.3em 0;max-width:100%}td.cell,td.num,th{overflow-wrap:normal}
/* ids and serials are tokens: never broken mid-token (a cell grows or its table scrolls instead) */
.tok{white-space:nowrap;overflow-wrap:normal;word-break:normal}
.stopped{border:2px solid #8a4b00;background:#fde6c8;padding:.5em 1em;margin:1em 0;font-weight:bold}
.lost{border-left:6px solid #8a4b00;padding:.2em .8em;margin:.5em 0}th,td{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right}
pre{background:#f7f7f7;border:1px solid #ddd;padding:6px;overflow:auto;white-space:pre-wrap;word-break:break-all;margin:.3em 0}
code{font:12px ui-monospace,monospace}
.meta{color:#555}
.status{white-space:nowrap;overflow-wrap:normal;display:inline-block;padding:0 6px;border-radius:3px;font-weight:bold}
/* status colours on badges and table cells only: a case section carries its status as a class too */
:is(.status,td).passed{background:#dff0d8;color:#2d662d}:is(.status,td).diverged{background:#f8d7da;color:#8a1f2b}
:is(.status,td).skipped{background:#eee;color:#555}:is(.status,td).error{background:#fde6c8;color:#8a4b00}td.missing{color:#999}
table.matrix td.cell{text-align:center;font-weight:bold}
table.matrix td.cell a{color:inherit}
section.case{border:1px solid #ccc;border-left:6px solid #8a1f2b;padding:.6em 1em;margin:1em 0}
section.case.error{border-left-color:#8a4b00}
.rule{font-weight:bold}
ul.legend{list-style:none;padding:0;display:flex;gap:1.2em;margin:.3em 0}ul.legend li{display:flex;align-items:center;gap:.3em}
.timeline-box{overflow:auto;max-height:640px;border:1px solid #eee}
${TIMELINE_CSS}
`;

/** Anchor of a case: by position, since ids and target names may hold anything. */
function anchor(index: number): string {
  return `case-${index}`;
}

function status(s: CaseRecord['status']): string {
  return el('span', { class: `status ${s}` }, s);
}

function json(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) ?? 'undefined';
}

/** An id or serial: code that never wraps mid-token. */
function tok(text: string): string {
  return el('code', { class: 'tok' }, esc(text));
}

function pre(text: string, cls?: string): string {
  return el('pre', { class: cls }, el('code', {}, esc(text)));
}

function summary(report: Report): string {
  const rows = targetIds(report.targets, report.cases).map((id) => {
    const info = report.targets.find((t) => t.id === id);
    const n = countStatuses(report.cases.filter((c) => c.target === id));
    const num = (v: number, cls: string): string => el('td', { class: v > 0 && cls !== '' ? `num ${cls}` : 'num' }, String(v));
    return el('tr', {}, [
      el('td', {}, tok(id)),
      el('td', {}, esc(info?.profile ?? (id === NO_TARGET ? '' : '?'))),
      el('td', {}, esc(info?.profileReason ?? (id === NO_TARGET ? 'cases no target took before the run stopped' : '(no target info)'))),
      num(n.total, ''), num(n.passed, 'passed'), num(n.diverged, 'diverged'), num(n.skipped, 'skipped'), num(n.error, 'error'),
    ].join(''));
  });
  const facts = report.targets.map((t) => el('details', {}, el('summary', {}, `facts of ${tok(t.id)}`) + pre(json(t.facts))));
  return el('section', { id: 'summary' }, '<h2>Targets</h2>'
    + el('table', { class: 'summary' }, '<thead><tr><th>target</th><th>profile</th><th>why this profile</th><th>cases</th><th>passed</th><th>diverged</th><th>skipped</th><th>errors</th></tr></thead>'
      + `<tbody>${rows.join('')}</tbody>`)
    + facts.join(''));
}

/** The title of a matrix cell or case row: the skip/error reason, or the rule that broke. */
function why(c: CaseRecord): string | undefined {
  const d = c.divergence ?? c.shrunk?.divergence;
  if (c.status === 'diverged' && d !== undefined) return `${d.rule} (${d.section})`;
  return c.reason;
}

/** Scenarios as rows, targets as columns, the spec section beside each row. */
function matrix(report: Report): string {
  const targets = targetIds(report.targets, report.cases);
  const scenarios: { id: string; section: string | undefined; title: string | undefined }[] = [];
  for (const c of report.cases) {
    if (!scenarios.some((s) => s.id === c.id)) scenarios.push({ id: c.id, section: c.section, title: c.title });
  }
  scenarios.sort((a, b) => naturalCompare(a.id, b.id));
  const index = new Map(report.cases.map((c, k) => [`${c.target}\n${c.id}`, k] as const));
  const head = `<thead><tr><th>scenario</th><th>section</th>${targets.map((t) => el('th', {}, tok(t))).join('')}</tr></thead>`;
  const rows = scenarios.map((s) => {
    const cells = targets.map((t) => {
      const k = index.get(`${t}\n${s.id}`);
      const c = k === undefined ? undefined : report.cases[k];
      if (k === undefined || c === undefined) return el('td', { class: 'cell missing', title: 'not run on this target' }, '—');
      const text = c.status === 'diverged' || c.status === 'error' ? el('a', { href: `#${anchor(k)}` }, c.status) : c.notRun === true ? 'not run' : c.status;
      return el('td', { class: `cell ${c.status}`, title: why(c), 'data-target': t, 'data-scenario': s.id }, text);
    });
    return el('tr', {}, el('td', { title: s.title }, tok(s.id)) + el('td', {}, esc(s.section ?? '')) + cells.join(''));
  });
  return el('section', { id: 'matrix' }, '<h2>Scenarios × targets</h2>' + el('table', { class: 'matrix' }, head + `<tbody>${rows.join('')}</tbody>`));
}

/**
 * A table of cases with status and reason: every scenario of a one-target conform run, else
 * those not passed (beside a matrix, so skip reasons read without hovering).
 */
function caseTable(report: Report, all: boolean): string {
  const conform = report.kind === 'conform';
  // Cases a stop left unrun are summarised in their own section, not listed one row each.
  const listed = report.cases.map((c, k) => ({ c, k })).filter(({ c }) => c.notRun !== true && (all || c.status !== 'passed'))
    .sort((a, b) => (conform ? naturalCompare(a.c.id, b.c.id) : 0) || a.k - b.k);
  if (listed.length === 0) return el('section', { id: 'cases' }, `<h2>${conform ? 'Scenarios' : 'Cases'}</h2><p>${report.cases.some((c) => c.notRun !== true) ? 'Every one that ran passed.' : 'None ran.'}</p>`);
  const rows = listed.map(({ c, k }) => el('tr', {}, [
    el('td', {}, c.status === 'diverged' || c.status === 'error' ? el('a', { href: `#${anchor(k)}` }, tok(c.id)) : tok(c.id)),
    el('td', {}, tok(c.target)),
    ...(conform ? [el('td', {}, esc(c.section ?? ''))] : []),
    el('td', {}, status(c.status)),
    el('td', {}, esc(why(c) ?? '')),
  ].join('')));
  return el('section', { id: 'cases' }, `<h2>${conform ? 'Scenarios' : 'Cases'}${all ? '' : ' not passed'}</h2>`
    + el('table', { class: 'cases' }, `<thead><tr><th>${conform ? 'scenario' : 'case'}</th><th>target</th>${conform ? '<th>section</th>' : ''}<th>status</th><th>reason</th></tr></thead><tbody>${rows.join('')}</tbody>`));
}

function divergence(d: DivergenceInfo): string {
  const expected = d.expected.length === 0
    ? el('tr', {}, '<th>expected</th><td><em>no admissible result</em></td>')
    : d.expected.map((e, k) => el('tr', {}, `<th>${k === 0 ? 'expected' : 'or'}</th>` + el('td', { class: 'expected' }, el('code', {}, esc(formatResult(e)))))).join('');
  const areas = d.state.areas.map((a) => el('tr', {}, el('th', {}, `area ${a.area}`) + el('td', {}, el('code', {}, esc(a.ranges.length === 0 ? '(no unpinned ranges)' : a.ranges.join(', '))))));
  return el('div', { class: 'divergence' }, [
    el('p', {}, `line ${d.line}: ` + el('code', {}, esc(d.op))),
    el('table', { class: 'observed-expected' },
      el('tr', {}, '<th>observed</th>' + el('td', { class: 'observed' }, el('code', {}, esc(formatResult(d.observed))))) + expected),
    el('p', {}, el('span', { class: 'rule' }, esc(d.rule)) + ` (${esc(d.section)})`),
    el('p', { class: 'meta' }, 'model state before the op: unpinned ranges per area (in pages) and the global LRU, oldest first'),
    el('table', { class: 'model-state' }, areas.join('') + el('tr', {}, el('th', {}, `LRU (${d.state.lruCount} pages)`) + el('td', {}, el('code', {}, esc(d.state.lru.length === 0 ? '(empty)' : d.state.lru.join(' ')))))),
  ].join(''));
}

function failingCase(c: CaseRecord, k: number): string {
  const parts: string[] = [];
  const heading = `${tok(c.id)} on ${tok(c.target)} ${status(c.status)}`
    + (c.section !== undefined ? ` ${esc(c.section)}` : '') + (c.title !== undefined ? ` — ${esc(c.title)}` : '');
  parts.push(el('h3', {}, heading));
  parts.push(el('p', { class: 'meta' }, `profile ${el('code', {}, esc(c.profile))}, ${esc(String(c.durationMs))} ms`));
  if (c.reason !== undefined) parts.push(el('p', {}, `reason: ${esc(c.reason)}`));
  if (c.divergence !== undefined) parts.push('<h4>Divergence</h4>' + divergence(c.divergence));
  if (c.timeline !== undefined) {
    const svg = timelineSvg(c.timeline);
    // An empty timeline still says why, so a reader does not look for a missing picture.
    const of = c.timeline.shows === 'shrunk' ? 'of the shrunk script' : c.timeline.shows === 'original' ? 'of the case as run (not the shrunk script)' : '';
    parts.push(el('h4', { class: 'timeline-of' }, `Timeline${of !== '' ? ` ${of}` : ''}`) + (svg !== ''
      ? timelineLegend() + el('div', { class: 'timeline-box' }, svg)
      : el('p', { class: 'meta timeline-empty' }, `nothing to draw: no area had a backing file in the ${c.timeline.ops.length} ops replayed (an area gets one at its first mmap)`)));
  }
  if (c.shrunk !== undefined) {
    parts.push(`<h4>Shrunk script (${esc(String(c.shrunk.tries))} tries)</h4>` + pre(c.shrunk.script, 'shrunk'));
    if (c.shrunk.divergence !== undefined) parts.push('<h4>Divergence of the shrunk script</h4>' + divergence(c.shrunk.divergence));
  }
  if (c.repro !== undefined) {
    parts.push('<h4>Repro</h4>' + el('p', {}, `in ${el('code', {}, esc(c.repro.dir))}:`) + pre(c.repro.commands.join('\n'), 'repro'));
  }
  parts.push(el('details', {}, '<summary>full script</summary>' + pre(c.script, 'script')));
  parts.push(el('details', {}, `<summary>results (${c.results.length})</summary>` + pre(c.results.map(formatResult).join('\n'), 'results')));
  if (c.logs?.logcat !== undefined) parts.push(el('details', {}, '<summary>logcat</summary>' + pre(c.logs.logcat)));
  if (c.logs?.dmesg !== undefined) parts.push(el('details', {}, '<summary>dmesg</summary>' + pre(c.logs.dmesg)));
  return el('section', { class: `case ${c.status}`, id: anchor(k) }, parts.join(''));
}

/** Ids as ranges: `case-3…case-9, case-12`, for long lists of cases not run. */
function idRanges(ids: readonly string[]): string {
  const out: string[] = [];
  const num = (id: string | undefined): number => Number(/(\d+)$/.exec(id ?? '')?.[1] ?? NaN);
  let k = 0;
  while (k < ids.length) {
    let j = k;
    while (j + 1 < ids.length && num(ids[j + 1]) === num(ids[j]) + 1) j++;
    out.push(j > k + 1 ? `${ids[k] ?? ''}…${ids[j] ?? ''}` : ids.slice(k, j + 1).join(', '));
    k = j + 1;
  }
  return out.join(', ');
}

/** The stop and the lost targets, at the top of the page; and the cases left unrun, by reason. */
function stopNotes(report: Report): string {
  const parts: string[] = [];
  const unit = report.kind === 'conform' ? 'scenario runs' : 'cases';
  if (report.stopped !== undefined) parts.push(el('p', { class: 'stopped', id: 'stopped' }, esc(stoppedLine(report.stopped, unit))));
  for (const l of report.lost ?? []) {
    parts.push(el('p', { class: 'lost' }, `target ${tok(l.id)}${esc(lostLine(l).slice(l.id.length))}`));
    if (l.logs?.logcat !== undefined) parts.push(el('details', {}, `<summary>last logcat of ${tok(l.id)}</summary>` + pre(l.logs.logcat)));
    if (l.logs?.dmesg !== undefined) parts.push(el('details', {}, `<summary>last kernel log of ${tok(l.id)}</summary>` + pre(l.logs.dmesg)));
  }
  return parts.join('');
}

function notRunSection(report: Report): string {
  const byReason = new Map<string, string[]>();
  for (const c of report.cases) {
    if (c.notRun !== true) continue;
    const key = `${c.target}\n${c.reason ?? ''}`;
    byReason.set(key, [...(byReason.get(key) ?? []), c.id]);
  }
  if (byReason.size === 0) return '';
  const rows = [...byReason].map(([key, ids]) => {
    const [target = '', reason = ''] = key.split('\n');
    return el('tr', {}, el('td', {}, tok(target)) + el('td', { class: 'num' }, String(ids.length)) + el('td', {}, esc(reason)) + el('td', {}, el('code', {}, esc(idRanges(ids)))));
  });
  return el('section', { id: 'not-run' }, '<h2>Not run</h2>' + el('table', { class: 'not-run' }, `<thead><tr><th>target</th><th>count</th><th>why</th><th>which</th></tr></thead><tbody>${rows.join('')}</tbody>`));
}

/** The report as one self-contained HTML page. */
export function reportHtml(report: Report): string {
  const n = countStatuses(report.cases);
  const targets = targetIds(report.targets, report.cases);
  const title = `ashmem-harness ${report.kind}: ${n.diverged} diverged, ${n.error} errors of ${n.total} on ${targets.join(', ')}${report.stopped !== undefined ? ' (stopped early)' : ''}`;
  const failing = report.cases.map((c, k) => ({ c, k })).filter(({ c }) => c.status === 'diverged' || c.status === 'error');
  const settings = Object.keys(report.settings).sort().map((key) =>
    el('tr', {}, el('th', {}, esc(key)) + el('td', {}, el('code', {}, esc(JSON.stringify(sortKeys(report.settings[key])) ?? 'undefined')))));
  const body = [
    el('h1', {}, esc(`ashmem-harness ${report.kind}`)),
    el('p', { class: 'meta' }, `${esc(report.started)} – ${esc(report.finished)}: ${n.total} ${report.kind === 'conform' ? 'scenario runs' : 'cases'}, ${esc(countsLine(n))}`),
    stopNotes(report),
    settings.length > 0 ? el('details', {}, '<summary>settings</summary>' + el('table', { class: 'settings' }, settings.join(''))) : '',
    summary(report),
    ...(report.kind === 'conform' && targets.length > 1 ? [matrix(report), caseTable(report, false)] : [caseTable(report, report.kind === 'conform')]),
    notRunSection(report),
    failing.length > 0 ? el('section', { id: 'failing' }, '<h2>Divergences and errors</h2>' + failing.map(({ c, k }) => failingCase(c, k)).join('')) : '',
  ].join('\n');
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/><title>${esc(title)}</title><style>${CSS}</style></head>\n<body>\n${body}\n</body></html>\n`;
}

/** Writes {@link reportHtml} of `report` to `file`, creating its directory. */
export function writeHtml(report: Report, file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, reportHtml(report));
}
