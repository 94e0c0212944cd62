/**
 * The HTML report: self-contained, well-formed, the matrix of a conform run, the divergence and
 * its SVG timeline drawn from the data exactly, and no hostile text left unescaped.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportHtml, writeHtml } from '../../harness/report/html.js';
import { visible } from '../../harness/report/text.js';
import { PAGE_STATES } from '../../harness/report/timeline-svg.js';
import type { Report, Timeline } from '../../harness/report/types.js';
import { ALL_BYTES, conformReport, DIVERGED, HOSTILE, hostileReport, MATRIX, MATRIX_NATURAL, runReport, TIMELINE } from './fixtures.js';
import { byTag, childElements, findAll, parseXml, textOf, type XmlElement } from './xml.js';

function html(report: Report): { text: string; root: XmlElement } {
  const text = reportHtml(report);
  return { text, root: parseXml(text) };
}

/** Rebuilds `states[op][area]` from the SVG's rects, checking each page is drawn exactly once. */
function gridFromSvg(svg: XmlElement, t: Timeline): string[][] {
  const charOf = new Map<string, string>(PAGE_STATES.map((s) => [s.cls, s.char]));
  const cols = byTag(svg, 'g', 'op-col');
  return cols.map((g, k) => {
    assert.equal(g.attrs['data-op'], String(k));
    const rows = t.areas.map((a) => new Array<string | undefined>(a.pages).fill(undefined));
    for (const r of byTag(g, 'rect')) {
      const area = Number(r.attrs['data-area']);
      const from = Number(r.attrs['data-page']);
      const n = Number(r.attrs['data-pages']);
      const ch = charOf.get(r.attrs.class ?? '');
      assert.ok(ch !== undefined, `unknown class ${r.attrs.class}`);
      for (let p = from; p < from + n; p++) {
        const row = rows[area];
        assert.ok(row !== undefined && p < row.length, `rect outside area ${area}: page ${p}`);
        assert.equal(row[p], undefined, `page ${p} of area ${area} drawn twice in op ${k}`);
        row[p] = ch;
      }
    }
    return rows.map((row) => row.map((c) => c ?? '!').join(''));
  });
}

describe('report/html', () => {
  it('is one self-contained page: no scripts, no external assets, inline CSS', () => {
    const { text, root } = html(runReport());
    assert.equal(root.name, 'html');
    assert.ok(text.startsWith('<!DOCTYPE html>'));
    assert.equal(byTag(root, 'style').length, 1);
    assert.doesNotMatch(text, /<script|<link|<img|<iframe|src=|url\(|@import|href="(?!#)/i);
  });

  it('summarises each target: profile, why, and counts', () => {
    const { root } = html(runReport());
    const rows = byTag(byTag(root, 'table', 'summary')[0] as XmlElement, 'tr').slice(1);
    assert.equal(rows.length, 1);
    assert.deepEqual(byTag(rows[0] as XmlElement, 'td').map(textOf),
      ['local', 'c-final', 'memfd backend; unknown ioctl gives ENOTTY', '4', '1', '1', '1', '1']);
  });

  it('draws the timeline: a row per area page, a column per op, each cell as the data says', () => {
    const { root } = html(runReport());
    const svgs = byTag(root, 'svg', 'timeline').filter((s) => s.attrs.xmlns !== undefined);
    assert.equal(svgs.length, 1);
    const svg = svgs[0] as XmlElement;
    assert.equal(byTag(svg, 'g', 'op-col').length, TIMELINE.ops.length);
    assert.equal(byTag(svg, 'text', 'page-label').length, 4 + 2);
    assert.deepEqual(byTag(svg, 'text', 'area-label').map(textOf), ['r0 (area 1), 4 pages', 'r1 (area 2), 2 pages']);
    assert.deepEqual(gridFromSvg(svg, TIMELINE), TIMELINE.states.map((s) => [...s]));
    // Runs of equal pages are merged: the purge_all column holds x×3, p and r1's no-file run.
    assert.equal(byTag(byTag(svg, 'g', 'op-col')[9] as XmlElement, 'rect').length, 3);
    // Hover text: the op of each column.
    const titles = byTag(svg, 'g', 'op-col').map((g) => textOf(childElements(g)[0] as XmlElement));
    assert.equal(titles[10], 'op 11: pin r0 8192 4096');
    assert.equal(titles[0], 'op 1: open r0');
  });

  it('a large timeline (1324 pages, 60 ops, a pathological pattern) keeps every page, labels every 16th', () => {
    const pages = [1024, 300];
    const ops = Array.from({ length: 60 }, (_, k) => `unpin r0 ${k * 4096} 4096`);
    const states = ops.map((_, k) => pages.map((n, a) => Array.from({ length: n }, (_, p) => (p < k * 17 ? (p % 3 === a ? 'x' : 'u') : 'p')).join('')));
    const t: Timeline = { ops, areas: [{ area: 1, handle: 'r0', pages: 1024 }, { area: 2, handle: 'r1', pages: 300 }], states, divergenceAt: 45 };
    const svg = byTag(html({ ...runReport(), cases: [{ ...DIVERGED, timeline: t }] }).root, 'svg', 'timeline').find((s) => s.attrs.xmlns !== undefined) as XmlElement;
    assert.deepEqual(gridFromSvg(svg, t), states);
    assert.equal(byTag(svg, 'text', 'page-label').length, 1024 / 16 + Math.ceil(300 / 16));
    // Past the size limit the rects carry no title of their own; the column's op title remains.
    const col = byTag(svg, 'g', 'op-col')[59] as XmlElement;
    assert.deepEqual(byTag(col, 'title').map(textOf), ['op 60: unpin r0 241664 4096']);
  });

  it('a timeline with no area drawn says so instead of showing an empty picture', () => {
    const t: Timeline = { ops: ['open r0', 'set_size r0 0x6000'], areas: [], states: [[], []], divergenceAt: 1 };
    const { root } = html({ ...runReport(), cases: [{ ...DIVERGED, timeline: t }] });
    assert.equal(byTag(root, 'svg', 'timeline').filter((s) => s.attrs.xmlns !== undefined).length, 0);
    assert.match(textOf(byTag(root, 'p', 'timeline-empty')[0] as XmlElement), /no area had a backing file in the 2 ops replayed/);
  });

  it('marks the divergence column', () => {
    const { root } = html(runReport());
    const marks = byTag(root, 'rect', 'divergence').filter((r) => r.attrs['data-op'] !== undefined);
    assert.equal(marks.length, 1);
    assert.equal(marks[0]?.attrs['data-op'], '10');
    const col10 = byTag(root, 'g', 'op-col')[10] as XmlElement;
    const firstRect = byTag(col10, 'rect')[0] as XmlElement;
    assert.equal(marks[0]?.attrs.x, String(Number(firstRect.attrs.x) - 1));
    assert.deepEqual(byTag(root, 'text', 'divergence-label').map(textOf), ['diverged at op 11']);
  });

  it('an area whose state string is short or has an unknown char is still drawn page by page', () => {
    const t: Timeline = { ops: ['open r0', 'bogus'], areas: [{ area: 1, handle: 'r0', pages: 3 }], states: [['p'], ['pu?']] };
    const report: Report = { ...runReport(), cases: [{ ...DIVERGED, timeline: t }] };
    const svg = byTag(html(report).root, 'svg', 'timeline').find((s) => s.attrs.xmlns !== undefined) as XmlElement;
    const cols = byTag(svg, 'g', 'op-col');
    assert.deepEqual(byTag(cols[0] as XmlElement, 'rect').map((r) => [r.attrs.class, r.attrs['data-pages']]), [['s-pinned', '1'], ['s-nofile', '2']]);
    assert.deepEqual(byTag(cols[1] as XmlElement, 'rect').map((r) => r.attrs.class), ['s-pinned', 's-unpinned', 's-unknown']);
    assert.equal(byTag(svg, 'rect', 'divergence').length, 0);
  });

  it('shows the divergence, the shrunk script and the repro of a failing case', () => {
    const { root } = html(runReport());
    const sections = byTag(root, 'section', 'case');
    assert.deepEqual(sections.map((s) => s.attrs.id), ['case-0', 'case-3']); // diverged, error; not passed or skipped
    const s = sections[0] as XmlElement;
    assert.equal(textOf(byTag(s, 'td', 'observed')[0] as XmlElement), '{"i":12,"op":"pin","ret":0}');
    assert.deepEqual(byTag(s, 'td', 'expected').map(textOf).slice(0, 1), ['{"i":12,"op":"pin","ret":1}']);
    assert.equal(textOf(byTag(s, 'span', 'rule')[0] as XmlElement), DIVERGED.divergence?.rule);
    const model = textOf(byTag(s, 'table', 'model-state')[0] as XmlElement);
    assert.match(model, /area 1\s*0-1 purged, 2 purged/);
    assert.match(model, /LRU \(0 pages\)\s*\(empty\)/);
    assert.equal(textOf(byTag(s, 'pre', 'shrunk')[0] as XmlElement), DIVERGED.shrunk?.script);
    assert.equal(textOf(byTag(s, 'pre', 'repro')[0] as XmlElement), DIVERGED.repro?.commands.join('\n'));
    assert.equal(textOf(byTag(s, 'pre', 'script')[0] as XmlElement), DIVERGED.script);
    // The error case says why and shows dmesg.
    const e = textOf(sections[1] as XmlElement);
    assert.match(e, /reason: probe exited with signal SIGKILL/);
    assert.match(e, /Out of memory: Killed process 123/);
    // Skipped cases are listed with their reason.
    const listed = byTag(byTag(root, 'table', 'cases')[0] as XmlElement, 'tr').slice(1).map((tr) => byTag(tr, 'td').map(textOf));
    assert.deepEqual(listed.map((r) => [r[0], r[2], r[3]]), [
      ['case-17', 'diverged', `${DIVERGED.divergence?.rule} (§4.3, §10.3)`],
      ['case-19', 'skipped', 'needs root: drop_caches'],
      ['case-20', 'error', 'probe exited with signal SIGKILL after 3 results'],
    ]);
  });

  it('conform on two targets: a matrix, targets as columns, scenarios as rows in natural order of ids, section beside each', () => {
    const report = conformReport();
    const { root } = html(report);
    const tables = byTag(root, 'table', 'matrix');
    assert.equal(tables.length, 1);
    const table = tables[0] as XmlElement;
    assert.deepEqual(byTag(table, 'th').map(textOf), ['scenario', 'section', 'adb:emulator-5554', 'adb:R58M123']);
    const rows = byTag(byTag(table, 'tbody')[0] as XmlElement, 'tr');
    assert.equal(rows.length, MATRIX.length);
    rows.forEach((tr, k) => {
      const [id, section, s1, s2] = MATRIX_NATURAL[k] as (typeof MATRIX)[number];
      const tds = byTag(tr, 'td');
      assert.equal(textOf(tds[0] as XmlElement), id);
      assert.equal(textOf(tds[1] as XmlElement), section);
      const cells = byTag(tr, 'td', 'cell');
      assert.deepEqual(cells.map((c) => c.attrs.class), [`cell ${s1}`, `cell ${s2}`]);
      assert.deepEqual(cells.map(textOf), [s1, s2]);
    });
    const skipped = byTag(table, 'td', 'skipped')[0] as XmlElement;
    assert.equal(skipped.attrs.title, 'needs root (adb root refused on a user build)');
    const diverged = byTag(table, 'td', 'diverged')[0] as XmlElement;
    assert.equal(diverged.attrs.title, `${DIVERGED.divergence?.rule} (§4.3, §10.3)`);
    // The diverged cell links to its case section, which has the timeline.
    const href = byTag(diverged, 'a')[0]?.attrs.href ?? '';
    const target = findAll(root, (e) => e.attrs.id === href.slice(1));
    assert.equal(target.length, 1);
    assert.equal(byTag(target[0] as XmlElement, 'svg', 'timeline').filter((s) => s.attrs.xmlns !== undefined).length, 1);
    // Beside the matrix, the cases not passed are listed with their reasons, readable without hovering.
    const listed = byTag(byTag(root, 'table', 'cases')[0] as XmlElement, 'tr').slice(1).map((tr) => byTag(tr, 'td').map(textOf));
    assert.deepEqual(listed.map((r) => [r[0], r[1], r[3], r[4]]), [
      ['2-drop-caches-prefix', 'adb:emulator-5554', 'skipped', 'needs root (adb root refused on a user build)'],
      ['10.1-unpin-then-purge-all', 'adb:R58M123', 'diverged', `${DIVERGED.divergence?.rule} (§4.3, §10.3)`],
    ]);
  });

  it('conform on one target: no matrix, every scenario listed with its section and status', () => {
    const r = conformReport();
    const report: Report = { ...r, targets: r.targets.slice(0, 1), cases: r.cases.filter((c) => c.target === 'adb:emulator-5554') };
    const { root } = html(report);
    assert.equal(byTag(root, 'table', 'matrix').length, 0);
    const rows = byTag(byTag(root, 'table', 'cases')[0] as XmlElement, 'tr').slice(1).map((tr) => byTag(tr, 'td').map(textOf));
    assert.deepEqual(rows.map((r) => [r[0], r[2], r[3]]), MATRIX_NATURAL.map(([id, section, s1]) => [id, section, s1]));
  });

  it('escapes hostile names, quotes and every byte: nothing becomes markup, everything reads back', () => {
    const report = hostileReport();
    const dir = mkdtempSync(join(tmpdir(), 'html-'));
    try {
      const file = join(dir, 'sub', 'report.html');
      writeHtml(report, file);
      const text = readFileSync(file, 'utf8');
      const root = parseXml(text); // a raw '<', a stray quote or a control character fails here
      assert.doesNotMatch(text, /<script|<img|<!-- -->/i);
      assert.deepEqual(findAll(root, (e) => ['script', 'img'].includes(e.name)), []);
      assert.deepEqual(findAll(root, (e) => Object.keys(e.attrs).some((k) => k.startsWith('on'))), []);
      // Raw C0/C1 controls never reach the page; they show as \xHH.
      // eslint-disable-next-line no-control-regex -- looking for control characters is the point
      assert.doesNotMatch(text, /[\0-\x08\x0B-\x1F\x7F-\x9F]/);
      const first = report.cases[0];
      assert.ok(first !== undefined);
      const section = byTag(root, 'section', 'case')[0] as XmlElement;
      assert.equal(textOf(byTag(section, 'pre', 'shrunk')[0] as XmlElement), visible(first.shrunk?.script ?? ''));
      assert.equal(textOf(byTag(section, 'pre', 'script')[0] as XmlElement), visible(first.script));
      assert.ok(textOf(byTag(section, 'pre', 'results')[0] as XmlElement).includes(JSON.stringify(ALL_BYTES).slice(1, 40)));
      // Attributes (matrix titles, data-*) decode back to the hostile text.
      const cells = byTag(root, 'td', 'cell');
      assert.ok(cells.some((c) => c.attrs.title === visible(HOSTILE)));
      assert.ok(cells.some((c) => c.attrs['data-target'] === visible(first.target)));
      // SVG hover text of the hostile op.
      const col = byTag(section, 'g', 'op-col')[0] as XmlElement;
      assert.equal(textOf(childElements(col)[0] as XmlElement), visible(`op 1: open r0 ${HOSTILE}`));
      assert.equal(textOf(byTag(section, 'text', 'area-label')[0] as XmlElement), visible(`${HOSTILE} (area 1), 4 pages`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
