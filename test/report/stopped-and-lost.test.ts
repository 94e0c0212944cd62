/**
 * What CI tools read from a run that stopped early or lost a target: JUnit `<skipped message>`
 * (the attribute, not only system-out), classnames without dots inside a part, cases never run
 * recorded as skipped with why, a top-level "stopped early" line with the cause in HTML and JSON,
 * the lost target named with its time, the timeline saying which script it shows, and ids and
 * serials that never break mid-token.
 */
import assert from 'node:assert/strict';
import { reportHtml } from '../../harness/report/html.js';
import { reportJson } from '../../harness/report/json.js';
import { junitXml } from '../../harness/report/junit.js';
import { visible } from '../../harness/report/text.js';
import { NO_TARGET, type CaseRecord, type Report } from '../../harness/report/types.js';
import { DIVERGED, HOSTILE } from './fixtures.js';
import { byTag, findAll, parseXml, textOf, type XmlElement } from './xml.js';

const SERIAL = 'adb:127.0.0.1:34099';
const SURVIVOR = 'adb:emulator-5554';
const LOST_AT = '2026-11-25T22:00:02.000Z';
const INTERRUPTED = 'not run: interrupted by SIGINT';

/** A run over two devices: one lost after a case, the other interrupted; 3 cases never taken. */
function stoppedReport(): Report {
  const passed = (target: string, n: number): CaseRecord => ({ target, id: `case-${n}`, status: 'passed', profile: 'c-final', script: 'open r0\n', results: [{ i: 1, op: 'open', ret: 0 }], durationMs: 4 });
  const notRun = (n: number): CaseRecord => ({ target: NO_TARGET, id: `case-${n}`, status: 'skipped', reason: INTERRUPTED, notRun: true, profile: 'auto', script: '', results: [], durationMs: 0 });
  const shrunkTimeline = { ...DIVERGED, target: SURVIVOR, id: 'case-2', timeline: { ...(DIVERGED.timeline as NonNullable<CaseRecord['timeline']>), shows: 'shrunk' as const } };
  return {
    kind: 'run', started: '2026-11-25T22:00:00.000Z', finished: '2026-11-25T22:00:05.000Z',
    settings: { cases: 7, seed: 1, length: 10, profile: 'auto' },
    targets: [
      { id: SERIAL, profile: 'c-final', profileReason: 'given', facts: {} },
      { id: SURVIVOR, profile: 'c-final', profileReason: 'given', facts: {} },
    ],
    cases: [passed(SERIAL, 0), passed(SURVIVOR, 1), shrunkTimeline, passed(SURVIVOR, 3), notRun(4), notRun(5), notRun(6)],
    lost: [{ id: SERIAL, at: LOST_AT, error: 'AdbDeviceVanishedError', reason: 'device 127.0.0.1:34099 vanished mid-run', casesDone: 1, unfinished: ['case-3'], unfinishedWent: 'to other targets' }],
    stopped: { cause: 'interrupted', reason: 'interrupted by SIGINT', notRun: 3, total: 7 },
  };
}

describe('reports of a run that stopped early or lost a target', () => {
  describe('JUnit', () => {
    const root = parseXml(junitXml(stoppedReport()));
    const cases = byTag(root, 'testcase');

    it('a skipped case carries its reason in <skipped message>, cases never run included', () => {
      const skipped = cases.filter((c) => byTag(c, 'skipped').length > 0);
      assert.deepEqual(skipped.map((c) => c.attrs.name), ['case-4', 'case-5', 'case-6']);
      for (const c of skipped) assert.equal(byTag(c, 'skipped')[0]?.attrs.message, INTERRUPTED);
      const none = byTag(root, 'testsuite').find((s) => s.attrs.name === NO_TARGET) as XmlElement;
      assert.equal(none.attrs.skipped, '3');
    });

    it('a hostile reason is escaped in the attribute, and a "<skipped/>" inside a body is left alone', () => {
      const report: Report = {
        ...stoppedReport(),
        cases: [
          { ...DIVERGED, shrunk: { ...(DIVERGED.shrunk as NonNullable<CaseRecord['shrunk']>), script: 'open r0\n# <skipped/>\n' }, reason: '<skipped/>' },
          { target: 'local', id: 'case-9', status: 'skipped', reason: HOSTILE, profile: 'c-final', script: '', results: [], durationMs: 0 },
        ],
      };
      const xml = junitXml(report);
      const r = parseXml(xml);
      const sk = byTag(r, 'skipped');
      assert.equal(sk.length, 1);
      // What a reader gets back is the reason as the report writers show it (controls made visible).
      assert.equal(sk[0]?.attrs.message, visible(HOSTILE));
      assert.match(textOf(byTag(r, 'failure')[0] as XmlElement), /# <skipped\/>/);
    });

    it('classnames have one dot, between package and class: no dot inside a target or a section', () => {
      for (const c of cases) {
        const cls = c.attrs.classname ?? '';
        assert.equal(cls.split('.').length, 2, cls);
      }
      assert.ok(cases.some((c) => c.attrs.classname === 'ashmem.adb:127_0_0_1:34099'));
      const conform: Report = { ...stoppedReport(), kind: 'conform', cases: [{ ...DIVERGED, id: '1.3-raw-ioctl-numbers', section: '§1.3' }] };
      assert.equal(byTag(parseXml(junitXml(conform)), 'testcase')[0]?.attrs.classname, 'conform.§1_3');
    });

    it('the lost target\'s suite says when and why; every suite says the run stopped early', () => {
      const suites = byTag(root, 'testsuite');
      const prop = (s: XmlElement, name: string): string | undefined => byTag(s, 'property').find((p) => p.attrs.name === name)?.attrs.value;
      const lost = suites.find((s) => s.attrs.name === SERIAL) as XmlElement;
      assert.match(prop(lost, 'lost') ?? '', new RegExp(`^${SERIAL.replace(/\./g, '\\.')} lost at ${LOST_AT}.*AdbDeviceVanishedError.*case-3`));
      assert.equal(prop(suites.find((s) => s.attrs.name === SURVIVOR) as XmlElement, 'lost'), undefined);
      for (const s of suites) assert.equal(prop(s, 'stopped'), 'stopped early: 3 of 7 cases not run (interrupted by SIGINT)');
    });
  });

  describe('HTML', () => {
    const text = reportHtml(stoppedReport());
    const root = parseXml(text);

    it('says at the top that the run stopped early, with the count and the cause, and names the lost target and when', () => {
      const banner = findAll(root, (e) => e.attrs.id === 'stopped');
      assert.equal(banner.length, 1);
      assert.equal(textOf(banner[0] as XmlElement), 'stopped early: 3 of 7 cases not run (interrupted by SIGINT)');
      // Before the tables: it is the first thing after the summary line.
      assert.ok(text.indexOf('id="stopped"') < text.indexOf('<table'));
      const lost = byTag(root, 'p', 'lost');
      assert.equal(lost.length, 1);
      assert.match(textOf(lost[0] as XmlElement), new RegExp(`target ${SERIAL.replace(/\./g, '\\.')} lost at ${LOST_AT}`));
    });

    it('a lost target\'s last logs (a guest console\'s oops) are shown beside it', () => {
      const r = stoppedReport();
      const withLogs: Report = { ...r, lost: (r.lost ?? []).map((l) => ({ ...l, logs: { dmesg: 'BUG: kernel NULL pointer dereference <oops>' } })) };
      const page = parseXml(reportHtml(withLogs));
      const details = byTag(page, 'details').filter((d) => textOf(byTag(d, 'summary')[0] as XmlElement) === `last kernel log of ${SERIAL}`);
      assert.equal(details.length, 1);
      assert.match(textOf(details[0] as XmlElement), /BUG: kernel NULL pointer dereference <oops>/);
    });

    it('cases never run are summarised by reason in one row, not listed one row each', () => {
      const rows = byTag(byTag(root, 'table', 'not-run')[0] as XmlElement, 'tr').slice(1).map((tr) => byTag(tr, 'td').map(textOf));
      assert.deepEqual(rows, [[NO_TARGET, '3', INTERRUPTED, 'case-4…case-6']]);
      const listed = byTag(byTag(root, 'table', 'cases')[0] as XmlElement, 'tr').slice(1).map((tr) => textOf(byTag(tr, 'td')[0] as XmlElement));
      assert.deepEqual(listed, ['case-2']);
    });

    it('the timeline heading says which script it shows', () => {
      const heads = byTag(root, 'h4', 'timeline-of').map(textOf);
      assert.deepEqual(heads, ['Timeline of the shrunk script']);
      const original = reportHtml({ ...stoppedReport(), cases: [{ ...DIVERGED, timeline: { ...(DIVERGED.timeline as NonNullable<CaseRecord['timeline']>), shows: 'original' } }] });
      assert.deepEqual(byTag(parseXml(original), 'h4', 'timeline-of').map(textOf), ['Timeline of the case as run (not the shrunk script)']);
    });

    it('every case id and target serial sits in a no-wrap token, and the style says no wrapping for it', () => {
      assert.match(text, /\.tok\{white-space:nowrap;overflow-wrap:normal;word-break:normal\}/);
      const tokens = new Set(byTag(root, 'code', 'tok').map(textOf));
      for (const id of [SERIAL, SURVIVOR, 'case-2']) assert.ok(tokens.has(id), id);
      // No code element holding a serial or an id is left without the class.
      const plain = byTag(root, 'code').filter((e) => e.attrs.class !== 'tok' && [SERIAL, SURVIVOR, 'case-2'].includes(textOf(e)));
      assert.deepEqual(plain.map(textOf), []);
    });
  });

  describe('JSON', () => {
    it('carries the stop (cause, counts) and the lost target (when, why, what became of its case) at the top level', () => {
      const j = JSON.parse(reportJson(stoppedReport())) as Report;
      assert.deepEqual(j.stopped, { cause: 'interrupted', notRun: 3, reason: 'interrupted by SIGINT', total: 7 });
      assert.equal(j.lost?.[0]?.id, SERIAL);
      assert.equal(j.lost?.[0]?.at, LOST_AT);
      assert.deepEqual(j.lost?.[0]?.unfinished, ['case-3']);
      assert.deepEqual(j.cases.filter((c) => c.notRun === true).map((c) => [c.id, c.status, c.reason]), [4, 5, 6].map((n) => [`case-${n}`, 'skipped', INTERRUPTED]));
      assert.equal(j.cases.find((c) => c.id === 'case-2')?.timeline?.shows, 'shrunk');
    });
  });
});
