/**
 * JUnit XML: counts per suite, classnames, failure/error/skipped content, and hostile text that
 * must come back out of the XML exactly as it went in (control characters made visible).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import junitModule, { type Builder } from 'junit-report-builder';
import { writeJunit } from '../../harness/report/junit.js';
import { caseFailureText, visible } from '../../harness/report/text.js';
import { conformReport, DIVERGED, HOSTILE, hostileReport, MATRIX, runReport } from './fixtures.js';
import { byTag, childElements, findAll, parseXml, textOf, type XmlElement } from './xml.js';

function suiteCounts(s: XmlElement): { tests: string | undefined; failures: string | undefined; errors: string | undefined; skipped: string | undefined } {
  return { tests: s.attrs.tests, failures: s.attrs.failures, errors: s.attrs.errors, skipped: s.attrs.skipped };
}

describe('report/junit', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'junit-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  function write(report: Parameters<typeof writeJunit>[0]): XmlElement {
    const file = join(dir, 'nested', 'junit.xml');
    writeJunit(report, file);
    return parseXml(readFileSync(file, 'utf8'));
  }

  it('a run: one suite for the target, one test case per case, with the right counts', () => {
    const root = write(runReport());
    assert.equal(root.name, 'testsuites');
    const suites = byTag(root, 'testsuite');
    assert.equal(suites.length, 1);
    const suite = suites[0] as XmlElement;
    assert.equal(suite.attrs.name, 'local');
    assert.deepEqual(suiteCounts(suite), { tests: '4', failures: '1', errors: '1', skipped: '1' });
    const cases = byTag(suite, 'testcase');
    assert.deepEqual(cases.map((c) => c.attrs.name), ['case-17', 'case-18', 'case-19', 'case-20']);
    assert.ok(cases.every((c) => c.attrs.classname === 'ashmem.local'));
    assert.equal(cases[0]?.attrs.time, '0.048');
  });

  it('a divergence is a failure: message is rule and section, body the divergence, shrunk script and repro', () => {
    const cases = byTag(write(runReport()), 'testcase');
    const failure = byTag(cases[0] as XmlElement, 'failure')[0] as XmlElement;
    assert.equal(failure.attrs.message, `${DIVERGED.divergence?.rule} (§4.3, §10.3)`);
    assert.equal(failure.attrs.type, 'divergence');
    const body = textOf(failure);
    assert.equal(body, caseFailureText(DIVERGED));
    assert.match(body, /line 12: pin r0 8192 4096/);
    assert.match(body, /observed: \{"i":12,"op":"pin","ret":0\}/);
    assert.match(body, /expected: \{"i":12,"op":"pin","ret":1\}/);
    assert.match(body, /area 1: unpinned 0-1 purged, 2 purged/);
    assert.match(body, /shrunk script \(37 tries\):\nopen r0\nset_size r0 8192\n/);
    assert.match(body, /ashmem-harness judge --profile c-final/);
    // Passed cases carry no outcome element.
    assert.deepEqual(childElements(cases[1] as XmlElement).map((e) => e.name), ['properties']);
  });

  it('skipped cases carry their reason; errors are errors with theirs; dmesg goes to system-err', () => {
    const cases = byTag(write(runReport()), 'testcase');
    const skipped = cases[2] as XmlElement;
    assert.equal(byTag(skipped, 'skipped').length, 1);
    assert.equal(textOf(byTag(skipped, 'system-out')[0] as XmlElement), 'skipped: needs root: drop_caches');
    assert.equal(byTag(skipped, 'property').find((p) => p.attrs.name === 'reason')?.attrs.value, 'needs root: drop_caches');
    const error = cases[3] as XmlElement;
    const e = byTag(error, 'error')[0] as XmlElement;
    assert.equal(e.attrs.message, 'probe exited with signal SIGKILL after 3 results');
    assert.equal(byTag(error, 'failure').length, 0);
    assert.equal(textOf(byTag(error, 'system-err')[0] as XmlElement), 'dmesg:\nOut of memory: Killed process 123 (probe)');
  });

  it('conform on two targets: a suite each, classname conform.<section> with no dot inside the section, counts per suite', () => {
    const root = write(conformReport());
    const suites = byTag(root, 'testsuite');
    assert.deepEqual(suites.map((s) => s.attrs.name), ['adb:emulator-5554', 'adb:R58M123']);
    assert.deepEqual(suiteCounts(suites[0] as XmlElement), { tests: '3', failures: '0', errors: '0', skipped: '1' });
    assert.deepEqual(suiteCounts(suites[1] as XmlElement), { tests: '3', failures: '1', errors: '0', skipped: '0' });
    assert.deepEqual(root.attrs.tests, '6');
    for (const s of suites) {
      const tcs = byTag(s, 'testcase');
      assert.deepEqual(tcs.map((c) => [c.attrs.name, c.attrs.classname]), MATRIX.map(([id, section]) => [id, `conform.${section.replace('.', '_')}`]));
    }
    assert.equal(byTag(suites[1] as XmlElement, 'failure')[0]?.attrs.message?.endsWith('(§4.3, §10.3)'), true);
  });

  it('hostile names, quotes, repeated ]]> and every byte come back out exactly (controls made visible)', () => {
    const report = hostileReport();
    const file = join(dir, 'junit.xml');
    writeJunit(report, file);
    const xml = readFileSync(file, 'utf8');
    const root = parseXml(xml); // throws on anything not well-formed
    // Inside CDATA the markup is text; it must never become an element.
    assert.deepEqual(findAll(root, (e) => ['script', 'img', 'injected'].includes(e.name)), []);
    const first = report.cases[0];
    assert.ok(first !== undefined);
    const suites = byTag(root, 'testsuite');
    assert.equal(suites[0]?.attrs.name, visible(first.target));
    const tc = byTag(suites[0] as XmlElement, 'testcase')[0] as XmlElement;
    assert.equal(tc.attrs.name, visible(first.id));
    const failure = byTag(tc, 'failure')[0] as XmlElement;
    assert.equal(failure.attrs.message, visible(`${HOSTILE} (${HOSTILE})`));
    // Four ]]> in the body (two in the shrunk script's name, two in its comment) and more in the divergence.
    assert.ok(caseFailureText(first).split(']]>').length > 5);
    assert.equal(textOf(failure), visible(caseFailureText(first)));
    assert.equal(textOf(byTag(tc, 'system-out')[0] as XmlElement), visible(`logcat:\n${HOSTILE}`));
    // Bytes 0x80-0xff that XML may carry are kept as they are, not dropped.
    assert.ok(textOf(failure).includes('\u00a0\u00a1') && textOf(failure).includes('\u00fe\u00ff'));
  });

  it('why the workaround: the library alone splits only the first ]]> of a body', () => {
    const builder: Builder = 'newBuilder' in junitModule ? (junitModule as unknown as Builder) : junitModule.default;
    const b = builder.newBuilder();
    b.testSuite().name('s').testCase().name('t').failure('m').stacktrace('a]]>b]]><injected/>c');
    // The second ]]> ends the CDATA early: the reader sees an element the text never had, or
    // the document is broken. Either way the text does not come back.
    let body: string | undefined;
    try {
      body = textOf(byTag(parseXml(b.build()), 'failure')[0] as XmlElement);
    } catch {
      body = undefined;
    }
    assert.notEqual(body, 'a]]>b]]><injected/>c');
  });
});
