/**
 * The instrumentation output parser: round trips of result lines through the exact text
 * `am instrument -w -r` prints for the fixture (formatInstrumentationOutput), in any chunking,
 * and every way a run can fail to complete, each as its typed error.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { OpResult } from '../../harness/ops/result.js';
import {
  formatInstrumentationOutput,
  instrumentCommand,
  InstrumentationCrashedError,
  InstrumentationFailedError,
  InstrumentationFormatError,
  InstrumentationScriptError,
  InstrumentationStreamParser,
  InstrumentationTruncatedError,
  parseInstrumentationOutput,
} from '../../harness/targets/instrumentation.js';

const HELLO = { hello: { fixture: '0.1.0', sdk: 33, release: '13', door: 'instrumentation' } };

/** Java-layer result lines as the APK writes them (exactly one outcome). */
const javaResult: fc.Arbitrary<OpResult> = fc.record({
  i: fc.integer({ min: 1, max: 10_000 }),
  op: fc.constantFrom('mf_create', 'mf_read', 'mf_write', 'mf_allow_purging', 'sm_create', 'sm_map', 'buf_get', 'app_wait'),
  outcome: fc.oneof(
    fc.record({ ret: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
    fc.record({
      ret: fc.nat({ max: 1 << 20 }),
      rle: fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 1 << 16 })), { maxLength: 6 }),
    }),
    fc.record({ exception: fc.constantFrom('java.io.IOException', 'java.lang.IllegalArgumentException', 'java.nio.BufferUnderflowException') }),
    fc.record({ exception: fc.constant('java.io.IOException'), message: fc.string({ unit: 'binary' }) }),
    fc.record({ error: fc.constantFrom('parse', 'state', 'unsupported'), message: fc.string() }),
  ),
}).map(({ i, op, outcome }) => ({ i, op, ...outcome }) as OpResult);

describe('instrumentation output parser', () => {
  it('round-trips result lines, hello first', () => {
    fc.assert(fc.property(fc.array(javaResult, { maxLength: 30 }), (results) => {
      const run = parseInstrumentationOutput(formatInstrumentationOutput([HELLO, ...results]));
      assert.deepEqual(run.results, results);
      assert.deepEqual(run.hello, HELLO.hello);
      assert.equal(run.done, results.length);
    }));
  });

  it('streams: any chunking gives the same results, each as soon as its bundle closes', () => {
    fc.assert(fc.property(fc.array(javaResult, { minLength: 1, maxLength: 10 }), fc.array(fc.nat(), { maxLength: 20 }), (results, cuts) => {
      const text = formatInstrumentationOutput([HELLO, ...results]);
      const points = [...new Set(cuts.map((c) => c % text.length))].sort((a, b) => a - b);
      const parser = new InstrumentationStreamParser();
      const seen: OpResult[] = [];
      let from = 0;
      for (const p of [...points, text.length]) {
        seen.push(...parser.push(text.slice(from, p)));
        from = p;
      }
      assert.deepEqual(seen, results);
      assert.deepEqual(parser.end().results, results);
    }));
  });

  it('gives a result before the run ends (what the purge scenario waits for)', () => {
    const parser = new InstrumentationStreamParser();
    const first = formatInstrumentationOutput([HELLO, { i: 1, op: 'mf_create', ret: 0 }], { kind: 'cut' });
    assert.deepEqual(parser.push(first), [{ i: 1, op: 'mf_create', ret: 0 }]);
  });

  it('keeps unicode and escapes in exception messages', () => {
    const r: OpResult = { i: 4, op: 'mf_read', exception: 'java.io.IOException', message: 'line1\nline2 "q" \\ é ✓' };
    assert.deepEqual(parseInstrumentationOutput(formatInstrumentationOutput([HELLO, r])).results, [r]);
  });

  it('accepts CRLF line ends (adb shell without -T on old adb)', () => {
    const text = formatInstrumentationOutput([HELLO, { i: 1, op: 'mf_length', ret: 4096 }]).replaceAll('\n', '\r\n');
    assert.deepEqual(parseInstrumentationOutput(text).results, [{ i: 1, op: 'mf_length', ret: 4096 }]);
  });

  it('a crashed process is an InstrumentationCrashedError carrying the results so far', () => {
    const results: OpResult[] = [{ i: 1, op: 'mf_create', ret: 0 }];
    const text = formatInstrumentationOutput([HELLO, ...results], { kind: 'crash', longMsg: 'Native crash\n\tat x' });
    assert.throws(() => parseInstrumentationOutput(text), (e: unknown) => {
      assert.ok(e instanceof InstrumentationCrashedError);
      assert.deepEqual(e.results, results);
      assert.equal(e.longMsg, 'Native crash\n\tat x');
      assert.match(e.message, /crashed \(Process crashed\.\) after 1 result/);
      return true;
    });
  });

  it('the real crash text of am (no results, shortMsg only) is a crash', () => {
    const text = 'INSTRUMENTATION_RESULT: shortMsg=Process crashed.\nINSTRUMENTATION_CODE: 0\n';
    assert.throws(() => parseInstrumentationOutput(text), InstrumentationCrashedError);
  });

  it('an instrumentation that is not installed is an InstrumentationFailedError naming why', () => {
    const text = [
      'INSTRUMENTATION_STATUS: id=ActivityManagerService',
      'INSTRUMENTATION_STATUS: Error=Unable to find instrumentation info for: ComponentInfo{dev.ashmemharness.fixture/dev.ashmemharness.fixture.ScriptInstrumentation}',
      'INSTRUMENTATION_STATUS_CODE: -1',
      'android.util.AndroidException: INSTRUMENTATION_FAILED: dev.ashmemharness.fixture/dev.ashmemharness.fixture.ScriptInstrumentation',
      '\tat com.android.commands.am.Instrument.run(Instrument.java:519)',
      '',
    ].join('\n');
    assert.throws(() => parseInstrumentationOutput(text), (e: unknown) => {
      assert.ok(e instanceof InstrumentationFailedError);
      assert.match(e.message, /Unable to find instrumentation info/);
      return true;
    });
  });

  it('INSTRUMENTATION_ABORTED is an InstrumentationFailedError', () => {
    const text = formatInstrumentationOutput([HELLO], { kind: 'cut' }) + 'INSTRUMENTATION_ABORTED: System has crashed.\n';
    assert.throws(() => parseInstrumentationOutput(text), /aborted: System has crashed/);
  });

  it('output cut off before INSTRUMENTATION_CODE is an InstrumentationTruncatedError', () => {
    const results: OpResult[] = [{ i: 1, op: 'mf_create', ret: 0 }, { i: 2, op: 'mf_write', ret: 0 }];
    const text = formatInstrumentationOutput([HELLO, ...results], { kind: 'cut' });
    for (const cut of [text.length, text.length - 5, 0]) {
      assert.throws(() => parseInstrumentationOutput(text.slice(0, cut)), InstrumentationTruncatedError);
    }
  });

  it('a done count that disagrees with the results received is truncation', () => {
    const text = formatInstrumentationOutput([HELLO, { i: 1, op: 'mf_close', ret: 0 }]).replace('done=1', 'done=2');
    assert.throws(() => parseInstrumentationOutput(text), /reported 2 result\(s\) but 1 arrived/);
  });

  it('the fixture refusing the script is an InstrumentationScriptError', () => {
    const text = formatInstrumentationOutput([], { kind: 'error', error: 'no script: pass -e script <base64 of the op script>' });
    assert.throws(() => parseInstrumentationOutput(text), InstrumentationScriptError);
  });

  it('a result line that breaks the format is an InstrumentationFormatError', () => {
    const two = formatInstrumentationOutput([HELLO, { i: 1, op: 'mf_read', ret: 1, exception: 'java.io.IOException' }]);
    assert.throws(() => parseInstrumentationOutput(two), InstrumentationFormatError);
    const none = formatInstrumentationOutput([HELLO, { i: 1, op: 'mf_read' }]);
    assert.throws(() => parseInstrumentationOutput(none), InstrumentationFormatError);
    const notJson = formatInstrumentationOutput([HELLO]).replace('result={"hello"', 'result={hello');
    assert.throws(() => parseInstrumentationOutput(notJson), /not JSON/);
  });

  it('the command carries the script as one base64 word', () => {
    const script = 'mf_create f0 "a b" 4096\nmf_read f0 4 0 0 4\n';
    const cmd = instrumentCommand(script);
    const m = /^am instrument -w -r -e script (\S+) dev\.ashmemharness\.fixture\/\.ScriptInstrumentation$/.exec(cmd);
    assert.ok(m?.[1] !== undefined, cmd);
    assert.equal(Buffer.from(m[1], 'base64').toString('utf8'), script);
  });
});
