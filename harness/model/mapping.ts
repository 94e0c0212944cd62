/**
 * Mappings and memory access through them (§3.5, §5.1). A MAP_SHARED mapping is a window on
 * the backing file; a MAP_PRIVATE ashmem mapping is anonymous zero memory that never shows the
 * region (§3.5 step 6, §10.2); a MAP_PRIVATE memfd mapping is an ordinary copy-on-write view.
 */
import type { Area } from './area.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from './area.js';
import { type Backing, type Page, writePage } from './backing.js';
import { pushRun, type ByteRun } from '../ops/result.js';

/** One live mapping. */
export interface Mapping {
  readonly kind: 'shared' | 'private';
  readonly area: Area;
  /** The file whose pages it shows (shared, and memfd private reads); null for anonymous. */
  readonly backing: Backing | null;
  /** Private pages (written copies, or all pages of an anonymous mapping). */
  readonly own: Map<number, Page> | null;
  /** First file page of the window. */
  readonly pgoff: number;
  /** Length in bytes as requested. */
  readonly len: number;
  prot: number;
  /** VM_MAY* bits: what mprotect may add (§3.5 step 4). */
  readonly mayProt: number;
  /**
   * Pages of the window that a partial munmap removed (`munmap_range`): touching one is SIGSEGV;
   * null while the window is whole. Owned by this mapping (a fork copies it).
   */
  holes: Set<number> | null;
  /** Per-page protections that differ from `prot` (an mprotect stopped by a hole changed a prefix). */
  pageProt: Map<number, number> | null;
}

/** The protection of page `j` of a mapping. */
export function protOf(m: Mapping, j: number): number {
  return m.pageProt?.get(j) ?? m.prot;
}

/** How an access ended: bytes done, then possibly a signal. */
export interface Access {
  readonly signal: 'SIGBUS' | 'SIGSEGV' | null;
  readonly runs: [number, number][];
}

function readable(prot: number, execImpliesRead: boolean): boolean {
  return (prot & (PROT_READ | PROT_WRITE)) !== 0 || (execImpliesRead && (prot & PROT_EXEC) !== 0);
}

/** The fault a touch of mapping page `j` raises, if any. */
function fault(m: Mapping, j: number, write: boolean, execImpliesRead: boolean): 'SIGBUS' | 'SIGSEGV' | null {
  // An unmapped page has no vma at all: SIGSEGV whatever the rest of the window allows.
  if (m.holes?.has(j) === true) return 'SIGSEGV';
  const prot = protOf(m, j);
  if (write ? (prot & PROT_WRITE) === 0 : !readable(prot, execImpliesRead)) return 'SIGSEGV';
  // File-backed pages beyond i_size do not exist: SIGBUS (§3.5).
  if (m.backing !== null && m.pgoff + j >= m.backing.pageLimit()) return 'SIGBUS';
  return null;
}

/**
 * Stores `byte` into [offset, offset+len) of the mapping, page by page, stopping at the first
 * fault (bytes before it stay stored).
 */
export function fill(m: Mapping, offset: number, len: number, byte: number, pageSize: number, execImpliesRead: boolean): Access {
  let x = offset;
  const end = offset + len;
  while (x < end) {
    const j = Math.floor(x / pageSize);
    const f = fault(m, j, true, execImpliesRead);
    if (f !== null) return { signal: f, runs: [] };
    const from = x - j * pageSize;
    const to = Math.min(pageSize, end - j * pageSize);
    if (m.kind === 'shared') {
      const b = m.backing as Backing;
      const p = m.pgoff + j;
      b.pages.set(p, writePage(b.pages.get(p), from, to, byte, pageSize));
    } else {
      const own = m.own as Map<number, Page>;
      // Copy-on-write: a private file mapping starts from the file's page, which the fault
      // reads through the file (do_cow_fault -> shmem_fault): a hole gets a page in the file.
      const base = own.has(j) ? own.get(j) : fileFault(m, j);
      own.set(j, writePage(base, from, to, byte, pageSize));
    }
    x = j * pageSize + to;
  }
  return { signal: null, runs: [] };
}

/** Loads [offset, offset+len) of the mapping as byte runs, stopping at the first fault. */
export function check(m: Mapping, offset: number, len: number, pageSize: number, execImpliesRead: boolean): Access {
  const runs: [number, number][] = [];
  let x = offset;
  const end = offset + len;
  while (x < end) {
    const j = Math.floor(x / pageSize);
    const f = fault(m, j, false, execImpliesRead);
    if (f !== null) return { signal: f, runs };
    const from = x - j * pageSize;
    const to = Math.min(pageSize, end - j * pageSize);
    let page: Page | undefined;
    if (m.kind === 'shared') {
      const b = m.backing as Backing;
      page = b.pages.get(m.pgoff + j);
      // A read fault on a shmem hole allocates a zero page (it then counts as data for SEEK_DATA).
      if (page === undefined) b.pages.set(m.pgoff + j, 0);
    } else {
      const own = m.own as Map<number, Page>;
      page = own.has(j) ? own.get(j) : fileFault(m, j);
    }
    appendPage(runs, page, from, to);
    x = j * pageSize + to;
  }
  return { signal: null, runs };
}

/**
 * The file page under page `j` of a private mapping, as a fault reads it: shmem_fault fills a
 * hole with a zero page in the file, as for a shared mapping (SEEK_DATA then finds it). An
 * anonymous mapping (ashmem MAP_PRIVATE) has no file and reads zeros.
 */
function fileFault(m: Mapping, j: number): Page | undefined {
  const b = m.backing;
  if (b === null) return undefined;
  const p = m.pgoff + j;
  const page = b.pages.get(p);
  if (page === undefined) b.pages.set(p, 0);
  return page;
}

/** Appends bytes [from, to) of a page to runs. */
export function appendPage(runs: [number, number][], page: Page | undefined, from: number, to: number): void {
  if (page === undefined) pushRun(runs, 0, to - from);
  else if (typeof page === 'number') pushRun(runs, page, to - from);
  else for (let k = from; k < to; k++) pushRun(runs, page[k] as number, 1);
}

/** A copy of a mapping for a forked child or another world. */
export function cloneMapping(m: Mapping, area: Area, backing: Backing | null): Mapping {
  let own: Map<number, Page> | null = null;
  if (m.own !== null) {
    own = new Map();
    // Pages are immutable once stored (backing.ts Page): the copy shares them.
    for (const [k, v] of m.own) own.set(k, v);
  }
  return {
    kind: m.kind, area, backing, own, pgoff: m.pgoff, len: m.len, prot: m.prot, mayProt: m.mayProt,
    holes: m.holes === null ? null : new Set(m.holes),
    pageProt: m.pageProt === null ? null : new Map(m.pageProt),
  };
}

/** Pages a mapping's window spans. */
export function mappingPages(m: Mapping, pageSize: number): number {
  return Math.ceil(m.len / pageSize);
}

export type { ByteRun };
