/**
 * When an observed result agrees with a predicted one. Informational data (inode numbers,
 * residency, messages) is never compared; an op the model does not cover accepts anything.
 */
import type { OpResult } from '../ops/result.js';
import { UNMODELLED } from '../model/answer.js';

/** What may differ between a real machine and the model without being a divergence. */
export interface MatchOptions {
  /** Other processes use ashmem: PURGE_ALL_CACHES counts their pages too (ours are a lower bound, §3.7). */
  readonly otherUsers: boolean;
}

/** The comparable part of a result, as a canonical string. */
export function resultKey(r: OpResult): string {
  const o: Record<string, unknown> = {};
  if (r.proc !== undefined && r.proc !== 'p0') o.proc = r.proc;
  for (const f of ['ret', 'errno', 'signal', 'exception', 'error', 'name', 'copied', 'mode', 'size'] as const) {
    if (r[f] !== undefined) o[f] = r[f];
  }
  if (r.exception !== undefined && r.message !== undefined) o.message = r.message;
  if (r.rle !== undefined || r.op === 'check' || (r.op === 'read' && r.ret !== undefined)) o.rle = r.rle ?? [];
  return JSON.stringify(o);
}

function runsEqual(a: readonly (readonly [number, number])[] | undefined, b: readonly (readonly [number, number])[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const p = x[i] as readonly [number, number];
    const q = y[i] as readonly [number, number];
    if (p[0] !== q[0] || p[1] !== q[1]) return false;
  }
  return true;
}

function hasRuns(r: OpResult): boolean {
  return r.rle !== undefined || r.op === 'check' || (r.op === 'read' && r.ret !== undefined);
}

/** The same comparison as {@link resultKey} equality, without building strings (the judge's hot path). */
export function sameResult(a: OpResult, b: OpResult): boolean {
  if ((a.proc ?? 'p0') !== (b.proc ?? 'p0')) return false;
  // Direct reads, not a loop over names: results come in many object shapes, and keyed loads
  // over them were the judge's hottest line.
  if (a.ret !== b.ret || a.errno !== b.errno || a.signal !== b.signal || a.exception !== b.exception || a.error !== b.error) return false;
  if (a.name !== b.name || a.copied !== b.copied || a.mode !== b.mode || a.size !== b.size) return false;
  // A message the spec does not fix (undefined in the prediction) is not compared.
  if (a.exception !== undefined && a.message !== undefined && a.message !== b.message) return false;
  if (hasRuns(a) !== hasRuns(b)) return false;
  return !hasRuns(a) || runsEqual(a.rle, b.rle);
}

/** True when `observed` is a result the prediction admits. */
export function matches(predicted: OpResult, observed: OpResult, opts: MatchOptions): boolean {
  if (predicted.error === UNMODELLED) return true;
  if (opts.otherUsers && predicted.op === 'purge_all' && predicted.ret !== undefined && observed.ret !== undefined) {
    // Other processes' unpinned pages add to the count; the int truncation (§12) keeps order for sane counts.
    return observed.ret >= predicted.ret && sameResult({ ...observed, ret: 0 }, { ...predicted, ret: 0 });
  }
  return sameResult(predicted, observed);
}

/** A short human form of a result: `ret 0`, `EINVAL`, `SIGBUS`, plus data. */
export function describe(r: OpResult): string {
  const head = r.ret !== undefined ? `ret ${r.ret}` : r.errno ?? r.signal ?? (r.exception !== undefined ? `${r.exception}: ${r.message ?? ''}` : `error ${r.error ?? '?'}${r.message !== undefined ? ` (${r.message})` : ''}`);
  const data: string[] = [];
  if (r.rle !== undefined) data.push(`bytes ${JSON.stringify(r.rle)}`);
  if (r.name !== undefined) data.push(`name ${JSON.stringify(r.name)} copied ${r.copied ?? '?'}`);
  if (r.mode !== undefined) data.push(`${r.mode} size ${r.size ?? '?'}`);
  return [head, ...data].join(', ');
}
