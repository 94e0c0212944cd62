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

/** Which op purged a page, in the world an explanation is about (found by replaying that world's choices). */
export interface PurgeCause {
  /** The line and kind of the op that purged it. */
  readonly line: number;
  readonly kind: string;
  /** Ranges the same op purged that were newer on the LRU than the page's range (`area:pgstart-pgend`). */
  readonly newer: readonly string[];
}

/** What the judge can find out about the history behind a divergence, computed only when a rule needs it. */
export interface History {
  /** The op that purged page `page` of area `areaId`, if the replay finds one. */
  causeOf(areaId: number, page: number): PurgeCause | undefined;
  /** True when the results so far, this one included, are consistent if a trigger may purge any LRU prefix. */
  anyPrefixExplains(): boolean;
  /** True when some op before this one could purge (drop_caches, pressure, app_wait, PURGE_ALL_CACHES) and ran. */
  anyTrigger(): boolean;
}

const NO_HISTORY: History = { causeOf: () => undefined, anyPrefixExplains: () => false, anyTrigger: () => true };

/** The ops that purge: PURGE_ALL_CACHES itself, and the triggers of the shrinker. */
const TRIGGER_TEXT: Record<string, string> = { drop_caches: 'drop_caches', pressure: 'memory pressure', app_wait: 'the purge while the app waited' };

/** The shrinker-count rule (an exclusive guest, `--shrinker batches`). */
const SHRINKER_COUNT: Rule = { rule: 'no admissible run of the shrinker purges this: its batches of 128 in the lineage\'s unit (ranges, pages, or all), its deferred work and this kernel\'s drop_caches pass loop', section: '§5.2, §5.3, §12' };

/** `0xA5`. */
const hex = (b: number): string => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`;

/** The first byte where two run lists differ: its offset and both bytes (undefined past the shorter list's end). */
export function firstDifference(expected: readonly ByteRun[], observed: readonly ByteRun[]): { offset: number; expected?: number; observed?: number } | undefined {
  let i = 0, j = 0, ei = 0, oj = 0, at = 0;
  while (i < expected.length && j < observed.length) {
    const [e, en] = expected[i] as ByteRun;
    const [o, on] = observed[j] as ByteRun;
    if (e !== o) return { offset: at, expected: e, observed: o };
    const n = Math.min(en - ei, on - oj);
    at += n;
    ei += n;
    oj += n;
    if (ei === en) { i++; ei = 0; }
    if (oj === on) { j++; oj = 0; }
  }
  if (i === expected.length && j === observed.length) return undefined;
  return { offset: at, ...(i < expected.length ? { expected: (expected[i] as ByteRun)[0] } : {}), ...(j < observed.length ? { observed: (observed[j] as ByteRun)[0] } : {}) };
}

/** "first difference at byte N of the window (file offset F): expected 0x.., observed 0x..". */
function whereBytesDiffer(op: Op, expected: readonly ByteRun[], observed: readonly ByteRun[], fileOffset: number | undefined): string {
  const d = firstDifference(expected, observed);
  if (d === undefined) return 'the same bytes';
  const what = (b: number | undefined): string => (b === undefined ? 'no byte (shorter)' : hex(b));
  const unit = op.kind === 'read' ? 'of the read' : 'of the window';
  const file = fileOffset === undefined ? '' : ` (file offset ${fileOffset + d.offset})`;
  return `first difference at byte ${d.offset} ${unit}${file}: expected ${what(d.expected)}, observed ${what(d.observed)}`;
}

/** Field names whose comparable values differ (the fields the judge compares, match.ts). */
function differingFields(a: OpResult, b: OpResult): string[] {
  const out: string[] = [];
  if ((a.proc ?? 'p0') !== (b.proc ?? 'p0')) out.push('proc');
  for (const f of ['ret', 'errno', 'signal', 'exception', 'error', 'name', 'copied', 'mode', 'size'] as const) if (a[f] !== b[f]) out.push(f);
  if (a.exception !== undefined && a.message !== undefined && a.message !== b.message) out.push('message');
  if (JSON.stringify(a.rle ?? []) !== JSON.stringify(b.rle ?? [])) out.push('rle');
  return out;
}

/**
 * Classifies a divergence at `op`, given a world as it was before the op and what it predicted.
 * @param history - what the judge can replay about how the world got here (purges, shrinker)
 */
export function classify(op: Op, world: Kernel, expected: OpResult, observed: OpResult, history: History = NO_HISTORY): Rule {
  const section = SECTION[op.kind] ?? '§3';
  const outcome = (r: OpResult): string => (r.errno ?? r.signal ?? r.error ?? (r.exception !== undefined ? r.exception : r.ret !== undefined ? `ret ${r.ret}` : '?'));
  if (expected.errno !== undefined || observed.errno !== undefined) {
    if (expected.errno !== observed.errno) return { rule: `wrong errno or success: expected ${outcome(expected)}, observed ${outcome(observed)}`, section };
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
  const fields = differingFields(expected, observed);
  if ((op.kind === 'check' || op.kind === 'read') && fields.length === 1 && fields[0] === 'rle') {
    const m = fileWindow(world, op);
    const where = whereBytesDiffer(op, expected.rle ?? [], observed.rle ?? [], m?.offset);
    const data = dataRule(world, m, expected.rle ?? [], observed.rle ?? [], history);
    const what = op.kind === 'read' ? 'read returned different bytes' : 'the mapping holds different bytes';
    if (data !== undefined) return { rule: `${data.rule}: ${what}, ${where}`, section: data.section };
    return { rule: `${what} than the model: ${where}`, section: op.kind === 'read' ? '§3.9, §5.1' : '§3.5, §5.1' };
  }
  // Byte runs can be megabytes long: a field's value is shown up to 80 characters.
  const cut = (t: string): string => (t.length > 80 ? `${t.slice(0, 77)}...` : t);
  if (fields.length === 0) return { rule: `result differs: expected ${cut(JSON.stringify(expected))}, observed ${cut(JSON.stringify(observed))}`, section };
  const show = (r: OpResult, f: string): string => cut(JSON.stringify((r as unknown as Record<string, unknown>)[f] ?? null));
  return { rule: `${fields.map((f) => `${f} differs (expected ${show(expected, f)}, observed ${show(observed, f)})`).join('; ')}`, section };
}

/**
 * The purge rule behind bytes that differ in a window of an area's file, when the pages say
 * which: zeros where the model keeps data, or data where it purged.
 */
function dataRule(world: Kernel, m: FileWindow | undefined, expected: readonly ByteRun[], observed: readonly ByteRun[], history: History): Rule | undefined {
  if (m === undefined) return undefined;
  const ps = world.env.pageSize;
  const { zeroed, kept } = pageDiff(expected, observed, m.offset, ps);
  const area = m.area;
  if (zeroed.size > 0) {
    const filePages = [...zeroed];
    const inRange = (p: number): boolean => area.unpinned.some((r) => p >= r.pgstart && p <= r.pgend);
    if (filePages.some((p) => !inRange(p))) return { rule: 'a pinned page was purged (read back as zeros)', section: '§5.1, §4.3' };
    const partial = area.unpinned.some((r) => rangePages(r) > 0 && filePages.some((p) => p >= r.pgstart && p <= r.pgend) && !rangeAllIn(r, new Set(filePages)) && !r.purged);
    if (partial) return { rule: 'part of a range was purged: purges take whole ranges only', section: '§5.2, §5.3' };
    if (!history.anyTrigger()) return { rule: 'an unpinned range was purged though nothing purged (no drop_caches, memory pressure or PURGE_ALL_CACHES ran): on an exclusive machine only a trigger purges', section: '§5.3' };
    if (history.anyPrefixExplains()) return SHRINKER_COUNT;
    return { rule: 'purged out of LRU order: what is purged must be a prefix of the LRU (oldest unpin first)', section: '§4.5, §5.3' };
  }
  if (kept.size > 0) {
    const keptFile = new Set(kept);
    const purgedRanges = area.unpinned.filter((r) => r.purged && rangePages(r) > 0);
    const holder = (p: number): (typeof purgedRanges)[number] | undefined => purgedRanges.find((r) => p >= r.pgstart && p <= r.pgend);
    if (![...keptFile].every((p) => holder(p) !== undefined)) return { rule: 'data differs from what was stored (not a purge: those pages were never purged)', section: '§3.5, §5.1' };
    // A purged range that came back partly kept: the purge split it.
    const split = purgedRanges.some((r) => {
      let n = 0;
      for (let p = r.pgstart; p <= r.pgend; p++) if (keptFile.has(p)) n++;
      return n > 0 && n < rangePages(r);
    });
    if (split) return { rule: 'part of a range was purged: purges take whole ranges only', section: '§5.2, §5.3' };
    const page = Math.min(...keptFile);
    const cause = history.causeOf(area.id, page);
    if (cause === undefined) return { rule: 'purged page not zeroed: a purged range read back its data', section: '§5.1' };
    if (cause.kind === 'purge_all') return { rule: `purged page not zeroed: PURGE_ALL_CACHES at line ${cause.line} purged page ${page}, which must then read as zeros`, section: '§3.7, §5.1' };
    const trigger = TRIGGER_TEXT[cause.kind] ?? cause.kind;
    if (history.anyPrefixExplains()) return SHRINKER_COUNT;
    if (cause.newer.length > 0) {
      return { rule: `purged out of LRU order: page ${page} kept its data though ${trigger} at line ${cause.line} purged newer ranges (${cause.newer.slice(0, 4).join(' ')}${cause.newer.length > 4 ? ' ...' : ''}); a purge takes the oldest unpinned first`, section: '§4.5, §5.3' };
    }
    return { rule: `purged page not zeroed: page ${page} was purged by ${trigger} at line ${cause.line} (later results showed it) and read back its data`, section: '§5.1' };
  }
  return undefined;
}

function rangeAllIn(r: { pgstart: number; pgend: number }, pages: Set<number>): boolean {
  for (let p = r.pgstart; p <= r.pgend; p++) if (!pages.has(p)) return false;
  return true;
}

/** Where a check or read looks in an area's file: the area and the file offset of its first byte. */
interface FileWindow {
  readonly area: Kernel['areas'] extends Map<number, infer A> ? A : never;
  readonly offset: number;
}

function fileWindow(world: Kernel, op: Op): FileWindow | undefined {
  const proc = world.procs.get(op.proc);
  if (op.kind === 'check') {
    const m = proc?.maps.get(op.m) ?? null;
    // MAP_PRIVATE copies are the process's own pages, not the file's (§3.5 step 6).
    if (m === null || m.kind !== 'shared') return undefined;
    return { area: m.area, offset: m.pgoff * world.env.pageSize + op.offset };
  }
  if (op.kind === 'read') {
    const a = proc?.fds.get(op.r) ?? null;
    return a === null ? undefined : { area: a, offset: Number(a.pos) };
  }
  return undefined;
}

/** The op as a script line, for messages. */
export function opText(op: Op): string {
  return printOp(op);
}
