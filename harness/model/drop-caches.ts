/**
 * One `echo 2 > /proc/sys/vm/drop_caches` write on an exclusive guest (§5.2, §5.3, §12), as the
 * kernel's mm/vmscan.c runs it for ashmem's shrinker: passes over every shrinker at priority 0,
 * each pass one `do_shrink_slab` call for ashmem, repeated while the pass freed enough — where
 * "enough" depends on the kernel version, not on the driver:
 *
 * - up to 5.10, `drop_slab_node` repeats while a pass freed more than 10 objects;
 * - from 5.11 (the "fix infinite loop in drop_slab_node" change; 6.x moved the loop into
 *   `drop_slab`), it repeats while `(freed >> shift++) > 1`, the threshold doubling each pass.
 *
 * Each ashmem call (the count/scan API of 3.12+):
 * - `freeable` = `ashmem_shrink_count` = lru_count in pages; 0 returns at once, deferred untouched;
 * - `delta` = (freeable >> 0) * 4 / seeks with seeks = 4 × DEFAULT_SEEKS = 8;
 * - `total_scan` = deferred + delta, at most 2 × freeable;
 * - while `total_scan >= SHRINK_BATCH (128) || total_scan >= freeable`: one `scan_objects` call
 *   with `nr_to_scan = min(128, total_scan)`, which the C driver consumes in ranges and the Rust
 *   one in pages (§5.2), and `total_scan -= nr_to_scan` (ashmem leaves nr_scanned as it is);
 * - what was not scanned is deferred to the next call: up to 5.12 `deferred + delta - scanned`
 *   with no upper bound; from 5.13 (Yang Shi's nr_deferred rework) the same, at most
 *   2 × freeable.
 *
 * Whether a pass repeats also counts what the other shrinkers freed, which the harness cannot
 * see. On an idle exclusive guest the first pass of a write frees the few objects the harness's
 * own commands left since the last write (§12 saw 9) and later passes of the same write find
 * nothing (the first pass emptied every other cache at priority 0): the model takes 0–10 objects
 * in the first pass and none after, and admits both a repeat and a stop wherever that unknown
 * decides.
 */
import { SHRINK_BATCH } from './shrinker.js';

/** `DEFAULT_SEEKS * 4`: ashmem's shrinker seeks. */
const ASHMEM_SEEKS = 8;

/** How a kernel runs a drop_caches write. */
export interface DropSlabRules {
  /** The repeat condition of the pass loop. */
  readonly loop: 'freed-over-10' | 'halving';
  /** Whether the deferred scan count is capped at 2 × freeable (5.13+). */
  readonly deferredCap: boolean;
}

/** The rules of a kernel release `[major, minor]`. */
export function dropSlabRules(version: readonly [number, number]): DropSlabRules {
  const [major, minor] = version;
  const atLeast = (a: number, b: number): boolean => major > a || (major === a && minor >= b);
  return { loop: atLeast(5, 11) ? 'halving' : 'freed-over-10', deferredCap: atLeast(5, 13) };
}

/** The bounds on what the other shrinkers free in pass `pass` (0-based) of one write. */
export type OtherFreed = (pass: number) => { readonly min: number; readonly max: number };

/** An idle exclusive guest: 0–10 objects in the first pass of a write, none after. */
export const IDLE_GUEST: OtherFreed = (pass) => (pass === 0 ? { min: 0, max: 10 } : { min: 0, max: 0 });

/** How one shrinker call consumes `nr_to_scan` (§5.2): whole ranges counted as ranges (C 3.12+), or pages (Rust). */
export type ScanUnit = 'ranges' | 'pages';

/** One admissible end of a write: how many LRU ranges (oldest first) it purged, and the deferred count it leaves. */
export interface DropOutcome {
  readonly purged: number;
  readonly deferred: number;
}

/** The state between two passes of one write. */
interface Between {
  readonly purged: number;
  readonly deferred: number;
}

/**
 * One ashmem `do_shrink_slab` call at priority 0.
 * @param pages - page counts of the LRU ranges still there, oldest first
 * @returns the ranges it purged, the pages freed and the deferred count after it
 */
export function shrinkPass(pages: readonly number[], deferred: number, unit: ScanUnit, rules: DropSlabRules): { purged: number; freed: number; deferred: number } {
  let freeable = 0;
  for (const p of pages) freeable += p;
  if (freeable === 0) return { purged: 0, freed: 0, deferred };
  const delta = Math.floor((freeable * 4) / ASHMEM_SEEKS);
  const wanted = deferred + delta;
  let total = Math.min(wanted, 2 * freeable);
  let purged = 0;
  let freed = 0;
  let scanned = 0;
  while (total >= SHRINK_BATCH || total >= freeable) {
    const n = Math.min(SHRINK_BATCH, total);
    // ashmem_shrink_scan: from the LRU head, one range at a time, until the budget is spent.
    let budget = n;
    let thisCall = 0;
    while (purged < pages.length && (unit === 'ranges' ? budget > 0 : thisCall < n)) {
      const p = pages[purged] as number;
      purged++;
      freed += p;
      thisCall += p;
      budget--;
    }
    total -= n;
    scanned += n;
  }
  const left = Math.max(wanted - scanned, 0);
  return { purged, freed, deferred: rules.deferredCap ? Math.min(left, 2 * freeable) : left };
}

/** True when the pass loop repeats after pass `pass` (0-based) freed `freed` objects in all. */
function repeats(rules: DropSlabRules, pass: number, freed: number): boolean {
  // Passes beyond 52 cannot repeat under halving (no count that large); keep the shift in range.
  return rules.loop === 'freed-over-10' ? freed > 10 : Math.floor(freed / 2 ** Math.min(pass, 52)) > 1;
}

/**
 * The admissible ends of one drop_caches write, for each way the unknown frees of the other
 * shrinkers can decide the pass loop.
 * @param pages - page counts of the LRU ranges, oldest first
 * @param deferred - ashmem's deferred scan count before the write
 */
export function dropCachesOutcomes(pages: readonly number[], deferred: number, unit: ScanUnit, rules: DropSlabRules, others: OtherFreed = IDLE_GUEST): DropOutcome[] {
  const out = new Map<string, DropOutcome>();
  const seen = new Set<string>();
  let frontier: Between[] = [{ purged: 0, deferred }];
  for (let pass = 0; frontier.length > 0; pass++) {
    if (pass > 10_000) throw new Error('drop_caches: the pass loop did not settle (a bug in the model)');
    const next: Between[] = [];
    for (const s of frontier) {
      const r = shrinkPass(pages.slice(s.purged), s.deferred, unit, rules);
      const after = { purged: s.purged + r.purged, deferred: r.deferred };
      const { min, max } = others(pass);
      // The repeat test is monotone in what was freed: the fewest and the most the others can add decide.
      if (!repeats(rules, pass, r.freed + min)) out.set(`${after.purged}/${after.deferred}`, after);
      if (repeats(rules, pass, r.freed + max)) {
        // A repeat that changes nothing changes nothing later either, once the threshold only grows.
        const key = `${after.purged}/${after.deferred}/${rules.loop === 'halving' ? Math.min(pass, 60) : 0}`;
        if (!seen.has(key)) {
          seen.add(key);
          next.push(after);
        }
      }
    }
    frontier = next;
  }
  return [...out.values()].sort((a, b) => a.purged - b.purged || a.deferred - b.deferred);
}

/**
 * A drop_caches choice as one number, for the judge's worlds: the ranges purged and the
 * deferred count left, given the LRU's range count `n` before the write. Such choices are all
 * above `n`, so they never read as the plain prefix lengths (0…n) of the other triggers.
 */
export function encodeDropChoice(o: DropOutcome, n: number): number {
  return o.purged + (n + 1) * (o.deferred + 1);
}

/** The inverse of {@link encodeDropChoice}; undefined for a plain prefix length (`choice <= n`). */
export function decodeDropChoice(choice: number, n: number): DropOutcome | undefined {
  if (choice <= n) return undefined;
  return { purged: choice % (n + 1), deferred: Math.floor(choice / (n + 1)) - 1 };
}

/** The kernels a drop_caches write may follow: the target's, or every era when its version is unknown. */
export function rulesFor(version: readonly [number, number] | undefined): DropSlabRules[] {
  if (version !== undefined) return [dropSlabRules(version)];
  return [dropSlabRules([5, 10]), dropSlabRules([5, 11]), dropSlabRules([6, 1])];
}
