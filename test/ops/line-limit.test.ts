/**
 * One line limit for both parsers (docs/op-scripts.md, "Limits"): a line of more than 1 MiB of
 * UTF-8 is a parse error in harness/ops/parse.ts exactly as in the probe, at the same column,
 * with the same message; lines up to the limit parse.
 */
import assert from 'node:assert/strict';
import { ScriptErrors } from '../../harness/ops/errors.js';
import { parseScript } from '../../harness/ops/parse.js';
import { LIMITS } from '../../harness/ops/signatures.js';
import { ensureProbesBuilt, resultsOf, runProbe } from '../probe/support.js';

/** The TS parser's errors for a script, as [line, col, detail]. */
function errorsOf(text: string): [number, number, string][] {
  try {
    parseScript(text);
    return [];
  } catch (e) {
    if (!(e instanceof ScriptErrors)) throw e;
    return e.errors.map((x) => [x.line, x.col, x.detail]);
  }
}

describe('line length limit (one grammar)', function () {
  this.timeout(120_000);
  before(function () {
    this.timeout(120_000);
    ensureProbesBuilt();
  });

  // A comment padded to an exact byte length: valid grammar up to the limit.
  const padded = (bytes: number, unit = 'a'): string => `open r0 # ${unit.repeat(Math.ceil((bytes - 10) / Buffer.byteLength(unit)))}`;

  it('accepts a line of exactly 1 MiB and refuses one byte more, at the first column past the limit', () => {
    assert.equal(LIMITS.lineBytes, 1 << 20);
    const exact = 'open r0 # ' + 'a'.repeat(LIMITS.lineBytes - 10);
    assert.equal(Buffer.byteLength(exact), LIMITS.lineBytes);
    assert.deepEqual(errorsOf(`${exact}\nclose r0\n`), []);
    assert.deepEqual(errorsOf(`close r9\n${exact}a\n`).slice(0, 1), [[2, LIMITS.lineBytes + 1, `line too long (more than ${LIMITS.lineBytes} bytes)`]]);
  });

  it('counts UTF-8 bytes, not characters (a line of 2-byte characters is refused at half the characters)', () => {
    const line = padded(LIMITS.lineBytes + 2, 'é');
    const errs = errorsOf(`${line}\n`);
    assert.equal(errs.length, 1);
    assert.equal(errs[0]?.[2], `line too long (more than ${LIMITS.lineBytes} bytes)`);
    assert.ok((errs[0]?.[1] ?? 0) < LIMITS.lineBytes / 2 + 10, `column ${errs[0]?.[1]}`);
  });

  for (const unit of ['a', 'é', '€', '😀']) {
    it(`the probe and the TS parser agree on an overlong line of "${unit}" (line, column, message)`, async () => {
      const line = padded(LIMITS.lineBytes + 64, unit);
      const text = `open r1\n${line}\nclose r1\n`;
      const ts = errorsOf(text);
      assert.equal(ts.length, 1);
      const probe = resultsOf(await runProbe('host', Buffer.from(text, 'utf8'), ['--parse-only']));
      const bad = probe.filter((r) => r['error'] === 'parse');
      assert.deepEqual(bad.map((r) => [r['i'], r['col'], r['message']]), ts);
    });
  }
});
