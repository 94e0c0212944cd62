/**
 * Properties of the model over random op sequences (fast-check): pin status against a
 * page-bitmap oracle, the §11 invariants, purges as LRU prefixes of whole ranges.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkInvariants } from '../../harness/model/invariants.js';
import { Kernel } from '../../harness/model/kernel.js';
import { DEFAULT_ENVIRONMENT, PROFILES, profileById } from '../../harness/model/profile.js';
import { defaultSettings, generateCases } from '../../harness/ops/generate.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { Op } from '../../harness/ops/ast.js';

const PAGE = 4096;
const RUNS = Number(process.env.FC_RUNS ?? 300);

/** A region of `pages` pages, mapped (so pinning works), as ops. */
function prelude(pages: number): Op[] {
  return parseScript(`open r0\nset_size r0 ${pages * PAGE}\nmmap m0 r0 ${pages * PAGE} 3 shared 0\nfill m0 0 ${pages * PAGE} 7\n`).ops as Op[];
}

const pinOp = (pages: number) =>
  fc.record({
    kind: fc.constantFrom('pin' as const, 'unpin' as const, 'status' as const, 'purge' as const),
    s: fc.nat(pages - 1),
    n: fc.integer({ min: 1, max: pages }),
  });

function op(kind: 'pin' | 'unpin' | 'status' | 'purge', s: number, e: number, line: number): Op {
  if (kind === 'purge') return { kind: 'purge_all', r: 'r0', line, proc: 'p0' };
  return { kind, r: 'r0', offset: s * PAGE, len: (e - s + 1) * PAGE, line, proc: 'p0' };
}

describe('model properties', () => {
  it('GET_PIN_STATUS always equals a page-bitmap oracle (§4.4), whatever purges happen', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 }), fc.array(pinOp(24), { maxLength: 60 }), (pages, raw) => {
        const k = new Kernel(profileById('c-final').features, DEFAULT_ENVIRONMENT);
        for (const o of prelude(pages)) k.apply(o);
        const unpinned = new Array<boolean>(pages).fill(false);
        raw.forEach((r, idx) => {
          const s = r.s % pages;
          const e = Math.min(pages - 1, s + r.n - 1);
          const res = k.apply(op(r.kind, s, e, 100 + idx));
          if (r.kind === 'unpin') unpinned.fill(true, s, e + 1);
          if (r.kind === 'pin') unpinned.fill(false, s, e + 1);
          if (r.kind === 'status') {
            const any = unpinned.slice(s, e + 1).some((x) => x);
            assert.equal(res.ret, any ? 0 : 1, `status [${s},${e}] with unpinned ${unpinned.map((x) => (x ? 1 : 0)).join('')}`);
          }
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('PIN reports WAS_PURGED only if a purge happened since an unpin of an overlapping page (§4.3)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.array(pinOp(16), { maxLength: 50 }), (pages, raw) => {
        const k = new Kernel(profileById('c-final').features, DEFAULT_ENVIRONMENT);
        for (const o of prelude(pages)) k.apply(o);
        let purges = 0;
        raw.forEach((r, idx) => {
          const s = r.s % pages;
          const e = Math.min(pages - 1, s + r.n - 1);
          const res = k.apply(op(r.kind, s, e, 100 + idx));
          if (r.kind === 'purge') purges++;
          if (r.kind === 'pin' && purges === 0) assert.equal(res.ret, 0);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('the §11 invariants hold after every op of long generated scripts, for every profile', () => {
    const texts = generateCases({ ...defaultSettings(PAGE), length: 80 }, Math.max(20, Math.floor(RUNS / 5)), 2024);
    for (const profile of PROFILES) {
      for (const text of texts) {
        const k = new Kernel(profile.features, DEFAULT_ENVIRONMENT);
        for (const o of parseScript(text).ops) {
          const choices = k.choices(o);
          k.apply(o, choices === undefined ? undefined : choices[choices.length - 1]);
          checkInvariants(k);
        }
      }
    }
  });

  it('a purge takes an LRU prefix of whole ranges, oldest unpin first (§4.5, §5.1)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 20 }), fc.array(pinOp(20), { maxLength: 40 }), fc.nat(100), (pages, raw, pick) => {
        const k = new Kernel(profileById('c-final').features, DEFAULT_ENVIRONMENT);
        for (const o of prelude(pages)) k.apply(o);
        raw.forEach((r, idx) => {
          if (r.kind === 'purge') return;
          const s = r.s % pages;
          k.apply(op(r.kind, s, Math.min(pages - 1, s + r.n - 1), 100 + idx));
        });
        const lru = [...k.lru].map((r) => ({ r, s: r.pgstart, e: r.pgend }));
        const drop: Op = { kind: 'drop_caches', mode: 2, line: 999, proc: 'p0' };
        const choices = k.choices(drop) as number[];
        assert.deepEqual(choices, Array.from({ length: lru.length + 1 }, (_, i) => i));
        const n = choices[pick % choices.length] as number;
        k.apply(drop, n);
        const file = k.areas.get(1)?.file;
        assert.ok(file !== undefined && file !== null);
        lru.forEach(({ r, s, e }, idx) => {
          assert.equal(r.purged, idx < n, `LRU position ${idx} purged iff among the ${n} oldest`);
          for (let p = s; p <= e; p++) assert.equal(file.pages.has(p), idx >= n, `page ${p} of range ${s}-${e}`);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('PURGE_ALL_CACHES returns the pre-purge lru_count and leaves the LRU empty (§3.7)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(pinOp(20), { maxLength: 40 }), (pages, raw) => {
        const k = new Kernel(profileById('ack-c').features, DEFAULT_ENVIRONMENT);
        for (const o of prelude(pages)) k.apply(o);
        raw.forEach((r, idx) => {
          const s = r.s % pages;
          const before = k.lru.count;
          const res = k.apply(op(r.kind, s, Math.min(pages - 1, s + r.n - 1), 100 + idx));
          if (r.kind === 'purge') {
            assert.equal(res.ret, before);
            assert.equal(k.lru.count, 0);
            assert.equal(k.lru.length, 0);
          }
        });
      }),
      { numRuns: RUNS },
    );
  });
});
