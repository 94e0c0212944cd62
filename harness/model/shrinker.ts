/**
 * Purging (§5): what a purge does to a range, and which purges a trigger may cause.
 * The only deterministic facts are the order — a prefix of the global LRU, oldest unpin first —
 * and the unit — whole ranges. How long the prefix is depends on the kernel's shrinker
 * arithmetic, deferred work and other processes (§5.2, §5.3), so the model answers with the
 * set of admissible prefix lengths and lets the judge narrow it by what it observes.
 */
import type { Features } from './profile.js';

/**
 * How much a drop_caches write or memory pressure may purge:
 * - `any-prefix`: any prefix of our LRU (a shared device: other processes' ranges interleave,
 *   the core defers work, §5.3) — the default, which never flags what the spec allows;
 * - `batches`: this kernel's ranges are the whole global LRU (a fresh, exclusive guest) and
 *   each shrinker call takes `nr_to_scan = 128` in the lineage's unit, or everything on the
 *   last call (§5.2, §12: exactly 128 ranges, then the rest). A drop_caches write is worked out
 *   pass by pass with the kernel version's loop and the deferred work (`drop-caches.ts`) while
 *   the deferred count is known; this function gives the prefixes otherwise.
 */
export type ShrinkerModel = 'any-prefix' | 'batches';

/** The shrinker's batch (SHRINK_BATCH / shrinker->batch default). */
export const SHRINK_BATCH = 128;

/**
 * The prefix lengths (counted in this kernel's own LRU ranges) that a drop_caches write or
 * memory pressure may purge.
 * @param features - the profile's flags
 * @param lruPages - the page count of each LRU range, oldest first
 * @param model - see {@link ShrinkerModel}
 */
export function admissiblePurges(features: Features, lruPages: readonly number[], model: ShrinkerModel = 'any-prefix'): number[] {
  const n = lruPages.length;
  if (features.flavor === 'memfd' || features.pinning === 'stub') return [0]; // memfd modes never purge (§6, §7.1)
  // 3.0–3.11: the unsigned budget wraps, so a shrinker call that runs at all empties the
  // whole global LRU (§5.2).
  if (features.shrinker === 'pages-wrap') return n === 0 ? [0] : [0, n];
  if (model === 'any-prefix') return Array.from({ length: n + 1 }, (_, k) => k);
  const out = new Set<number>([0, n]);
  if (features.shrinker === 'ranges' || features.shrinker === 'ranges-trylock') {
    for (let k = SHRINK_BATCH; k < n; k += SHRINK_BATCH) out.add(k);
  } else {
    // Pages units (C-orig signed, Rust): a call stops once it has freed >= 128 pages.
    let freed = 0;
    lruPages.forEach((p, idx) => {
      freed += p;
      if (freed >= SHRINK_BATCH) {
        out.add(idx + 1);
        freed = 0;
      }
    });
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * The prefix lengths PURGE_ALL_CACHES may purge when another party can hold the lock
 * (§3.7): all of them on kernels without trylock; nothing or all on 4.5–5.0; any prefix on
 * 5.1+ and Rust.
 */
export function admissiblePurgeAll(features: Features, lruRanges: number, contended: boolean): number[] {
  if (!contended || features.purgeAllPartial === 'never') return [lruRanges];
  if (features.purgeAllPartial === 'all-or-nothing') return lruRanges === 0 ? [0] : [0, lruRanges];
  return Array.from({ length: lruRanges + 1 }, (_, k) => k);
}
