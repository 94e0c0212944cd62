/**
 * A small reader of V8's precise block coverage (`Profiler.takePreciseCoverage` with
 * `detailed: true`, the data `NODE_V8_COVERAGE` and c8 read) that answers one question for
 * several runs over the same scripts: which branches did each run reach?
 *
 * A *branch point* is the start offset of a range V8 reported in any of the runs: the start of a
 * function, or of a block whose count differed from its parent's (the arms of `if`/`?:`/`&&`/
 * `||`/`??`, `case` clauses, the code after a `return` or `throw` inside a block, `catch`). This
 * is the unit c8 counts as a branch. V8 leaves out a block whose count equals its parent's and
 * merges neighbours of equal count, so each run alone reports a different set; the union over
 * the runs is one denominator for all of them, and a point's count in a run is the count of the
 * innermost range of that run that contains it (what V8 means by a range's count: it holds for
 * every position inside it not covered by a nested range).
 */

/** One range as V8 reports it: byte offsets into the script's source, and how often it ran. */
export interface V8Range {
  readonly startOffset: number;
  readonly endOffset: number;
  readonly count: number;
}

/** One function's ranges: the first is the function itself, the rest its blocks. */
export interface V8Function {
  readonly functionName: string;
  readonly ranges: readonly V8Range[];
  readonly isBlockCoverage: boolean;
}

/** One script's coverage in one run. */
export interface V8Script {
  readonly scriptId: string;
  readonly url: string;
  readonly functions: readonly V8Function[];
}

/** A branch point of one script. */
export interface BranchPoint {
  readonly url: string;
  /** Offset in the script's (transformed) source. */
  readonly offset: number;
  /** The name V8 gave the function the range belongs to ('' for the module or an arrow). */
  readonly functionName: string;
}

/** What a run reached of a set of branch points. */
export interface RunCoverage {
  readonly covered: number;
  readonly total: number;
  /** covered / total in percent (100 for an empty set). */
  readonly percent: number;
  /** Per branch point (same order as the points), whether the run reached it. */
  readonly reached: readonly boolean[];
}

/**
 * Functions a transpiler adds to every module (esbuild's `__name` for `keepNames`, via tsx):
 * not code of the project, so not branches of it.
 */
const INJECTED = new Set(['__name', '__defProp']);

/**
 * The branch points of the scripts `inScope` accepts, over every run.
 * @param runs - the runs' coverage (each a list of scripts)
 * @param inScope - which script URLs count
 * @returns the points, sorted by URL then offset
 */
export function branchPoints(runs: readonly (readonly V8Script[])[], inScope: (url: string) => boolean): BranchPoint[] {
  const seen = new Map<string, Map<number, string>>();
  for (const run of runs) {
    for (const s of run) {
      if (!inScope(s.url)) continue;
      let points = seen.get(s.url);
      if (points === undefined) seen.set(s.url, (points = new Map()));
      for (const f of s.functions) {
        if (INJECTED.has(f.functionName)) continue;
        for (const r of f.ranges) if (!points.has(r.startOffset)) points.set(r.startOffset, f.functionName);
      }
    }
  }
  const out: BranchPoint[] = [];
  for (const url of [...seen.keys()].sort()) {
    const points = seen.get(url) as Map<number, string>;
    for (const offset of [...points.keys()].sort((a, b) => a - b)) out.push({ url, offset, functionName: points.get(offset) as string });
  }
  return out;
}

/**
 * The count of a position in one run: that of the innermost reported range containing it, 0 when
 * none does (a script the run never loaded, or a position outside every function).
 */
export function countAt(script: V8Script | undefined, offset: number): number {
  if (script === undefined) return 0;
  let best: V8Range | undefined;
  for (const f of script.functions) {
    for (const r of f.ranges) {
      if (r.startOffset > offset || offset >= r.endOffset) continue;
      if (best === undefined || r.endOffset - r.startOffset <= best.endOffset - best.startOffset) best = r;
    }
  }
  return best?.count ?? 0;
}

/**
 * What one run reached of the branch points.
 * @param run - the run's coverage
 * @param points - the branch points (from {@link branchPoints} over all runs)
 * @param also - runs whose reach counts for this one too (module loading, which precedes every run)
 */
export function runCoverage(run: readonly V8Script[], points: readonly BranchPoint[], also: readonly (readonly V8Script[])[] = []): RunCoverage {
  const byUrl = (r: readonly V8Script[]): Map<string, V8Script> => new Map(r.map((s) => [s.url, s]));
  const scripts = [byUrl(run), ...also.map(byUrl)];
  const reached = points.map((p) => scripts.some((m) => countAt(m.get(p.url), p.offset) > 0));
  const covered = reached.filter((x) => x).length;
  const total = points.length;
  return { covered, total, percent: total === 0 ? 100 : (100 * covered) / total, reached };
}

/** A percentage as the coverage report prints it: one decimal, rounded down (never claims more). */
export function formatPercent(p: number): string {
  return `${(Math.floor(p * 10 + 1e-9) / 10).toFixed(1)}%`;
}

/** 0-based line and column of an offset in a source text. */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  let line = 0;
  let start = 0;
  for (let i = source.indexOf('\n'); i !== -1 && i < offset; i = source.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start };
}
