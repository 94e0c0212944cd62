/**
 * stateKey, the fingerprint that merges possible worlds the model cannot tell apart (the judge's
 * world set, design.md): every field it covers must matter — two kernels that differ only in that
 * field get different keys — and kernels that are equal (whatever order their sets were built in)
 * get equal keys, or the judge would keep duplicate worlds or merge distinct ones.
 */
import assert from 'node:assert/strict';
import { Kernel } from '../../harness/model/kernel.js';
import type { Mapping } from '../../harness/model/mapping.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { stateKey } from '../../harness/model/state-key.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { Op } from '../../harness/ops/ast.js';

const PAGE = 4096;

function run(lines: string[]): Kernel {
  const k = new Kernel(profileById('c-final').features, DEFAULT_ENVIRONMENT);
  for (const o of parseScript(`${lines.join('\n')}\n`).ops) k.apply(o as Op);
  return k;
}

/** A mapped 16-page region r0 (m0, shared) with a private mapping m1 of it. */
const BASE = ['open r0', `set_size r0 ${16 * PAGE}`, `mmap m0 r0 ${16 * PAGE} 3 shared 0`, `mmap m1 r0 ${4 * PAGE} 3 private 0`];

function mapping(k: Kernel, m: string): Mapping {
  const got = k.procs.get('p0')?.maps.get(m);
  assert.ok(got !== undefined && got !== null, `${m} is mapped`);
  return got;
}

function differ(a: Kernel, b: Kernel, why: string): void {
  assert.notEqual(stateKey(a), stateKey(b), why);
}
function same(a: Kernel, b: Kernel, why: string): void {
  assert.equal(stateKey(a), stateKey(b), why);
}

describe('stateKey: every field it covers matters', () => {
  it('the same script gives the same key; defaults are "allocated zero pages count" and "nothing above"', () => {
    const k = run([...BASE, `unpin r0 ${2 * PAGE} ${PAGE}`]);
    same(k, run([...BASE, `unpin r0 ${2 * PAGE} ${PAGE}`]), 'a replay');
    assert.equal(stateKey(k), stateKey(k, false, ''));
    assert.notEqual(stateKey(k), stateKey(k, false, 'x'), 'the layers above are part of the state');
  });

  it('an allocated zero page differs from a hole, unless zeroIsHole (exact except SEEK_DATA/SEEK_HOLE)', () => {
    for (const m of ['m0', 'm1']) {
      const zero = run([...BASE, `fill ${m} 0 ${PAGE} 0`]);
      const hole = run(BASE);
      differ(zero, hole, `${m}: by default a written zero page is data`);
      assert.equal(stateKey(zero, true), stateKey(hole, true), `${m}: with zeroIsHole it is a hole`);
    }
  });

  it("an area's name: unnamed, empty and named all differ (Rust tells null from \"\", §3.3)", () => {
    const none = run(['open r0']);
    const empty = run(['open r0', 'set_name r0 ""']);
    const a = run(['open r0', 'set_name r0 "a"']);
    const b = run(['open r0', 'set_name r0 "b"']);
    assert.equal(empty.areas.get(1)?.name, '');
    differ(none, empty, 'null vs ""');
    differ(a, b, '"a" vs "b"');
  });

  it('the unpinned list and the LRU order (purges take the oldest first, §4.5)', () => {
    const u = (p: number, n: number): string => `unpin r0 ${p * PAGE} ${n * PAGE}`;
    differ(run([...BASE, u(2, 2)]), run([...BASE, u(2, 3)]), 'a range end');
    const lowFirst = run([...BASE, u(2, 2), u(8, 2)]);
    const highFirst = run([...BASE, u(8, 2), u(2, 2)]);
    assert.deepEqual(lowFirst.areas.get(1)?.unpinned.map((r) => r.pgstart), highFirst.areas.get(1)?.unpinned.map((r) => r.pgstart));
    differ(lowFirst, highFirst, 'same list, other LRU order');
  });

  it('a process: its flags, which area each handle names, a closed handle', () => {
    const k = run(['open r0', 'open r1']);
    const ex = run(['open r0', 'open r1']);
    ex.procs.get('p0')!.readImpliesExec = true;
    differ(k, ex, 'READ_IMPLIES_EXEC');
    const swapped = run(['open r0', 'open r1']);
    const fds = swapped.procs.get('p0')!.fds;
    const [r0, r1] = [fds.get('r0')!, fds.get('r1')!];
    fds.set('r0', r1);
    fds.set('r1', r0);
    differ(k, swapped, 'r0 and r1 name each other\'s area');
    // r0 closed while its area (id 1) lives on through r1: a closed handle is not area 1
    const one = run(['open r0', 'dup r1 r0']);
    const closed = run(['open r0', 'dup r1 r0']);
    closed.procs.get('p0')!.fds.set('r0', null);
    differ(one, closed, 'closed vs naming area 1');
    assert.doesNotThrow(() => stateKey(run(['open r0', 'close r0'])));
  });

  it('a mapping: prot, unmapped, a shared mapping\'s file, a private mapping\'s own pages', () => {
    differ(run([...BASE]), run([...BASE, 'mprotect m0 1']), 'prot');
    differ(run([...BASE]), run([...BASE, 'munmap m0']), 'unmapped');
    differ(run([...BASE, `fill m1 0 ${PAGE} 5`]), run([...BASE, `fill m1 0 ${PAGE} 6`]), 'private page content');
    const k = run(BASE);
    const gone = run(BASE);
    const maps = gone.procs.get('p0')!.maps;
    maps.set('m0', { ...mapping(gone, 'm0'), backing: null });
    differ(k, gone, 'a shared mapping of file 1 vs of no file');
  });

  it("a mapping's holes and per-page prot count as sets: order of building them does not", () => {
    const hole = (p: number): string => `munmap_range m0 ${p * PAGE} ${PAGE}`;
    const up = run([...BASE, hole(1), hole(3), hole(5)]);
    const down = run([...BASE, hole(5), hole(3), hole(1)]);
    same(up, down, 'same holes, other order');
    differ(up, run([...BASE, hole(1), hole(3), hole(6)]), 'other holes');
    // mprotect stops at the first hole (page 3): pages 0-2 get the new prot, the rest keep theirs
    const p1 = run([...BASE, hole(3), 'mprotect m0 1']);
    const p3 = run([...BASE, hole(3), 'mprotect m0 3']);
    assert.ok(mapping(p1, 'm0').pageProt !== null);
    differ(p1, p3, 'per-page prot');
    const reordered = run([...BASE, hole(3), 'mprotect m0 1']);
    const m = mapping(reordered, 'm0');
    m.pageProt = new Map([...m.pageProt!].reverse());
    same(p1, reordered, 'same per-page prot, other insertion order');
  });

  it("the shrinker's deferred count: known values differ from each other and from unknown", () => {
    const d = (v: number | undefined): Kernel => {
      const k = run(['open r0']);
      k.shrinkerDeferred = v;
      return k;
    };
    differ(d(3), d(5), '3 vs 5');
    differ(d(undefined), d(1), 'unknown vs 1');
    differ(d(undefined), d(0), 'unknown vs 0');
  });
});
