/**
 * Purging (§5): what a purge does to a range, and which purges a trigger may cause.
 * The only deterministic facts are the order — a prefix of the global LRU, oldest unpin first —
 * and the unit — whole ranges. How long the prefix is depends on the kernel's shrinker
 * arithmetic, deferred work and other processes (§5.2, §5.3), so the model answers with the
 * set of admissible prefix lengths and lets the judge narrow it by what it observes.
 */
import type { Features } from './profile.js';

/**
 * The prefix lengths (counted in this kernel's own LRU ranges) that a drop_caches write or
 * memory pressure may purge.
 * @param features - the profile's flags
 * @param lruRanges - how many ranges are on the LRU now
 */
export function admissiblePurges(features: Features, lruRanges: number): number[] {
  if (features.flavor === 'memfd' || features.pinning === 'stub') return [0]; // memfd modes never purge (§6, §7.1)
  // 3.0–3.11: the unsigned budget wraps, so a shrinker call that runs at all empties the
  // whole global LRU (§5.2).
  if (features.shrinker === 'pages-wrap') return lruRanges === 0 ? [0] : [0, lruRanges];
  return Array.from({ length: lruRanges + 1 }, (_, k) => k);
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
