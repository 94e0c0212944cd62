/**
 * The purge timeline of a case: each area page's state after every op, in the admissible world
 * the judge kept (replayed with the observations), up to the divergence. Reports draw it.
 */
import type { Script } from '../ops/ast.js';
import type { OpResult } from '../ops/result.js';
import { printOp } from '../ops/print.js';
import type { Device } from '../model/device.js';
import type { Kernel } from '../model/kernel.js';
import type { Environment, Profile } from '../model/profile.js';
import type { Timeline } from '../report/types.js';
import { byLine, type JudgeOptions } from './judge.js';
import { matches } from './match.js';
import { forScript, initialWorlds, step } from './worlds.js';

/** One char per page: p pinned, u unpinned (on the LRU), x purged, - no backing file. */
function areaState(k: Kernel, areaId: number, pages: number): string {
  const a = k.areas.get(areaId);
  if (a === undefined || a.file === null) return '-'.repeat(pages);
  const row = new Array<string>(pages).fill('p');
  for (const r of a.unpinned) for (let p = Math.max(0, r.pgstart); p <= r.pgend && p < pages; p++) row[p] = r.purged ? 'x' : 'u';
  return row.join('');
}

/** Replays the judge over a case and records the kept world's pages after each op. */
export function timeline(script: Script, results: readonly OpResult[], profile: Profile, env: Environment, opts: JudgeOptions): Timeline {
  const observed = byLine(results);
  const o = forScript(opts, script.ops);
  let worlds = initialWorlds(profile.features, env);
  const snapshots: Device[] = [];
  let divergenceAt: number | undefined;
  for (const [idx, op] of script.ops.entries()) {
    const obs = observed.get(op.line);
    if (obs === undefined || obs.error === 'skipped') {
      snapshots.push(worlds[0] as Device);
      if (obs === undefined) break;
      continue;
    }
    const branches = step(worlds, op, o);
    const keep = branches.filter((b) => matches(b.result, obs, opts));
    if (keep.length === 0) {
      divergenceAt = idx;
      snapshots.push((branches[0]?.world ?? worlds[0]) as Device);
      break;
    }
    worlds = keep.map((b) => b.world);
    snapshots.push((worlds[0] as Device).clone());
  }
  // Areas seen anywhere, with the largest page count they reached.
  const areas = new Map<number, { area: number; handle: string; pages: number }>();
  for (const { kernel: k } of snapshots) {
    for (const a of k.areas.values()) {
      if (a.kind !== 'ashmem' || a.file === null) continue;
      const pages = Math.min(a.file.pageLimit(), 1024);
      const handle = [...(k.procs.get('p0')?.fds ?? new Map())].find(([, x]) => x === a)?.[0] ?? `area ${a.id}`;
      const prev = areas.get(a.id);
      areas.set(a.id, { area: a.id, handle: prev?.handle ?? String(handle), pages: Math.max(prev?.pages ?? 0, pages) });
    }
  }
  const list = [...areas.values()];
  return {
    ops: script.ops.slice(0, snapshots.length).map(printOp),
    areas: list,
    states: snapshots.map((d) => list.map((a) => areaState(d.kernel, a.area, a.pages))),
    ...(divergenceAt !== undefined ? { divergenceAt } : {}),
  };
}
