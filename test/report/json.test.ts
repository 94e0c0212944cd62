/**
 * report.json: the report back out exactly, keys sorted at every level, stable whatever order
 * the producer built its objects in.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportJson, sortKeys, writeJson } from '../../harness/report/json.js';
import type { Report } from '../../harness/report/types.js';
import { conformReport, hostileReport, runReport } from './fixtures.js';

/** Every object's keys in `value`, as lists, depth first. */
function keyLists(value: unknown, out: string[][] = []): string[][] {
  if (Array.isArray(value)) for (const v of value) keyLists(v, out);
  else if (value !== null && typeof value === 'object') {
    out.push(Object.keys(value));
    for (const v of Object.values(value)) keyLists(v, out);
  }
  return out;
}

/** A deep copy with every object's keys inserted in reverse order. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
}

describe('report/json', () => {
  it('writes the report pretty, keys sorted everywhere, and it parses back to the same data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'json-'));
    try {
      for (const report of [runReport(), conformReport(), hostileReport()]) {
        const file = join(dir, 'a', 'report.json');
        writeJson(report, file);
        const text = readFileSync(file, 'utf8');
        assert.ok(text.endsWith('}\n'));
        assert.match(text, /^\{\n {2}"cases": \[\n/);
        const back: unknown = JSON.parse(text);
        assert.deepEqual(back, JSON.parse(JSON.stringify(report)));
        for (const keys of keyLists(back)) assert.deepEqual(keys, [...keys].sort());
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is byte-identical for the same data built in another key order', () => {
    const report = runReport();
    assert.equal(reportJson(reversed(report) as Report), reportJson(report));
    assert.notEqual(JSON.stringify(reversed(report)), JSON.stringify(report));
  });

  it('drops undefined, writes bigints as strings, and names the path of a cycle', () => {
    assert.deepEqual(sortKeys({ b: 1n << 64n, a: undefined, c: [undefined, 2] }), { b: '18446744073709551616', c: [undefined, 2] });
    const facts: Record<string, unknown> = { kernel: '6.1' };
    facts.self = facts;
    const report: Report = { ...runReport(), targets: [{ id: 'local', profile: 'p', profileReason: 'r', facts }] };
    assert.throws(() => reportJson(report), /cycle at \$\.targets\[0\]\.facts\.self/);
    // The same object twice (not a cycle) is fine.
    const shared = { x: 1 };
    assert.deepEqual(sortKeys({ a: shared, b: shared }), { a: { x: 1 }, b: { x: 1 } });
  });
});
