/**
 * Interrupts, for real: the CLI is spawned, signalled once results have landed in results.jsonl,
 * and must stop handing out cases, write every report marked as stopped early with the right
 * counts, keep the streamed results, say where they are and exit 130; a second signal exits at
 * once. A terminal's Ctrl-C reaches the whole process group (probes included): the cases it cut
 * are "not run", never errors or divergences.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Report } from '../../harness/report/types.js';
import { ensureProbesBuilt } from '../probe/support.js';
import { byTag, parseXml } from '../report/xml.js';
import { exitWithin, fileLines, ROOT, startCli, waitFor } from '../support/cli-process.js';

/** Enough cases that no machine finishes them before the signal. */
const CASES = 20_000;

function readReport(out: string): Report {
  return JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as Report;
}

/** Checks every report of an interrupted run in `out` against each other and the stream on disk. */
function checkInterrupted(out: string, signal: string, total: number, unit: string): Report {
  const report = readReport(out);
  assert.equal(report.cases.length, total, 'every case is in the report, run or not');
  const notRun = report.cases.filter((c) => c.notRun === true);
  const ran = report.cases.filter((c) => c.notRun !== true);
  assert.ok(ran.length >= 1, 'the results that landed before the signal are in the report');
  assert.ok(notRun.length >= 1, 'the signal stopped the run before the end');
  assert.deepEqual(report.stopped, { cause: 'interrupted', reason: `interrupted by ${signal}`, notRun: notRun.length, total });
  for (const c of notRun) {
    assert.equal(c.status, 'skipped');
    assert.match(c.reason ?? '', new RegExp(`^not run: interrupted by ${signal}`));
  }
  // The stream was not lost: results.jsonl has one line per case, the same cases as the report.
  const lines = fileLines(path.join(out, 'results.jsonl')).map((l) => JSON.parse(l) as { target: string; id: string; status: string; notRun?: boolean });
  assert.deepEqual(lines.map((l) => `${l.target} ${l.id} ${l.status}`).sort(), report.cases.map((c) => `${c.target} ${c.id} ${c.status}`).sort());
  // Every case that ran to the end has its results in raw.jsonl.
  const rawCases = new Set(fileLines(path.join(out, 'raw.jsonl')).map((l) => (JSON.parse(l) as { case: string }).case));
  for (const c of ran.filter((x) => x.status !== 'skipped')) assert.ok(rawCases.has(c.id), `${c.id} has raw results`);
  // JUnit: the unrun cases are skipped with the reason as the message; counts add up.
  const junit = parseXml(fs.readFileSync(path.join(out, 'junit.xml'), 'utf8'));
  const skipped = byTag(junit, 'skipped');
  assert.equal(skipped.filter((s) => s.attrs.message?.startsWith(`not run: interrupted by ${signal}`) === true).length, notRun.length);
  assert.equal(junit.attrs.tests, String(total));
  // HTML: the stop at the top, with the counts.
  const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.ok(html.includes(`stopped early: ${notRun.length} of ${total} ${unit} not run (interrupted by ${signal})`));
  return report;
}

describe('interrupting run and conform (spawned CLI, real signals)', function () {
  this.timeout(240_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'interrupt-'));
  before(() => ensureProbesBuilt());
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`run --target local, one ${signal}: in-flight cases end, reports say interrupted with the counts, exit 130`, async () => {
      const out = path.join(tmp, `run-${signal}`);
      const p = startCli(['run', '--target', 'local', '--cases', String(CASES), '--length', '8', '--out', out]);
      await waitFor(() => fileLines(path.join(out, 'results.jsonl')).length >= 3, 120_000, 'the first results');
      p.child.kill(signal);
      const { code } = await exitWithin(p, 60_000);
      assert.equal(code, 130, p.err());
      checkInterrupted(out, signal, CASES, 'cases');
      assert.match(p.err(), new RegExp(`${signal}: stopping`));
      assert.match(p.err(), new RegExp(`stopped early: \\d+ of ${CASES} cases not run \\(interrupted by ${signal}\\); results so far are in ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.ok(p.out().includes(`reports in ${out}`), p.out());
    });
  }

  it('a terminal\'s Ctrl-C (SIGINT to the whole process group, probes included): cut cases are not run, never errors', async () => {
    const out = path.join(tmp, 'run-group');
    const p = startCli(['run', '--target', 'local', '--cases', String(CASES), '--length', '8', '--out', out], { detached: true });
    await waitFor(() => fileLines(path.join(out, 'results.jsonl')).length >= 3, 120_000, 'the first results');
    process.kill(-(p.child.pid as number), 'SIGINT');
    const { code } = await exitWithin(p, 60_000);
    assert.equal(code, 130, p.err());
    const report = checkInterrupted(out, 'SIGINT', CASES, 'cases');
    assert.deepEqual(report.cases.filter((c) => c.status === 'error' || c.status === 'diverged').map((c) => `${c.id}: ${c.reason ?? ''}`), []);
  });

  it('a second signal exits at once (130), saying so; the stream so far stays on disk', async () => {
    const out = path.join(tmp, 'run-twice');
    const p = startCli(['run', '--target', 'local', '--cases', String(CASES), '--length', '8', '--out', out]);
    await waitFor(() => fileLines(path.join(out, 'results.jsonl')).length >= 3, 120_000, 'the first results');
    p.child.kill('SIGINT');
    await waitFor(() => p.err().includes('SIGINT: stopping'), 10_000, 'the first signal to be handled');
    const second = Date.now();
    p.child.kill('SIGINT');
    const { code, at } = await exitWithin(p, 30_000);
    assert.equal(code, 130, p.err());
    assert.match(p.err(), /SIGINT again: exiting now; the results streamed so far are in /);
    assert.ok(at - second < 5_000, `exited ${at - second} ms after the second signal`);
    const lines = fileLines(path.join(out, 'results.jsonl'));
    assert.ok(lines.length >= 3);
    for (const l of lines) JSON.parse(l); // whole lines only
  });

  it('conform, one SIGINT: the scenarios left are recorded as not run, exit 130', async () => {
    const out = path.join(tmp, 'conform');
    const scenarios = fs.readdirSync(path.join(ROOT, 'conformance', 'scenarios')).filter((f) => f.endsWith('.ops')).length;
    // Judged against an ashmem profile on this memfd kernel: every scenario diverges and is shrunk, which takes a while.
    const p = startCli(['conform', '--target', 'local', '--profile', 'c-final', '--out', out]);
    await waitFor(() => fileLines(path.join(out, 'results.jsonl')).length >= 1, 120_000, 'the first scenario');
    p.child.kill('SIGINT');
    const { code } = await exitWithin(p, 60_000);
    assert.equal(code, 130, p.err());
    const report = checkInterrupted(out, 'SIGINT', scenarios, 'scenario runs');
    // Every scenario appears once, in natural order of names.
    const ids = report.cases.map((c) => c.id);
    const natural = [...ids].sort(new Intl.Collator('en', { numeric: true }).compare);
    assert.deepEqual(ids, natural);
    assert.ok(ids.indexOf('2-dup-shares-area') < ids.indexOf('10.1-pin-needs-backing-file'));
  });
});
