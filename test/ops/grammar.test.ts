/**
 * The op-script grammar: parse(print(x)) = x for arbitrary ops of every kind, and errors that
 * name the line and column.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAP_KINDS, type Op, type OpKind } from '../../harness/ops/ast.js';
import { ScriptErrors } from '../../harness/ops/errors.js';
import { parseScript } from '../../harness/ops/parse.js';
import { printScript, renumber } from '../../harness/ops/print.js';
import { LIMITS, OP_KINDS, SIGNATURES, type ArgSpec, type ArgType } from '../../harness/ops/signatures.js';

/** Handles defined by the fixed prelude, so that any body op may use them. */
const PRELUDE = `open r0
open r1
mmap m0 r0 4096 3 shared 0
mmap m1 r1 4096 3 shared 0
mf_create f0 "x" 4096
sm_create s0 "y" 4096
sm_map_rw b0 s0
`;

function argArb(t: ArgType): fc.Arbitrary<unknown> {
  switch (t) {
    case 'region': case 'new-region': return fc.constantFrom('r0', 'r1');
    case 'mapping': case 'new-mapping': return fc.constantFrom('m0', 'm1');
    case 'memoryfile': case 'new-memoryfile': return fc.constant('f0');
    case 'sharedmemory': case 'new-sharedmemory': return fc.constant('s0');
    case 'buffer': case 'new-buffer': return fc.constant('b0');
    case 'proc': case 'new-proc': return fc.constant('p1');
    case 'u32': return fc.integer({ min: 0, max: LIMITS.u32 });
    case 'count': return fc.oneof(fc.nat(1 << 20), fc.maxSafeNat());
    case 'offset': return fc.oneof(fc.integer({ min: -(1 << 20), max: 1 << 20 }), fc.maxSafeInteger());
    case 'word': return fc.bigInt({ min: LIMITS.wordMin, max: LIMITS.wordMax });
    case 'prot': case 'byte': return fc.nat(255);
    case 'string': return fc.string({ unit: fc.nat(255).map((c) => String.fromCharCode(c)), maxLength: 300 });
    case 'map': return fc.constantFrom(...MAP_KINDS);
    case 'whence': return fc.constantFrom('set', 'cur', 'end', 'data', 'hole');
    case 'open-mode': return fc.constantFrom('rdwr', 'rdonly');
    case 'drop-mode': return fc.constantFrom(1, 2, 3);
    case 'personality': return fc.constantFrom('default', 'read_implies_exec');
    case 'capability': return fc.constant('sys_admin');
    case 'int': return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'bool': return fc.boolean();
  }
}

/** Any op except fork/exit (which the prelude and the handle rules constrain). */
const bodyKinds = OP_KINDS.filter((k) => k !== 'fork' && k !== 'exit');
const opArb: fc.Arbitrary<Op> = fc.constantFrom(...bodyKinds).chain((kind: OpKind) => {
  const specs: readonly ArgSpec[] = SIGNATURES[kind];
  const fields: Record<string, fc.Arbitrary<unknown>> = { kind: fc.constant(kind), proc: fc.constant('p0'), line: fc.constant(0) };
  for (const s of specs) fields[s.field] = argArb(s.type);
  return fc.record(fields) as unknown as fc.Arbitrary<Op>;
});

describe('op-script grammar', () => {
  it('parse(print(ops)) gives back the same ops, for every kind of op', () => {
    const prelude = parseScript(PRELUDE).ops;
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (body) => {
        const ops = renumber([...prelude, ...body]);
        assert.deepEqual(parseScript(printScript(ops)).ops, ops);
      }),
      { numRuns: 500 },
    );
  });

  it('every op kind appears in the generator of this test (the round trip covers the whole grammar)', () => {
    assert.equal(bodyKinds.length + 2, OP_KINDS.length);
  });

  it('process prefixes, forks and exits round-trip', () => {
    const text = 'open r0\nfork p1\np1: pin r0 0 0\np1: close r0\nexit p1\nfork p2\np2: status_null r0\nexit p2\n';
    assert.equal(printScript(parseScript(text).ops), text);
  });

  it('reports every bad line with its line and column, and what was expected', () => {
    const text = 'open r0\npin r0 0x1000\nbogus r0\nmmap m0 r0 -1 3 shared 0\nset_name r0 "unterminated\nmmap m1 r0 4096 3 sharde 0\nstatus r9 0 0\n';
    try {
      parseScript(text);
      assert.fail('should not parse');
    } catch (e) {
      assert.ok(e instanceof ScriptErrors);
      const got = e.errors.map((x) => [x.line, x.col, x.detail]);
      assert.deepEqual(got.map(([l]) => l), [2, 3, 4, 5, 6]);
      assert.match(String(got[0]?.[2]), /pin needs 3 argument/);
      assert.match(String(got[1]?.[2]), /unknown op "bogus"/);
      assert.equal(got[2]?.[1], 12);
      assert.match(String(got[2]?.[2]), /a count/);
      assert.match(String(got[3]?.[2]), /unterminated string/);
      assert.equal(got[4]?.[1], 19);
      assert.match(String(got[4]?.[2]), /shared \| private/);
    }
    // Handle errors are found once the lines themselves are well formed.
    assert.throws(() => parseScript('open r0\nstatus r9 0 0\n'), /line 2, column 1: region r9 is not defined in p0/);
    assert.throws(() => parseScript('p1: open r0\n'), /process p1 was never forked/);
    assert.throws(() => parseScript('open r0\nfork p1\nexit p1\np1: close r0\n'), /process p1 has exited/);
  });

  it('hostile names survive: quotes, backslashes, NUL and every byte, repeated past 256', () => {
    const ops = parseScript('open r0\nset_name r0 "a\\"b\\\\c\\0\\xff\\x01"*40\n').ops;
    const set = ops[1];
    assert.ok(set !== undefined && set.kind === 'set_name');
    assert.equal(set.name, 'a"b\\c\0\xff\x01'.repeat(40));
    assert.deepEqual(parseScript(printScript(ops)).ops, renumber(ops));
  });

  it('the real-driver samples are valid scripts (comments, hex, inline results as comments)', async () => {
    const { SAMPLES, sampleScript } = await import('../support/samples.js');
    for (const s of SAMPLES) assert.ok(parseScript(sampleScript(s)).ops.length > 10);
  });
});
