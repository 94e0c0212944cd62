/**
 * The harness's dependencies run one way (design.md "Style"): no import circle anywhere in
 * harness/, and the model (harness/model) imports only its own files and the grammar's types
 * and tables (harness/ops ast, result, signatures) — no I/O, no checker, no target. On a device
 * the Java layer is a client of libcutils, which is a client of the kernel; the model's files
 * must say the same (issue 12 §8).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importCycles, importGraph } from '../support/import-graph.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HARNESS = path.join(ROOT, 'harness');
const rel = (f: string): string => path.relative(ROOT, f);

/** The grammar files the model may use: plain types and constant tables, no I/O. */
const OPS_FOR_MODEL = new Set(['ast.ts', 'result.ts', 'signatures.ts'].map((f) => path.join(HARNESS, 'ops', f)));

describe('import graph (design.md: dependencies one way)', () => {
  it('the cycle finder reports a circle, including one made of type-only imports', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-graph-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = b;\n");
      fs.writeFileSync(path.join(dir, 'b.ts'), "import type { C } from './c.js';\nexport const b: C = 1;\n");
      fs.writeFileSync(path.join(dir, 'c.ts'), "export type { A } from './a.js';\nexport type C = number;\n");
      fs.writeFileSync(path.join(dir, 'd.ts'), "import { a } from './a.js';\nexport const d = a;\n");
      const cycles = importCycles(importGraph(dir)).map((c) => ({ files: c.files.map((f) => path.basename(f)), circle: c.circle.map((f) => path.basename(f)) }));
      assert.deepEqual(cycles, [{ files: ['a.ts', 'b.ts', 'c.ts'], circle: ['a.ts', 'b.ts', 'c.ts', 'a.ts'] }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('harness/ has no import circle', () => {
    const graph = importGraph(HARNESS);
    assert.ok(graph.size > 50, `read only ${graph.size} files under harness/`);
    const cycles = importCycles(graph).map((c) => `${c.circle.map(rel).join(' → ')} (files in the circle: ${c.files.map(rel).join(', ')})`);
    assert.deepEqual(cycles, [], `import circles:\n  ${cycles.join('\n  ')}`);
  });

  it('harness/model imports only model/ files and the grammar\'s types and tables', () => {
    const model = path.join(HARNESS, 'model');
    const bad: string[] = [];
    for (const [file, { specifiers }] of importGraph(model)) {
      for (const s of specifiers) {
        const target = s.startsWith('.') ? path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts')) : undefined;
        const allowed = target !== undefined && (path.dirname(target) === model || OPS_FOR_MODEL.has(target));
        if (!allowed) bad.push(`${rel(file)} imports '${s}'`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('the kernel model knows nothing of the Java layer', () => {
    const graph = importGraph(HARNESS);
    const kernel = path.join(HARNESS, 'model', 'kernel.ts');
    const java = [path.join(HARNESS, 'model', 'java.ts'), path.join(HARNESS, 'model', 'libcutils.ts'), path.join(HARNESS, 'model', 'device.ts')];
    // Everything the kernel reaches, directly or not.
    const reached = new Set<string>();
    const todo = [kernel];
    while (todo.length > 0) {
      const f = todo.pop() as string;
      for (const g of graph.get(f)?.files ?? []) if (!reached.has(g)) { reached.add(g); todo.push(g); }
    }
    assert.deepEqual(java.filter((f) => reached.has(f)).map(rel), []);
  });
});
