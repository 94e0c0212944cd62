/**
 * `npm run coverage` (issue 12 §6): the V8 block-coverage reader, and the script end to end on
 * a few cases (the ≥ 95% goal is reported by the script itself, not asserted here).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { branchPoints, countAt, formatPercent, lineColumn, runCoverage, type V8Script } from '../../scripts/branch-coverage.js';
import { PROFILES } from '../../harness/model/profile.js';
import { existsSync } from 'node:fs';
import { JAVA_LAYER, type CoverageFigures } from '../../scripts/coverage.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');

const fn = (name: string, ...ranges: [number, number, number][]) => ({
  functionName: name,
  isBlockCoverage: true,
  ranges: ranges.map(([startOffset, endOffset, count]) => ({ startOffset, endOffset, count })),
});
const script = (url: string, ...functions: ReturnType<typeof fn>[]): V8Script => ({ scriptId: '1', url, functions });

describe('branch coverage reader (V8 precise block coverage)', () => {
  // f = [0,100): an if-arm [10,20) and the code after it [20,60); a nested g = [60,90).
  const A = [script('file:///m/a.ts', fn('f', [0, 100, 3], [10, 20, 0]), fn('g', [60, 90, 0]), fn('__name', [1, 5, 9]))];
  // In run B the arm ran as often as f, so V8 merged it away; the code after the arm ran less.
  const B = [script('file:///m/a.ts', fn('f', [0, 100, 3], [20, 60, 1]), fn('g', [60, 90, 2], [70, 80, 0]))];

  it('counts a position by the innermost range that holds it', () => {
    const a = A[0];
    assert.equal(countAt(a, 15), 0);
    assert.equal(countAt(a, 25), 3); // no nested range: f's count
    assert.equal(countAt(a, 75), 0); // g was never called
    assert.equal(countAt(B[0], 15), 3); // merged with its parent: ran as often as f
    assert.equal(countAt(B[0], 75), 0);
    assert.equal(countAt(B[0], 85), 2);
    assert.equal(countAt(undefined, 5), 0);
  });

  it('takes the union of the runs\' range starts as branch points, without transpiler helpers or out-of-scope scripts', () => {
    const other = [script('file:///elsewhere.ts', fn('h', [0, 10, 1]))];
    const points = branchPoints([A, B, other], (u) => u.startsWith('file:///m/'));
    assert.deepEqual(points.map((p) => [p.offset, p.functionName]), [[0, 'f'], [10, 'f'], [20, 'f'], [60, 'g'], [70, 'g']]);
  });

  it('computes what each run reached over the same points', () => {
    const points = branchPoints([A, B], () => true);
    const a = runCoverage(A, points);
    const b = runCoverage(B, points);
    assert.deepEqual(a.reached, [true, false, true, false, false]);
    assert.deepEqual(b.reached, [true, true, true, true, false]);
    assert.equal(a.covered, 2);
    assert.equal(b.percent, 80);
    // What another run (module loading) reached counts too.
    assert.deepEqual(runCoverage(A, points, [B]).reached, b.reached);
  });

  it('formats percentages rounded down and finds lines', () => {
    assert.equal(formatPercent(94.99), '94.9%');
    assert.equal(formatPercent(100), '100.0%');
    assert.equal(formatPercent((100 * 2) / 3), '66.6%');
    assert.deepEqual(lineColumn('ab\ncd\nef', 4), { line: 1, column: 1 });
    assert.deepEqual(lineColumn('ab', 1), { line: 0, column: 1 });
  });
});

describe('npm run coverage', function () {
  this.timeout(180_000);
  const dirs: string[] = [];
  after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

  async function coverage(cases: number): Promise<{ stdout: string; figures: CoverageFigures; missed: string }> {
    const out = mkdtempSync(join(tmpdir(), 'coverage-test-'));
    dirs.push(out);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'coverage.ts'), '--cases', String(cases), '--seed', '7', '--out', out], { cwd: ROOT, maxBuffer: 1 << 24 });
    return { stdout, figures: JSON.parse(readFileSync(join(out, 'coverage.json'), 'utf8')) as CoverageFigures, missed: readFileSync(join(out, 'coverage-missed.txt'), 'utf8') };
  }

  it('prints the generated cases\' and the conformance suite\'s figures, computed from the runs', async () => {
    const [one, more] = [await coverage(1), await coverage(8)];
    for (const { stdout, figures, missed } of [one, more]) {
      const g = /^model branch coverage by generated cases: (\d+\.\d)% \((\d+) of (\d+) branches/m.exec(stdout);
      const c = /^model branch coverage by the conformance suite: (\d+\.\d)% \((\d+) of (\d+) branches/m.exec(stdout);
      assert.ok(g !== null && c !== null, stdout);
      assert.equal(Number(g[2]), figures.generated.covered);
      assert.equal(Number(g[3]), figures.branches);
      assert.equal(`${g[1]}%`, formatPercent((100 * figures.generated.covered) / figures.branches));
      assert.equal(`${c[1]}%`, formatPercent((100 * figures.conformance.covered) / figures.branches));
      assert.ok(figures.generated.covered > 0 && figures.generated.covered < figures.branches);
      // The listing has one line per conformance-reached branch the generated cases miss.
      const head = missed.split('\n# every model branch')[0] ?? '';
      assert.equal(head.split('\n').filter((l) => l.startsWith('harness/model/')).length, figures.missedReachedByConformance);
    }
    // More cases reach more of the model (the branch set is the union over both runs, so it may grow too).
    assert.ok(more.figures.generated.covered > one.figures.generated.covered, `${more.figures.generated.covered} vs ${one.figures.generated.covered}`);
    assert.ok(more.figures.generated.percent > one.figures.generated.percent);
    assert.equal(more.figures.conformanceRuns, one.figures.conformanceRuns);
    assert.equal(more.figures.generatedRuns, more.figures.cases * PROFILES.length);
  });

  it('names Java-layer files that exist (a rename would silently count them again)', () => {
    for (const f of JAVA_LAYER) assert.ok(existsSync(join(ROOT, 'harness', 'model', f)), f);
  });

  it('refuses a bad count with exit 2 and a one-line message', async () => {
    await assert.rejects(run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'coverage.ts'), '--cases', 'many'], { cwd: ROOT }), (e: { code?: number; stderr?: string }) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr ?? '', /--cases must be a positive integer/);
      return true;
    });
  });
});
