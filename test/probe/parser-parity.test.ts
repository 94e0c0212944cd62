/**
 * The probe's C parser against the grammar's TypeScript parser (harness/ops/parse.ts): the same
 * op table, the same accepted lines, the same error columns; and every real-driver sample script
 * parses in the probe.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { MAP_KINDS } from '../../harness/ops/ast.js';
import { ScriptErrors } from '../../harness/ops/errors.js';
import { parseScript } from '../../harness/ops/parse.js';
import { JAVA_KINDS, OP_KINDS, SIGNATURES, type ArgSpec, type ArgType } from '../../harness/ops/signatures.js';
import { repositoryRoot } from '../../harness/targets/probe-binary.js';
import { at, ensureProbesBuilt, resultsOf, runProbe } from './support.js';

const SAMPLES = path.join(repositoryRoot(), '..', 'shared', 'real-driver-samples');

before(function () {
  this.timeout(120_000);
  ensureProbesBuilt();
});

interface CSpec {
  readonly name: string;
  readonly fields: string;
  readonly args: string[];
  readonly java: boolean;
  readonly default?: string | number;
}

describe('probe parser parity with harness/ops/parse.ts', function () {
  this.timeout(120_000);

  it('has exactly the op table of signatures.ts (names, argument types, fields, defaults, Java layer)', async () => {
    const run = await runProbe('host', '', ['--list-ops']);
    const table = (run.json[0] as { ops: CSpec[] }).ops;
    assert.deepEqual(table.map((s) => s.name), OP_KINDS);
    for (const c of table) {
      const specs: readonly ArgSpec[] = SIGNATURES[c.name as keyof typeof SIGNATURES];
      assert.deepEqual(c.args, specs.map((s) => s.type), c.name);
      assert.equal(c.fields, specs.map((s) => s.field).join(' '), c.name);
      assert.equal(c.java, JAVA_KINDS.has(c.name as (typeof OP_KINDS)[number]), c.name);
      const last = specs[specs.length - 1];
      assert.equal(c.default, last?.default, c.name);
    }
  });

  const samples = fs.existsSync(SAMPLES) ? fs.readdirSync(SAMPLES).filter((f) => f.endsWith('.ops')).sort() : [];
  it(`parses every real-driver sample script without a parse error (${samples.length} found)`, async function () {
    if (samples.length === 0) this.skip();
    for (const name of samples) {
      const text = fs.readFileSync(path.join(SAMPLES, name), 'utf8');
      const ops = parseScript(text).ops;
      for (const mode of [['--parse-only'], []]) {
        const run = await runProbe('x86_64', text, mode);
        const results = resultsOf(run);
        assert.deepEqual(results.map((r) => r['i']), ops.map((o) => o.line), `${name} ${mode.join(' ')}`);
        assert.deepEqual(results.filter((r) => r['error'] === 'parse'), [], name);
        for (const op of ops) assert.equal(at(results, op.line)['op'], op.kind, `${name} line ${op.line}`);
      }
    }
  });

  it('accepts and rejects the same generated lines, at the same columns', async () => {
    const prelude = [
      'open r0', 'open r1', 'mmap m0 r0 4096 3 shared 0', 'mmap m1 r0 4096 3 shared 0',
      'mf_create f0 "x" 1', 'sm_create s0 "y" 1', 'sm_map b0 s0 3 0 1', 'fork p1',
    ];
    const lineNo = prelude.length + 1;
    await fc.assert(
      fc.asyncProperty(lineArb(), async (line) => {
        const text = `${prelude.join('\n')}\n${line}\n`;
        const ts = tsVerdict(text, lineNo);
        const run = await runProbe('host', Buffer.from(text, 'utf8'), ['--parse-only']);
        const c = resultsOf(run).find((r) => r['i'] === lineNo);
        const cVerdict = c === undefined ? { ok: 'blank' as const } : c['error'] === 'parse' ? { ok: false, col: c['col'] as number, message: c['message'] as string } : { ok: true };
        assert.equal(cVerdict.ok, ts.ok, `line ${JSON.stringify(line)}: C ${JSON.stringify(c)}, TS ${JSON.stringify(ts)}`);
        if (ts.ok === false && cVerdict.ok === false) {
          assert.equal(cVerdict.col, ts.col, `column of ${JSON.stringify(line)}: C ${JSON.stringify(c)}, TS ${JSON.stringify(ts)}`);
          if (/^[\x20-\x7e\t]*$/.test(line) && !/\S{60}/.test(line)) assert.equal(cVerdict.message, ts.message, `message for ${JSON.stringify(line)}`);
        }
      }),
      { numRuns: 400, seed: 20261125 },
    );
  });
});

/** What parse.ts says about line `lineNo` of `text`. */
function tsVerdict(text: string, lineNo: number): { ok: true | false | 'blank'; col?: number; message?: string } {
  try {
    const { ops } = parseScript(text);
    return ops.some((o) => o.line === lineNo) ? { ok: true } : { ok: 'blank' };
  } catch (e) {
    if (!(e instanceof ScriptErrors)) throw e;
    const mine = e.errors.find((x) => x.line === lineNo);
    if (mine === undefined) throw new Error(`the prelude itself failed: ${e.message}`);
    return { ok: false, col: mine.col, message: mine.detail };
  }
}

// Characters for junk tokens: printable ASCII, a 2-byte and a 4-byte UTF-8 character, control
// bytes (VT and FF separate words like space), NUL, and a Unicode space (an ordinary character).
const JUNK = fc.constantFrom(...'abcxyz019-_:*\\"#.,rmpfsb'.split(''), 'é', '😀', '\u0001', '\u0000', '\u000b', '\u000c', '\u00a0', 'A', 'F', 'x');
const junk = fc.array(JUNK, { minLength: 1, maxLength: 8 }).map((a) => a.join(''));

const NUMBERS = [
  '0', '1', '7', '255', '256', '4096', '0x1000', '0xFFFFFFFF', '4294967295', '4294967296', '-0', '-1', '007', '0x', '0X10',
  '9007199254740991', '9007199254740992', '-9223372036854775808', '-9223372036854775809', '18446744073709551615',
  '18446744073709551616', '0xffffffffffffffff', '0x1ffffffffffffffff', '2147483647', '2147483648', '-2147483648', '-2147483649',
  '99999999999999999999999999',
];

const STRING_PIECES = ['a', 'é', '😀', '\\\\', '\\"', '\\n', '\\t', '\\0', '\\x41', '\\xff', '\\xZZ', '\\x4', '\\q', '\\', ' ', '#'];
const stringTok = fc
  .tuple(fc.array(fc.constantFrom(...STRING_PIECES), { maxLength: 5 }), fc.constantFrom('', '', '*3', '*300', '*65536', '*65537', '*0', '*', '*1234567', 'x'), fc.boolean())
  .map(([pieces, rep, closed]) => `"${pieces.join('')}${closed ? '"' : ''}${rep}`);

const HANDLE = { region: 'r', mapping: 'm', memoryfile: 'f', sharedmemory: 's', buffer: 'b', proc: 'p' } as const;

function validToken(type: ArgType): fc.Arbitrary<string> {
  const kind = type.replace(/^new-/, '') as keyof typeof HANDLE | string;
  if (kind in HANDLE) {
    const l = HANDLE[kind as keyof typeof HANDLE];
    return fc.constantFrom(`${l}0`, `${l}1`, `${l}2`, `${l}9`, `${l}123456`, `${l}1234`, `${l}12345`);
  }
  switch (type) {
    case 'string': return stringTok;
    case 'map': return fc.constantFrom(...MAP_KINDS);
    case 'whence': return fc.constantFrom('set', 'cur', 'end', 'data', 'hole');
    case 'open-mode': return fc.constantFrom('rdwr', 'rdonly');
    case 'drop-mode': return fc.constantFrom('1', '2', '3');
    case 'personality': return fc.constantFrom('default', 'read_implies_exec');
    case 'capability': return fc.constantFrom('sys_admin', 'sys_admin');
    case 'bool': return fc.constantFrom('true', 'false');
    default: return fc.constantFrom(...NUMBERS);
  }
}

function tokenFor(type: ArgType): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: validToken(type) },
    { weight: 1, arbitrary: junk },
    { weight: 1, arbitrary: fc.oneof(stringTok, fc.constantFrom(...NUMBERS), fc.constantFrom('r0', 'm0', 'p1', 'shared', 'x1', 'R0', 'r01', 'r1234567', 'p12345')) },
  );
}

const SEP = fc.constantFrom(' ', ' ', ' ', '  ', '\t', ' \t ', '\u000b', '\u000c');

/** One script line: an optional prefix, an op word and arguments, mostly well-formed. */
function lineArb(): fc.Arbitrary<string> {
  const opWord = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...OP_KINDS) }, { weight: 1, arbitrary: junk });
  return opWord.chain((word) => {
    const specs: readonly ArgSpec[] = (SIGNATURES as Record<string, readonly ArgSpec[]>)[word] ?? [];
    const n = specs.length;
    const args = fc.tuple(...specs.map((s) => tokenFor(s.type)), fc.array(tokenFor('u32'), { maxLength: 1 }));
    return fc.record({
      prefix: fc.constantFrom('', '', '', '', 'p1: ', 'p0: ', 'p2: ', 'p1:', 'p01: ', ':', 'p1:: '),
      lead: fc.constantFrom('', '', ' ', '\t'),
      args,
      keep: fc.integer({ min: Math.max(0, n - 1), max: n }),
      seps: fc.array(SEP, { minLength: n + 2, maxLength: n + 2 }),
      tail: fc.constantFrom('', '', '', ' ', ' # comment', '# x"', '\r', ' \r'),
    }).map(({ prefix, lead, args: a, keep, seps, tail }) => {
      const given = (a.slice(0, n) as string[]).slice(0, keep);
      const extra = a[n] as string[];
      const tokens = [word, ...given, ...(keep === n ? extra : [])];
      let out = `${lead}${prefix}`;
      tokens.forEach((t, k) => {
        out += k === 0 ? t : `${seps[k] ?? ' '}${t}`;
      });
      return `${out}${tail}`;
    });
  });
}
