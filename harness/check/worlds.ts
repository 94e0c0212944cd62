/**
 * Possible worlds: the set of model states that the spec admits after the ops so far. A
 * deterministic op maps each world to one; a purge trigger forks each world once per
 * admissible prefix (§5.3); observations (in the judge) keep only the worlds that explain them.
 */
import type { Op } from '../ops/ast.js';
import type { OpResult } from '../ops/result.js';
import { Device } from '../model/device.js';
import { checkInvariants } from '../model/invariants.js';
import type { Environment, Features } from '../model/profile.js';
import { admissiblePurges, type ShrinkerModel } from '../model/shrinker.js';
import { resultKey } from './match.js';

/** How much the environment may do behind the script's back. */
export interface WorldOptions {
  /** Another party may hold the ashmem lock, so a trylock PURGE_ALL_CACHES may purge less (§3.7). */
  readonly contended: boolean;
  /** Background reclaim may purge an LRU prefix before any op (a busy device, design.md). */
  readonly backgroundReclaim: boolean;
  /** Give up (undecidable) beyond this many distinct worlds. */
  readonly maxWorlds: number;
  /** Check the §11 invariants after every op. */
  readonly checkInvariants: boolean;
  /** How much a purge trigger may take (§5.2, §5.3): any LRU prefix, or whole shrinker batches on an exclusive guest. */
  readonly shrinker?: ShrinkerModel;
  /** The script can tell a hole from a zero page (it uses SEEK_DATA/SEEK_HOLE). */
  readonly distinguishHoles?: boolean;
}

/** World options for a particular script: holes matter only if it seeks data or holes. */
export function forScript(opts: WorldOptions, ops: readonly Op[]): WorldOptions {
  const distinguishHoles = ops.some((op) => op.kind === 'lseek' && (op.whence === 'data' || op.whence === 'hole'));
  return { ...opts, distinguishHoles };
}

/** A quiet, exclusive machine (a fresh guest, this machine's kernel). */
export const QUIET: WorldOptions = { contended: false, backgroundReclaim: false, maxWorlds: 4096, checkInvariants: false };

/** Too many admissible worlds to decide: never reported as a divergence. */
export class WorldLimitError extends Error {
  override readonly name = 'WorldLimitError';
}

/** One world after an op, with the result it predicts. */
export interface Branch {
  readonly world: Device;
  readonly result: OpResult;
  /** The purge choice taken, for nondeterministic ops. */
  readonly choice?: number;
  /** How many LRU ranges that choice purged. */
  readonly purged?: number;
  /** For ops with several variants (configuration-decided outcomes), which one. */
  readonly variant?: number;
}

/** The initial world set: one empty device. */
export function initialWorlds(features: Features, env: Environment): Device[] {
  return [Device.create(features, env)];
}

/** Adds, for each world, the worlds where background reclaim purged an LRU prefix first. */
function reclaimed(worlds: readonly Device[], zeroIsHole: boolean): Device[] {
  const out: Device[] = [];
  for (const w of worlds) {
    out.push(w);
    for (const k of admissiblePurges(w.features, w.lruPages())) {
      if (k === 0) continue;
      const c = w.clone();
      c.purge(k);
      out.push(c);
    }
  }
  return collapse(out, zeroIsHole);
}

/** Removes worlds whose states are identical. */
export function collapse(worlds: readonly Device[], zeroIsHole = false): Device[] {
  if (worlds.length <= 1) return [...worlds];
  const seen = new Set<string>();
  const out: Device[] = [];
  for (const w of worlds) {
    const key = w.key(zeroIsHole);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(w);
    }
  }
  return out;
}

/**
 * Runs one op in every world and returns every branch. The input worlds are consumed (the
 * first branch of each world reuses it).
 */
export function step(worlds: readonly Device[], op: Op, opts: WorldOptions): Branch[] {
  const zeroIsHole = opts.distinguishHoles !== true;
  const start = opts.backgroundReclaim ? reclaimed(worlds, zeroIsHole) : worlds;
  const branches: Branch[] = [];
  const seen = new Set<string>();
  for (const w of start) {
    const choices = w.choices(op, opts.contended, opts.shrinker ?? 'any-prefix');
    if (choices === undefined) {
      // Outcomes the target's configuration decides (overcommit, kernel version): one world
      // each, the last reusing this one.
      const n = w.variants(op);
      for (let v = 0; v < n; v++) {
        const world = v === n - 1 ? w : w.clone();
        branches.push(n === 1 ? { world, result: world.apply(op) } : { world, result: world.apply(op, undefined, v), variant: v });
      }
      continue;
    }
    const add = (key: string, branch: () => Branch): void => {
      if (seen.has(key)) return;
      seen.add(key);
      branches.push(branch());
      if (branches.length > opts.maxWorlds) throw new WorldLimitError(`more than ${opts.maxWorlds} admissible worlds at line ${op.line}`);
    };
    if (choices.some((c) => c > w.kernel.lru.length)) {
      // Choices that are more than a prefix length (a drop_caches worked out pass by pass also
      // leaves a deferred count): apply each on its own copy.
      for (const c of choices) {
        const x = w.clone();
        const purged = x.purgedBy(c);
        const result = x.apply(op, c);
        add(`${resultKey(result)}|${x.key(zeroIsHole)}`, () => ({ world: x, result, choice: c, purged }));
      }
      continue;
    }
    // A trigger's result does not depend on how much it purges, and purging k+1 ranges is
    // purging k and one more: walk the choices on one working copy, cloning only new states.
    const work = w.clone();
    const result = work.apply(op, 0);
    const rkey = resultKey(result);
    let done = 0;
    for (const c of choices) {
      work.purge(c - done);
      done = c;
      add(`${rkey}|${work.key(zeroIsHole)}`, () => ({ world: work.clone(), result, choice: c, purged: c }));
    }
  }
  const out = branches.length > 1 ? distinct(branches, zeroIsHole) : branches;
  if (out.length > opts.maxWorlds) throw new WorldLimitError(`more than ${opts.maxWorlds} admissible worlds at line ${op.line}`);
  if (opts.checkInvariants) for (const b of out) checkInvariants(b.world.kernel);
  return out;
}

/** Keeps one branch per (state, result); the choices that led to it are merged. */
function distinct(branches: readonly Branch[], zeroIsHole: boolean): Branch[] {
  const byKey = new Map<string, Branch>();
  for (const b of branches) {
    const key = `${resultKey(b.result)}|${b.world.key(zeroIsHole)}`;
    if (!byKey.has(key)) byKey.set(key, b);
  }
  return [...byKey.values()];
}
