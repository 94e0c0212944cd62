/**
 * `scripts/mutation-thresholds.ts` (issue 12 §7): per-file mutation-score minimums over
 * Stryker's JSON report, and the table kept beside `stryker.config.json`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkThresholds, fileScore, main, MutationInputError, parseTable } from '../../scripts/mutation-thresholds.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

const report = (files: Record<string, string[]>): unknown => ({
  schemaVersion: '2',
  thresholds: { high: 90, low: 85 },
  files: Object.fromEntries(Object.entries(files).map(([f, st]) => [f, { language: 'typescript', source: '', mutants: st.map((status, i) => ({ id: String(i), mutatorName: 'x', status, location: { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } } })) }])),
});

describe('mutation thresholds (per-file minimums over the Stryker report)', () => {
  it("scores a file as Stryker does: Killed and Timeout over those plus Survived and NoCoverage", () => {
    const s = fileScore('a.ts', ['Killed', 'Killed', 'Timeout', 'Survived', 'NoCoverage', 'CompileError', 'Ignored', 'RuntimeError']);
    assert.deepEqual([s.killed, s.timeout, s.survived, s.noCoverage, s.invalid], [2, 1, 1, 1, 3]);
    assert.equal(s.score, 60);
    assert.equal(fileScore('b.ts', ['Ignored']).score, undefined);
  });

  it('fails a file below its own minimum even when the overall score passes', () => {
    const st = new Map([
      ['a.ts', [...Array<string>(19).fill('Killed'), 'Survived']], // 95%
      ['b.ts', [...Array<string>(8).fill('Killed'), 'Survived', 'Survived']], // 80%
    ]);
    const { files, overall } = checkThresholds(st, { overall: 85, perFileDefault: 85, files: {} });
    assert.deepEqual(files.map((r) => [r.file, r.ok]), [['a.ts', true], ['b.ts', false]]);
    assert.equal(overall.score, 90);
    assert.equal(overall.ok, true);
    // A per-file override lowers b.ts's minimum and raises a.ts's above its score.
    const again = checkThresholds(st, { overall: 85, perFileDefault: 85, files: { 'a.ts': 96, 'b.ts': 80 } });
    assert.deepEqual(again.files.map((r) => [r.file, r.minimum, r.ok]), [['a.ts', 96, false], ['b.ts', 80, true]]);
  });

  it('fails the overall figure below its minimum', () => {
    const st = new Map([['a.ts', ['Killed', 'Killed', 'Killed', 'Survived']]]);
    const { overall } = checkThresholds(st, { overall: 80, perFileDefault: 70, files: {} });
    assert.equal(overall.score, 75);
    assert.equal(overall.ok, false);
  });

  it('refuses a table naming a file the report lacks (a partial --mutate run)', () => {
    assert.throws(() => checkThresholds(new Map([['a.ts', ['Killed']]]), { overall: 0, perFileDefault: 0, files: { 'gone.ts': 85 } }), MutationInputError);
    // Unless the run is said to be partial: then the file is listed, unmeasured, and decides nothing.
    const p = checkThresholds(new Map([['a.ts', ['Killed']]]), { overall: 90, perFileDefault: 90, files: { 'gone.ts': 85 } }, true);
    assert.deepEqual([p.missing, p.overall.ok, p.files.length], [['gone.ts'], true, 1]);
  });

  it('refuses a malformed table with a message naming the field', () => {
    assert.throws(() => parseTable({ overall: 120, perFileDefault: 85, files: {} }, 't.json'), /t\.json: \/overall must be <= 100/);
    assert.throws(() => parseTable({ overall: 90, files: {} }, 't.json'), /perFileDefault/);
  });

  it("the project's table names every mutated file of stryker.config.json's globs", () => {
    const table = parseTable(JSON.parse(readFileSync(join(ROOT, 'stryker.thresholds.json'), 'utf8')), 'stryker.thresholds.json');
    const config = JSON.parse(readFileSync(join(ROOT, 'stryker.config.json'), 'utf8')) as { mutate: string[]; incremental: boolean; concurrency: number };
    for (const f of Object.keys(table.files)) {
      const dir = f.slice(0, f.lastIndexOf('/') + 1);
      assert.ok(config.mutate.includes(f) || config.mutate.includes(`${dir}*.ts`), `${f} is not mutated by stryker.config.json`);
    }
    assert.equal(table.overall, 90);
    assert.ok(Object.values(table.files).every((m) => m >= 85), 'no file below 85% (issue 12 §7)');
    assert.equal(config.incremental, true);
  });

  describe('the command', () => {
    let dir: string;
    beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'mutation-thresholds-')); });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const run = (files: Record<string, string[]>, table: unknown): { code: number; out: string[]; err: string[] } => {
      writeFileSync(join(dir, 'r.json'), JSON.stringify(report(files)));
      writeFileSync(join(dir, 't.json'), JSON.stringify(table));
      const out: string[] = [];
      const err: string[] = [];
      const code = main(['--report', join(dir, 'r.json'), '--table', join(dir, 't.json')], (s) => out.push(s), (s) => err.push(s));
      return { code, out, err };
    };

    it('prints each file and the whole, and exits 0 when all meet their minimum', () => {
      const r = run({ 'm/a.ts': ['Killed', 'Killed', 'Survived', 'Killed'] }, { overall: 75, perFileDefault: 75, files: {} });
      assert.equal(r.code, 0);
      assert.match(r.out[0] ?? '', /^ok\s+75\.00% \(min 75%\)\s+killed 3, timeout 0, survived 1, no coverage 0\s+m\/a\.ts$/);
      assert.match(r.out[1] ?? '', /all files$/);
    });

    it('exits 1 and names the file below its minimum', () => {
      const r = run({ 'm/a.ts': ['Killed', 'Survived'], 'm/b.ts': ['Killed'] }, { overall: 0, perFileDefault: 85, files: {} });
      assert.equal(r.code, 1);
      assert.match(r.out[0] ?? '', /^FAIL/);
      assert.match(r.err.join('\n'), /below its minimum in 1 of 3 figures: m\/a\.ts/);
    });

    it('--partial lists the files the report lacks and judges the others', () => {
      writeFileSync(join(dir, 'r.json'), JSON.stringify(report({ 'm/a.ts': ['Killed'] })));
      writeFileSync(join(dir, 't.json'), JSON.stringify({ overall: 90, perFileDefault: 85, files: { 'm/a.ts': 85, 'm/b.ts': 85 } }));
      const out: string[] = [];
      const args = ['--report', join(dir, 'r.json'), '--table', join(dir, 't.json')];
      assert.equal(main(args, (s) => out.push(s), () => undefined), 2);
      assert.equal(main([...args, '--partial'], (s) => out.push(s), () => undefined), 0);
      assert.match(out.join('\n'), /all measured files\nnot measured in this report \(1\): m\/b\.ts$/);
    });

    it('exits 2 with one line when the report is missing', () => {
      const out: string[] = [];
      const err: string[] = [];
      const code = main(['--report', join(dir, 'none.json'), '--table', join(ROOT, 'stryker.thresholds.json')], (s) => out.push(s), (s) => err.push(s));
      assert.equal(code, 2);
      assert.equal(err.length, 1);
      assert.match(err[0] ?? '', /cannot read the report .*none\.json \(ENOENT\): run `npm run mutation` first/);
    });
  });
});
