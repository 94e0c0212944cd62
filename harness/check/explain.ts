/**
 * Says which rule a divergence broke, and shows the model's ranges and LRU, so that a kernel
 * engineer can read a divergence without re-deriving the model.
 */
import type { Op } from '../ops/ast.js';
import type { ByteRun, OpResult } from '../ops/result.js';
import { printOp } from '../ops/print.js';
import type { Kernel } from '../model/kernel.js';
import { rangePages } from '../model/lru.js';

/** The model's view at the divergence: each area's unpinned list and the global LRU. */
export interface ModelState {
  readonly areas: readonly { readonly area: number; readonly ranges: readonly string[] }[];
  /** Oldest first, `area:pgstart-pgend`. */
  readonly lru: readonly string[];
  readonly lruCount: number;
}

/** A named rule of the spec and the section that states it. */
export interface Rule {
  readonly rule: string;
  readonly section: string;
}

/** Describes a world's ranges and LRU. */
export function modelState(k: Kernel): ModelState {
  const fmt = (r: { pgstart: number; pgend: number; purged?: boolean }): string =>
    `${r.pgstart === r.pgend ? r.pgstart : `${r.pgstart}-${r.pgend}`}${r.purged === true ? ' purged' : ''}`;
  return {
    areas: [...k.areas.values()].filter((a) => a.kind === 'ashmem').map((a) => ({ area: a.id, ranges: a.unpinned.map(fmt) })),
    lru: [...k.lru].map((r) => `${r.areaId}:${fmt(r)}`),
    lruCount: k.lru.count,
  };
}

/** Errno and data rules by op, with the spec section that fixes them. */
const SECTION: Record<string, string> = {
  set_name: '§3.2', set_name_null: '§3.2', get_name: '§3.2', get_name_null: '§3.2',
  set_size: '§3.3', get_size: '§3.3, §12', set_prot: '§3.4', get_prot: '§3.4',
  mmap: '§3.5', mprotect: '§3.5 step 4, §10.10', pin: '§3.6, §4.3', unpin: '§3.6, §4.2', status: '§3.6, §4.4',
  pin_null: '§3.6', unpin_null: '§3.6', status_null: '§3.6', purge_all: '§3.7', file_id: '§3.8', file_id_null: '§3.8',
  read: '§3.9', lseek: '§3.9', write: '§3.9, §12', ioctl: '§1.3, §1.4', check: '§3.5, §5.1', fill: '§3.5',
};

/**
 * Pages (of a check window starting at `offset`) whose bytes differ, split by direction: zeroed
 * where the observation has zeros, kept otherwise. Walks both run lists in step, never byte by
 * byte (a window can be megabytes).
 */
function pageDiff(expected: readonly ByteRun[], observed: readonly ByteRun[], offset: number, pageSize: number): { zeroed: Set<number>; kept: Set<number> } {
  const zeroed = new Set<number>();
  const kept = new Set<number>();
  let i = 0, j = 0, ei = 0, oj = 0, at = 0;
  while (i < expected.length && j < observed.length) {
    const [e, en] = expected[i] as ByteRun;
    const [o, on] = observed[j] as ByteRun;
    const n = Math.min(en - ei, on - oj);
    if (e !== o) {
      const into = o === 0 ? zeroed : kept;
      const first = Math.floor((offset + at) / pageSize);
      const last = Math.floor((offset + at + n - 1) / pageSize);
      for (let p = first; p <= last; p++) into.add(p);
    }
    at += n;
    ei += n;
    oj += n;
    if (ei === en) { i++; ei = 0; }
    if (oj === on) { j++; oj = 0; }
  }
  return { zeroed, kept };
}

/** Classifies a divergence at `op`, given a world as it was before the op and what it predicted. */
export function classify(op: Op, world: Kernel, expected: OpResult, observed: OpResult): Rule {
  const section = SECTION[op.kind] ?? '§3';
  const outcome = (r: OpResult): string => (r.errno ?? r.signal ?? r.error ?? (r.ret !== undefined ? `ret ${r.ret}` : '?'));
  if (expected.errno !== undefined || observed.errno !== undefined) {
    return { rule: `wrong errno or success: expected ${outcome(expected)}, observed ${outcome(observed)}`, section };
  }
  if (expected.signal !== observed.signal) {
    return { rule: `fault mismatch: expected ${expected.signal ?? 'no fault'}, observed ${observed.signal ?? 'no fault'} (SIGBUS beyond i_size; MAP_PRIVATE is anonymous)`, section: '§3.5, §5.1, §10.2' };
  }
  if ((op.kind === 'pin') && expected.ret !== observed.ret) {
    return observed.ret === 1
      ? { rule: 'PIN reported WAS_PURGED for pages no admissible purge reached: a purge out of LRU order, or of pinned pages', section: '§4.3, §4.5, §5.3' }
      : { rule: 'PIN did not report WAS_PURGED for a purged range: the whole-range purged flag was lost', section: '§4.3, §10.3' };
  }
  if (op.kind === 'status' && expected.ret !== observed.ret) {
    return { rule: `GET_PIN_STATUS disagrees with the unpinned list (expected ${expected.ret ?? '?'}, observed ${observed.ret ?? '?'})`, section: '§4.4, §4.6' };
  }
  if (op.kind === 'purge_all' && expected.ret !== observed.ret) {
    return { rule: `PURGE_ALL_CACHES returned ${observed.ret ?? '?'}; the model's lru_count before the purge is ${expected.ret ?? '?'} pages`, section: '§3.7, §4.5' };
  }
  if ((op.kind === 'check') && expected.rle !== undefined && observed.rle !== undefined) {
    const ps = world.env.pageSize;
    const { zeroed, kept } = pageDiff(expected.rle, observed.rle, op.offset, ps);
    const m = procMapping(world, op);
    if (zeroed.size > 0 && m !== undefined) {
      const area = m.area;
      const filePages = [...zeroed].map((p) => p + m.pgoff);
      const inRange = (p: number): boolean => area.unpinned.some((r) => p >= r.pgstart && p <= r.pgend);
      if (filePages.some((p) => !inRange(p))) return { rule: 'a pinned page was purged (read back as zeros)', section: '§5.1, §4.3' };
      const partial = area.unpinned.some((r) => rangePages(r) > 0 && filePages.some((p) => p >= r.pgstart && p <= r.pgend) && !rangeAllIn(r, new Set(filePages)) && !r.purged);
      if (partial) return { rule: 'part of a range was purged: purges take whole ranges only', section: '§5.2, §5.3' };
      return { rule: 'ranges were purged out of LRU order: what is purged must be a prefix of the LRU (oldest unpin first)', section: '§4.5, §5.3' };
    }
    if (kept.size > 0 && m !== undefined) {
      const keptFile = new Set([...kept].map((p) => p + m.pgoff));
      const purgedRanges = m.area.unpinned.filter((r) => r.purged && rangePages(r) > 0);
      const inPurged = [...keptFile].every((p) => purgedRanges.some((r) => p >= r.pgstart && p <= r.pgend));
      if (inPurged) {
        // A purged range that came back partly kept: the purge split it.
        const split = purgedRanges.some((r) => {
          let n = 0;
          for (let p = r.pgstart; p <= r.pgend; p++) if (keptFile.has(p)) n++;
          return n > 0 && n < rangePages(r);
        });
        if (split) return { rule: 'part of a range was purged: purges take whole ranges only', section: '§5.2, §5.3' };
        return { rule: 'the purge stopped after a number of ranges this lineage\'s shrinker cannot produce (its unit: ranges, pages, or all)', section: '§5.2, §5.3' };
      }
    }
    if (kept.size > 0) return { rule: 'a purged page was not zeroed (or data differs from what was stored)', section: '§5.1' };
  }
  return { rule: `result differs: expected ${outcome(expected)}, observed ${outcome(observed)}`, section };
}

function rangeAllIn(r: { pgstart: number; pgend: number }, pages: Set<number>): boolean {
  for (let p = r.pgstart; p <= r.pgend; p++) if (!pages.has(p)) return false;
  return true;
}

function procMapping(world: Kernel, op: Op): { area: Kernel['areas'] extends Map<number, infer A> ? A : never; pgoff: number } | undefined {
  if (op.kind !== 'check') return undefined;
  const m = world.procs.get(op.proc)?.maps.get(op.m) ?? null;
  if (m === null || m.kind !== 'shared') return undefined;
  return { area: m.area, pgoff: m.pgoff };
}

/** The op as a script line, for messages. */
export function opText(op: Op): string {
  return printOp(op);
}
