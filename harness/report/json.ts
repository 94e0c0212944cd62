/**
 * report.json: the whole report, pretty-printed with object keys sorted at every level, so two
 * runs of the same cases give byte-identical files whatever order the producers built them in.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Report } from './types.js';

/**
 * A copy of `value` with every plain object's keys sorted; `undefined` members dropped as
 * JSON.stringify would, bigints as decimal strings (device facts may hold 64-bit numbers).
 * Throws a TypeError naming the path of a cycle, which JSON cannot carry.
 */
export function sortKeys(value: unknown, path = '$', seen: Set<object> = new Set()): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) throw new TypeError(`report.json: cycle at ${path}; the report must be plain data`);
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return sortKeys((toJSON as () => unknown).call(value), path, seen);
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v: unknown, k) => sortKeys(v, `${path}[${k}]`, seen));
    const rec = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(rec).sort()) {
      const v = rec[k];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      out[k] = sortKeys(v, `${path}.${k}`, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** The report as JSON text: two-space indent, sorted keys, trailing newline. */
export function reportJson(report: Report): string {
  return `${JSON.stringify(sortKeys(report), null, 2)}\n`;
}

/** Writes {@link reportJson} of `report` to `file`, creating its directory. */
export function writeJson(report: Report, file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, reportJson(report));
}
