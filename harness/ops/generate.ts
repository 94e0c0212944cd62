/**
 * Random op scripts (fast-check arbitraries), reproducible from a seed. Offsets and lengths are
 * drawn in pages inside small regions so that requests overlap, split, touch and abut often;
 * `len == 0`, the empty interval, purges between pins and second processes are all in the mix.
 */
import fc from 'fast-check';
import { MAIN_PROC, type Op } from './ast.js';
import { parseScript } from './parse.js';
import { printScript } from './print.js';

/** What the generator needs to know about the target and how to weigh ops. */
export interface GenerateSettings {
  readonly pageSize: number;
  /** Ops after the prelude, at most. */
  readonly length: number;
  /** Regions are memfds (set sizes with ftruncate rather than ASHMEM_SET_SIZE). */
  readonly memfd: boolean;
  /** Largest region, in pages. */
  readonly maxPages: number;
  /** Relative weights per op family (0 turns one off). */
  readonly mix: Readonly<Record<OpFamily, number>>;
}

/** The op families the generator mixes. */
export type OpFamily = 'unpin' | 'pin' | 'status' | 'purge' | 'drop' | 'check' | 'fill' | 'file' | 'prot' | 'errors' | 'mapping' | 'fds' | 'fork' | 'bulk';

/** Weighted toward pin, unpin and purge, as the driver's interesting states come from them. */
export const DEFAULT_MIX: Readonly<Record<OpFamily, number>> = {
  unpin: 25, pin: 20, status: 10, purge: 8, drop: 2, check: 8, fill: 3, file: 4, prot: 3, errors: 3, mapping: 3, fds: 2, fork: 2, bulk: 1,
};

/** Default settings for a page size. */
export function defaultSettings(pageSize: number, memfd = false): GenerateSettings {
  return { pageSize, length: 40, memfd, maxPages: 12, mix: DEFAULT_MIX };
}

/**
 * The settings `run` generates with for a target: its page size, memfd regions where the
 * profile's regions are memfds, and no drop_caches without root (it could only say EACCES).
 */
export function settingsForTarget(target: { readonly pageSize: number; readonly root: boolean; readonly memfd: boolean }, length: number): GenerateSettings {
  const s = defaultSettings(target.pageSize, target.memfd);
  return { ...s, length, mix: { ...s.mix, drop: target.root ? s.mix.drop : 0 } };
}

/** An op before handles and byte offsets are fixed: region index and page numbers. */
type Abstract =
  | { t: 'pin' | 'unpin' | 'status'; reg: number; off: number; len: number; odd: boolean }
  | { t: 'purge'; reg: number }
  | { t: 'drop' }
  | { t: 'check' | 'fill'; reg: number; off: number; len: number; byte: number }
  | { t: 'read'; reg: number; len: number }
  | { t: 'lseek'; reg: number; off: number; whence: 'set' | 'cur' | 'end' | 'data' | 'hole' }
  | { t: 'get_size' | 'get_prot' | 'get_name' | 'pin_null' | 'status_null' | 'write' | 'fstat' | 'file_id' | 'file_id_null'; reg: number }
  | { t: 'set_prot'; reg: number; prot: number }
  | { t: 'set_size'; reg: number; pages: number }
  | { t: 'ioctl'; reg: number; nr: number }
  | { t: 'mmap'; reg: number; pages: number; prot: number; priv: boolean }
  | { t: 'munmap'; reg: number }
  | { t: 'dup'; reg: number }
  | { t: 'fork'; reg: number; off: number; len: number; kind: 'pin' | 'unpin' }
  // A region of its own with many unpinned ranges, so one shrinker batch (128) is exceeded (§5.2).
  | { t: 'bulk'; count: number; width: number; gap: number };

interface Region {
  pages: number;
  /** Bytes short of a whole last page (an unaligned size). */
  short: number;
  named: string | null;
  mapped: boolean;
}

function abstractOp(s: GenerateSettings): fc.Arbitrary<Abstract> {
  const reg = fc.nat(2);
  const page = fc.nat(s.maxPages);
  // Lengths: often 0 ("to the end"), usually short so ranges abut and overlap.
  const len = fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.nat(s.maxPages) });
  const pinLike = (t: 'pin' | 'unpin' | 'status'): fc.Arbitrary<Abstract> =>
    fc.record({ t: fc.constant(t), reg, off: page, len, odd: fc.oneof({ weight: 19, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) });
  const byteRange = (t: 'check' | 'fill'): fc.Arbitrary<Abstract> =>
    fc.record({ t: fc.constant(t), reg, off: page, len: fc.integer({ min: 1, max: s.maxPages }), byte: fc.integer({ min: 1, max: 255 }) });
  const w = s.mix;
  const families: { weight: number; arbitrary: fc.Arbitrary<Abstract> }[] = [
    { weight: w.unpin, arbitrary: pinLike('unpin') },
    { weight: w.pin, arbitrary: pinLike('pin') },
    { weight: w.status, arbitrary: pinLike('status') },
    { weight: w.purge, arbitrary: fc.record({ t: fc.constant('purge' as const), reg }) },
    { weight: w.drop, arbitrary: fc.constant({ t: 'drop' as const }) },
    { weight: w.check, arbitrary: byteRange('check') },
    { weight: w.fill, arbitrary: byteRange('fill') },
    {
      weight: w.file,
      arbitrary: fc.oneof(
        fc.record({ t: fc.constant('read' as const), reg, len: fc.integer({ min: 0, max: 3 * s.pageSize }) }),
        fc.record({ t: fc.constant('lseek' as const), reg, off: fc.nat(s.maxPages * s.pageSize), whence: fc.constantFrom('set' as const, 'cur' as const, 'end' as const, 'data' as const, 'hole' as const) }),
        fc.record({ t: fc.constantFrom('get_size' as const, 'get_name' as const, 'fstat' as const, 'write' as const), reg }),
      ),
    },
    {
      weight: w.prot,
      arbitrary: fc.oneof(
        fc.record({ t: fc.constant('get_prot' as const), reg }),
        fc.record({ t: fc.constant('set_prot' as const), reg, prot: fc.integer({ min: 0, max: 8 }) }),
      ),
    },
    {
      weight: w.errors,
      arbitrary: fc.oneof(
        fc.record({ t: fc.constantFrom('pin_null' as const, 'status_null' as const, 'file_id' as const, 'file_id_null' as const), reg }),
        fc.record({ t: fc.constant('set_size' as const), reg, pages: fc.integer({ min: 1, max: s.maxPages }) }),
        fc.record({ t: fc.constant('ioctl' as const), reg, nr: fc.integer({ min: 12, max: 255 }) }),
      ),
    },
    {
      weight: w.mapping,
      arbitrary: fc.oneof(
        fc.record({ t: fc.constant('mmap' as const), reg, pages: fc.integer({ min: 1, max: s.maxPages + 2 }), prot: fc.constantFrom(1, 3, 3, 0), priv: fc.boolean() }),
        fc.record({ t: fc.constant('munmap' as const), reg }),
      ),
    },
    { weight: w.fds, arbitrary: fc.record({ t: fc.constant('dup' as const), reg }) },
    { weight: w.fork, arbitrary: fc.record({ t: fc.constant('fork' as const), reg, off: page, len, kind: fc.constantFrom('pin' as const, 'unpin' as const) }) },
    { weight: w.bulk, arbitrary: fc.record({ t: fc.constant('bulk' as const), count: fc.integer({ min: 100, max: 200 }), width: fc.integer({ min: 1, max: 3 }), gap: fc.integer({ min: 0, max: 1 }) }) },
  ];
  return fc.oneof(...families.filter((f) => f.weight > 0));
}

function regionArb(s: GenerateSettings): fc.Arbitrary<Region> {
  return fc.record({
    pages: fc.integer({ min: 1, max: s.maxPages }),
    short: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: s.pageSize - 1 }) }),
    named: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }),
    // A quarter of regions are never mapped: pinning before the first mmap is where lineages differ (§3.6, §10.1).
    mapped: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  });
}

/** The text of a generated case: a prelude that creates 1-3 regions, then the body. */
function render(s: GenerateSettings, regions: readonly Region[], body: readonly Abstract[]): string {
  const ps = s.pageSize;
  const lines: string[] = [];
  const size = (r: Region): number => r.pages * ps - r.short;
  regions.forEach((r, k) => {
    lines.push(`open r${k}`);
    if (r.named !== null) lines.push(`set_name r${k} ${JSON.stringify(r.named.replace(/[^\x20-\x7e]/g, '?'))}`);
    lines.push(s.memfd ? `truncate r${k} ${size(r)}` : `set_size r${k} ${size(r)}`);
    if (r.mapped) {
      lines.push(`mmap m${k} r${k} ${size(r)} 3 shared 0`);
      lines.push(`fill m${k} 0 ${size(r)} ${0x10 + k}`);
    }
  });
  let extraMaps = 0;
  let forks = 0;
  let dups = 0;
  let bulks = 0;
  for (const a of body) {
    if (a.t === 'drop') {
      lines.push('drop_caches');
      continue;
    }
    if (a.t === 'bulk') {
      const k = 3 + bulks++;
      const bytes = a.count * (a.width + a.gap) * ps;
      lines.push(`open r${k + 10}`, s.memfd ? `truncate r${k + 10} ${bytes}` : `set_size r${k + 10} ${bytes}`, `mmap m${k + 10} r${k + 10} ${bytes} 3 shared 0`, `fill m${k + 10} 0 ${bytes} ${0x40 + k}`);
      // Adjacent ranges never merge (§4.1), so gap 0 still makes `count` ranges.
      for (let i = 0; i < a.count; i++) lines.push(`unpin r${k + 10} ${i * (a.width + a.gap) * ps} ${a.width * ps}`);
      lines.push('drop_caches', `check m${k + 10} 0 ${bytes}`);
      continue;
    }
    const k = a.reg % regions.length;
    const r = regions[k] as Region;
    const R = `r${k}`;
    switch (a.t) {
      case 'pin': case 'unpin': case 'status': {
        const off = Math.min(a.off, r.pages) * ps + (a.odd ? 1 : 0);
        const len = Math.min(a.len, r.pages + 1) * ps;
        lines.push(`${a.t} ${R} ${off} ${len}`);
        break;
      }
      case 'purge': lines.push(`purge_all ${R}`); break;
      case 'check': case 'fill': {
        if (!r.mapped) { lines.push(`status ${R} 0 0`); break; }
        const off = Math.min(a.off, r.pages - 1) * ps;
        const len = Math.min(a.len * ps, size(r) - off);
        lines.push(a.t === 'check' ? `check m${k} ${off} ${len}` : `fill m${k} ${off} ${len} ${a.byte}`);
        break;
      }
      case 'read': lines.push(`read ${R} ${a.len}`); break;
      case 'write': lines.push(`write ${R} ${ps}`); break;
      case 'lseek': lines.push(`lseek ${R} ${a.off} ${a.whence}`); break;
      case 'set_prot': lines.push(`set_prot ${R} ${a.prot}`); break;
      case 'set_size': lines.push(`set_size ${R} ${a.pages * ps}`); break;
      case 'ioctl': lines.push(`ioctl ${R} 0x${(0x7700 + a.nr).toString(16)} 0`); break;
      case 'mmap': {
        const m = `m${regions.length + extraMaps++}`;
        lines.push(`mmap ${m} ${R} ${a.pages * ps} ${a.prot} ${a.priv ? 'private' : 'shared'} 0`);
        if (a.prot & 1) lines.push(`check ${m} 0 ${Math.min(a.pages * ps, size(r))}`);
        break;
      }
      case 'munmap': {
        if (extraMaps === 0) { lines.push(`get_size ${R}`); break; }
        lines.push(`munmap m${regions.length + extraMaps - 1}`);
        break;
      }
      case 'dup': {
        const d = `r${regions.length + dups++}`;
        lines.push(`dup ${d} ${R}`, `status ${d} 0 0`, `close ${d}`);
        break;
      }
      case 'fork': {
        const p = `p${++forks}`;
        const off = Math.min(a.off, r.pages) * ps;
        lines.push(`fork ${p}`, `${p}: ${a.kind} ${R} ${off} ${Math.min(a.len, r.pages) * ps}`, `exit ${p}`);
        break;
      }
      default: lines.push(`${a.t} ${R}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** An arbitrary of whole scripts (as text, so the probe and the model see the same bytes). */
export function scriptArbitrary(s: GenerateSettings): fc.Arbitrary<string> {
  return fc
    .record({ regions: fc.array(regionArb(s), { minLength: 1, maxLength: 3 }), body: fc.array(abstractOp(s), { maxLength: s.length }) })
    .map(({ regions, body }) => render(s, regions, body));
}

/** `count` cases from a seed: the same seed gives the same cases. */
export function generateCases(s: GenerateSettings, count: number, seed: number): string[] {
  return fc.sample(scriptArbitrary(s), { seed, numRuns: count });
}

/** Parses a generated script (generated text is always valid; this guards the generator). */
export function parsedCase(text: string): readonly Op[] {
  return parseScript(text).ops;
}

/** Prints ops as a script text (for shrunk cases). */
export function caseText(ops: readonly Op[]): string {
  return printScript(ops);
}

export { MAIN_PROC };
