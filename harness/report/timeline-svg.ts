/**
 * The purge timeline of a case as SVG: for each area, one row per page; one column per op; each
 * cell coloured by the page's state after that op. A kernel engineer reads a wrong purge as a
 * colour appearing out of LRU order, so the picture must follow the data exactly.
 */
import { attrs, el, esc } from './markup.js';
import type { Timeline } from './types.js';

/** What each state character means, in the legend's order. */
export const PAGE_STATES = [
  { char: 'p', cls: 's-pinned', label: 'pinned', colour: '#59a14f' },
  { char: 'u', cls: 's-unpinned', label: 'unpinned (on the LRU)', colour: '#edc948' },
  { char: 'x', cls: 's-purged', label: 'purged', colour: '#e15759' },
  { char: '-', cls: 's-nofile', label: 'no backing file yet', colour: '#dcdcdc' },
] as const satisfies readonly { char: string; cls: string; label: string; colour: string }[];

/** A state character the producer did not define; drawn so it shows instead of vanishing. */
const UNKNOWN = { char: '?', cls: 's-unknown', label: 'unknown state', colour: '#9e9e9e' } as const;

/** CSS for the timeline's classes (the HTML report inlines it). */
export const TIMELINE_CSS = [
  ...[...PAGE_STATES, UNKNOWN].map((s) => `svg.timeline .${s.cls}{fill:${s.colour}}`),
  'svg.timeline .divergence{fill:none;stroke:#000;stroke-width:2;stroke-dasharray:4 2}',
  'svg.timeline text{font:10px ui-monospace,monospace;fill:#333}',
  'svg.timeline text.divergence-label{font-weight:bold;fill:#000}',
  'svg.timeline .area-sep{stroke:#999;stroke-width:1}',
].join('\n');

function stateOf(c: string): { cls: string; label: string } {
  return PAGE_STATES.find((s) => s.char === c) ?? UNKNOWN;
}

/** Layout: cells shrink as timelines grow (up to 1024 pages per area) so the picture stays usable. */
function layout(cols: number, rows: number): { cw: number; rh: number } {
  const cw = Math.max(4, Math.min(22, Math.floor(960 / Math.max(1, cols))));
  const rh = Math.max(2, Math.min(14, Math.floor(480 / Math.max(1, rows))));
  return { cw, rh };
}

const GUTTER = 110; // left: area and page labels
const HEADER = 30; // top: op numbers and the divergence label

/** The SVG (one `<svg>` element) for `t`; empty string when it has no ops or no areas. */
export function timelineSvg(t: Timeline): string {
  const cols = Math.max(t.ops.length, t.states.length);
  const pages = t.areas.reduce((s, a) => s + a.pages, 0);
  if (cols === 0 || t.areas.length === 0) return '';
  const { cw, rh } = layout(cols, pages);
  // Each area starts with a label line as tall as one text line.
  const areaHead = 14;
  const areaTop: number[] = [];
  let y = HEADER;
  for (const a of t.areas) {
    areaTop.push(y + areaHead);
    y += areaHead + a.pages * rh + 4;
  }
  const height = y;
  const width = GUTTER + cols * cw + 4;
  const parts: string[] = [];

  // Area and page labels: every page when rows are tall enough to read, else every 16th.
  const labelEvery = rh >= 10 ? 1 : 16;
  t.areas.forEach((a, ai) => {
    const top = areaTop[ai] as number;
    parts.push(el('text', { class: 'area-label', x: 2, y: top - 3 }, esc(`${a.handle} (area ${a.area}), ${a.pages} pages`)));
    if (ai > 0) parts.push(`<line${attrs({ class: 'area-sep', x1: 0, x2: width, y1: top - areaHead, y2: top - areaHead })}/>`);
    for (let p = 0; p < a.pages; p += labelEvery) {
      // Baseline at least 8px down, so page 0's label clears the area label above it.
      parts.push(el('text', { class: 'page-label', x: GUTTER - 4, y: top + p * rh + Math.max(8, Math.min(rh - 2, 11)), 'text-anchor': 'end' }, `page ${p}`));
    }
  });

  // Op numbers along the top (1-based, every column when it is wide enough).
  const numberEvery = cw >= 14 ? 1 : cw >= 8 ? 5 : 10;
  for (let k = 0; k < cols; k += numberEvery) {
    parts.push(el('text', { class: 'op-number', x: GUTTER + k * cw + cw / 2, y: HEADER - 4, 'text-anchor': 'middle' }, String(k + 1)));
  }

  // Per op and area, vertical runs of pages in the same state: one rect each.
  const runs: { k: number; ai: number; p: number; n: number; c: string }[][] = [];
  let runCount = 0;
  for (let k = 0; k < cols; k++) {
    const col: { k: number; ai: number; p: number; n: number; c: string }[] = [];
    const row = t.states[k];
    // A missing row: the run stopped before this op, so the column stays blank.
    if (row !== undefined) {
      t.areas.forEach((a, ai) => {
        const chars = row[ai] ?? '';
        for (let p = 0; p < a.pages;) {
          const c = chars[p] ?? '-';
          let q = p + 1;
          while (q < a.pages && (chars[q] ?? '-') === c) q++;
          col.push({ k, ai, p, n: q - p, c });
          p = q;
        }
      });
    }
    runCount += col.length;
    runs.push(col);
  }
  // A run's own hover text names its pages; past this many rects those titles would make the
  // page megabytes long, so only the column's title (the op) remains.
  const runTitles = runCount <= 5000;

  // One group per op, titled with the op's text for hover.
  runs.forEach((col, k) => {
    const opText = t.ops[k] ?? '(op text missing)';
    const x = GUTTER + k * cw;
    const cells: string[] = [`<title>${esc(`op ${k + 1}: ${opText}`)}</title>`];
    for (const r of col) {
      const a = t.areas[r.ai] as Timeline['areas'][number];
      const s = stateOf(r.c);
      const span = r.n === 1 ? `page ${r.p}` : `pages ${r.p}-${r.p + r.n - 1}`;
      cells.push(el('rect', {
        class: s.cls, x, y: (areaTop[r.ai] as number) + r.p * rh, width: cw - 1, height: r.n * rh - (rh > 3 ? 1 : 0),
        'data-op': k, 'data-area': r.ai, 'data-page': r.p, 'data-pages': r.n,
      }, runTitles ? `<title>${esc(`op ${k + 1}: ${opText}\n${a.handle} ${span}: ${s.label}`)}</title>` : ''));
    }
    parts.push(el('g', { class: 'op-col', 'data-op': k }, cells.join('')));
  });

  if (t.divergenceAt !== undefined && t.divergenceAt >= 0 && t.divergenceAt < cols) {
    const x = GUTTER + t.divergenceAt * cw;
    parts.push(el('rect', { class: 'divergence', x: x - 1, y: HEADER - 2, width: cw + 1, height: height - HEADER + 2, 'data-op': t.divergenceAt },
      `<title>${esc(`diverged at op ${t.divergenceAt + 1}: ${t.ops[t.divergenceAt] ?? ''}`)}</title>`));
    const anchor = t.divergenceAt > cols / 2 ? 'end' : 'start';
    parts.push(el('text', { class: 'divergence-label', x: anchor === 'end' ? x + cw : x, y: 10, 'text-anchor': anchor }, esc(`diverged at op ${t.divergenceAt + 1}`)));
  }

  return el('svg', {
    class: 'timeline', xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': `page states of ${t.areas.length} areas across ${cols} ops`,
  }, parts.join(''));
}

/** The legend for the timeline's colours, as HTML. */
export function timelineLegend(): string {
  return el('ul', { class: 'legend' }, PAGE_STATES.map((s) =>
    el('li', {}, `<svg width="12" height="12" class="timeline"><rect class="${s.cls}" width="12" height="12"/></svg> ${esc(s.label)}`)).join('')
    + el('li', {}, '<svg width="12" height="12" class="timeline"><rect class="divergence" x="1" y="1" width="10" height="10"/></svg> the op that diverged'));
}
