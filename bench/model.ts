/**
 * Model throughput: one million generated ops over 64 regions, weighted toward pin, unpin and
 * purge (issue 2's target: at least 1,000,000 ops/s on this machine).
 */
import { Kernel } from '../harness/model/kernel.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../harness/model/profile.js';
import type { Op } from '../harness/ops/ast.js';
import { parseScript } from '../harness/ops/parse.js';

const PAGE = 4096;
const REGIONS = 64;
const PAGES = 64;

/** A small, fast, seeded generator (xorshift32), so the op stream is the same every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** The op stream: 40% unpin, 35% pin, 15% status, 5% PURGE_ALL_CACHES, 5% drop_caches. */
export function modelOps(count: number, seed = 1): Op[] {
  const r = rng(seed);
  const ops: Op[] = [];
  for (let i = 0; i < count; i++) {
    const x = r();
    const reg = `r${Math.floor(r() * REGIONS)}`;
    const s = Math.floor(r() * PAGES);
    const n = 1 + Math.floor(r() * Math.min(8, PAGES - s));
    const line = 1000 + i;
    if (x < 0.4) ops.push({ kind: 'unpin', r: reg, offset: s * PAGE, len: n * PAGE, line, proc: 'p0' });
    else if (x < 0.75) ops.push({ kind: 'pin', r: reg, offset: s * PAGE, len: n * PAGE, line, proc: 'p0' });
    else if (x < 0.9) ops.push({ kind: 'status', r: reg, offset: s * PAGE, len: n * PAGE, line, proc: 'p0' });
    else if (x < 0.95) ops.push({ kind: 'purge_all', r: reg, line, proc: 'p0' });
    else ops.push({ kind: 'drop_caches', mode: 2, line, proc: 'p0' });
  }
  return ops;
}

/** Runs the stream once and returns ops per second. */
export function benchModel(count = 1_000_000): { opsPerSecond: number; ms: number } {
  const k = new Kernel(profileById('c-final').features, DEFAULT_ENVIRONMENT);
  const setup = Array.from({ length: REGIONS }, (_, i) => `open r${i}\nset_size r${i} ${PAGES * PAGE}\nmmap m${i} r${i} ${PAGES * PAGE} 3 shared 0`).join('\n');
  for (const op of parseScript(setup).ops) k.apply(op);
  const ops = modelOps(count);
  const r = rng(7);
  const started = process.hrtime.bigint();
  for (const op of ops) {
    // A drop_caches purges some prefix of the LRU: pick one of the admissible ones.
    if (op.kind === 'drop_caches') k.apply(op, Math.floor(r() * (k.lru.length + 1)));
    else k.apply(op);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { opsPerSecond: Math.round(count / (ms / 1000)), ms };
}
