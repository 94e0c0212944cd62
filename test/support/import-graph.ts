/**
 * The import graph of a source tree, read with the TypeScript compiler's own pre-processor
 * (every `import`, `import type`, `export … from` and dynamic `import()`), and its circles.
 * Type-only imports count: a circle of types is still two files that cannot be understood,
 * tested or replaced one without the other.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One file's imports: specifiers as written, and the files they resolve to inside the tree. */
export interface FileImports {
  readonly specifiers: readonly string[];
  readonly files: readonly string[];
}

/** Every `.ts` file under `root` (absolute paths) and what it imports. */
export function importGraph(root: string): Map<string, FileImports> {
  const graph = new Map<string, FileImports>();
  for (const rel of fs.readdirSync(root, { recursive: true }).map(String)) {
    if (!rel.endsWith('.ts') || rel.endsWith('.d.ts')) continue;
    const file = path.join(root, rel);
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const specifiers = info.importedFiles.map((f) => f.fileName);
    const files = specifiers.filter((s) => s.startsWith('.')).map((s) => path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts')));
    graph.set(file, { specifiers, files });
  }
  return graph;
}

/** Files that import each other, directly or not, and one concrete circle among them. */
export interface ImportCycle {
  /** Every file of the strongly connected component, sorted. */
  readonly files: readonly string[];
  /** A shortest circle `a → b → … → a` through the first of them. */
  readonly circle: readonly string[];
}

/** The import circles: strongly connected components of more than one file, or a file that imports itself. */
export function importCycles(graph: ReadonlyMap<string, FileImports>): ImportCycle[] {
  // Tarjan's algorithm, iterative enough for a source tree (recursion depth = import depth).
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.files ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, idx.get(w) as number));
    }
    if (low.get(v) === idx.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1 || (graph.get(v)?.files ?? []).includes(v)) components.push(c);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return components.map((c) => ({ files: [...c].sort(), circle: circleIn(graph, new Set(c)) }));
}

/** A shortest circle through the component's first file (breadth-first inside the component). */
function circleIn(graph: ReadonlyMap<string, FileImports>, members: ReadonlySet<string>): string[] {
  const start = [...members].sort()[0] as string;
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift() as string;
    for (const w of graph.get(v)?.files ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(from.get(path[0] as string) as string);
        return [...path, start];
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
