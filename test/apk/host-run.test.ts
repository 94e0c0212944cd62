/**
 * Runs the fixture APK's own code — its dex, translated to JVM bytecode by Debian's enjarify —
 * on this machine's JVM, against a small host double of the few Android classes it touches
 * (test/apk/host-double/src: NOT a model of Android, only enough state to drive the code).
 * This tests what no build-time check can: the smali's lexer, dispatch, handles, result format
 * and both doors (the instrumentation's status bundles are parsed by the harness's parser).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';
import {
  InstrumentationScriptError,
  parseInstrumentationOutput,
} from '../../harness/targets/instrumentation.js';
import { parseActivityOutput } from '../../specs/support/activity-output.js';
import { run, type Ran } from './support/fixture-build.js';
import { fixtureJvm } from './support/jvm.js';

describe('fixture code on the JVM (enjarify + host double)', function () {
  this.timeout(240_000);
  let classpath: string;
  let work: string;

  before(async () => {
    ({ classpath, work } = await fixtureJvm());
  });

  /** Runs scripts on one Runner (the Activity's semantics); "--purge" between them purges. */
  async function runs(scripts: readonly string[], sdk = 30): Promise<unknown[]> {
    const args = scripts.map((s, k) => {
      if (s === '--purge') return s;
      const f = path.join(work, `script-${k}.ops`);
      fs.writeFileSync(f, s);
      return f;
    });
    const r = await run('java', [`-Dfixture.sdk=${sdk}`, '-cp', classpath, 'dev.ashmemharness.host.Runs', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown);
  }

  /** The instrumentation door: what `am instrument -w -r` would print. */
  function instrument(script: string | undefined, extra: readonly string[] = []): Promise<Ran> {
    const b64 = script === undefined ? '-' : Buffer.from(script, 'utf8').toString('base64');
    return run('java', [...extra, '-cp', classpath, 'dev.ashmemharness.host.Am', 'dev.ashmemharness.fixture.ScriptInstrumentation', b64]);
  }

  const hello = (door: string, sdk = 30): unknown => ({ hello: { fixture: '0.1.0', sdk, release: '11', door } });

  it('runs MemoryFile ops: one line per op, keyed by script line, rle of the bytes read', async () => {
    const script = '# demo\nmf_create f0 "demo" 4096\n\nmf_allow_purging f0 true   # unpins\nmf_is_purging_allowed f0\n' +
      'mf_write f0 8 0 100 8 0xA5\nmf_read f0 16 98 4 12\nmf_length f0\nmf_close f0\nmf_read f0 4 0 0 4\n';
    parseScript(script);
    assert.deepEqual(await runs([script]), [
      hello('activity'),
      { i: 2, op: 'mf_create', ret: 0 },
      { i: 4, op: 'mf_allow_purging', ret: 0 },
      { i: 5, op: 'mf_is_purging_allowed', ret: 1 },
      { i: 6, op: 'mf_write', ret: 0 },
      { i: 7, op: 'mf_read', ret: 12, rle: [[0, 2], [165, 8], [0, 2]] },
      { i: 8, op: 'mf_length', ret: 4096 },
      { i: 9, op: 'mf_close', ret: 0 },
      { i: 10, op: 'mf_read', exception: 'java.io.IOException', message: 'MemoryFile has been deactivated' },
    ]);
  });

  it('reports exceptions as class and message, and keeps bytes 0-255 unsigned', async () => {
    const out = await runs(['mf_create f0 "x" 0\nmf_create f1 "y" 16\nmf_write f1 4 0 0 4 255\nmf_read f1 4 0 0 8\nmf_read f1 4 0 0 4\n']);
    assert.deepEqual(out.slice(1), [
      { i: 1, op: 'mf_create', exception: 'java.lang.IllegalArgumentException', message: 'Size must be greater than zero' },
      { i: 2, op: 'mf_create', ret: 0 },
      { i: 3, op: 'mf_write', ret: 0 },
      { i: 4, op: 'mf_read', exception: 'java.lang.ArrayIndexOutOfBoundsException', message: 'arraycopy: last destination index 8 out of bounds for byte[4]' },
      { i: 5, op: 'mf_read', ret: 4, rle: [[255, 4]] },
    ]);
  });

  it('lexes strings like the TypeScript parser: escapes, \\xHH, "…"*N, # inside strings', async () => {
    // The names are not observable through MemoryFile, so the lexer is checked through errors.
    const good = 'mf_create f0 "a\\"b\\\\c\\n\\t\\0\\x41 # not a comment"*3 16 # a comment\n';
    assert.equal((parseScript(good).ops[0] as { name?: string }).name, 'a"b\\c\n\t\0A # not a comment'.repeat(3));
    const out = await runs([
      'mf_create f0 "a\\"b\\\\c\\n\\t\\0\\x41 # not a comment"*3 16 # a comment\n' +
      'mf_create f1 "unterminated 16\n' +
      'mf_create f2 "bad \\q" 16\n' +
      'mf_create f3 "x"* 16\n' +
      'mf_create f4 name 16\n' +
      'mf_create f5 "x" sixteen\n' +
      'mf_allow_purging f0 maybe\n' +
      'p1: mf_length f0\n',
    ]);
    assert.deepEqual(out.slice(1), [
      { i: 1, op: 'mf_create', ret: 0 },
      { i: 2, op: 'mf_create', error: 'parse', message: 'unterminated string: add the closing "', col: 1 },
      { i: 3, op: 'mf_create', error: 'parse', message: 'unknown escape: use \\\\ \\" \\n \\t \\0 or \\xHH', col: 1 },
      { i: 4, op: 'mf_create', error: 'parse', message: 'expected a repeat count after "*", e.g. "a"*300', col: 1 },
      { i: 5, op: 'mf_create', error: 'parse', message: 'expected a "quoted string", got name', col: 1 },
      { i: 6, op: 'mf_create', error: 'parse', message: 'expected a Java int, got sixteen', col: 1 },
      { i: 7, op: 'mf_allow_purging', error: 'parse', message: 'expected true or false, got maybe', col: 1 },
      { i: 8, op: 'p1:', error: 'parse', message: 'unknown op "p1:" (see docs/op-scripts.md for the list)', col: 1 },
    ]);
  });

  it('separates tokens by space, tab, CR, VT and FF, as parse.ts does', async () => {
    const script = 'mf_create\vf0\f"x"\t16\r\nmf_length \t f0\n';
    assert.equal(parseScript(script).ops.length, 2);
    assert.deepEqual((await runs([script])).slice(1), [{ i: 1, op: 'mf_create', ret: 0 }, { i: 2, op: 'mf_length', ret: 16 }]);
  });

  it('arity, unknown ops and empty handles are errors, not crashes', async () => {
    const out = await runs(['mf_read f0 4 0 0\nbogus f0\nmf_length f0\nsm_get_size s7\n']);
    assert.deepEqual(out.slice(1), [
      { i: 1, op: 'mf_read', error: 'parse', message: 'mf_read takes 5 argument(s)', col: 1 },
      { i: 2, op: 'bogus', error: 'parse', message: 'unknown op "bogus" (see docs/op-scripts.md for the list)', col: 1 },
      { i: 3, op: 'mf_length', error: 'state', message: 'f0 holds no object (its defining op threw or never ran)' },
      { i: 4, op: 'sm_get_size', error: 'state', message: 's7 holds no object (its defining op threw or never ran)' },
    ]);
  });

  it('handles outlive a run (the Activity door): purge between runs, the read throws once, then zeros', async () => {
    const out = await runs([
      'mf_create f0 "p" 4096\nmf_allow_purging f0 true\nmf_write f0 4 0 0 4 7\n',
      '--purge',
      'mf_read f0 4 0 0 4\nmf_read f0 4 0 0 4\n',
    ]);
    assert.deepEqual(out.slice(4), [
      hello('activity'),
      { i: 1, op: 'mf_read', exception: 'java.io.IOException', message: 'MemoryFile has been purged' },
      { i: 2, op: 'mf_read', ret: 4, rle: [[0, 4]] },
    ]);
  });

  it('runs SharedMemory and ByteBuffer ops on API 27+', async () => {
    const script = 'sm_create s0 "s" 8192\nsm_get_size s0\nsm_map_rw b0 s0\nbuf_put b0 10 5 7\nbuf_get b0 8 10\n' +
      'sm_set_protect s0 1\nsm_set_protect s0 3\nsm_map_ro b1 s0\nbuf_put b1 0 1 1\nsm_map b2 s0 1 0 0\nsm_unmap b0\nsm_close s0\nsm_get_size s0\n';
    parseScript(script);
    assert.deepEqual((await runs([script])).slice(1), [
      { i: 1, op: 'sm_create', ret: 0 },
      { i: 2, op: 'sm_get_size', ret: 8192 },
      { i: 3, op: 'sm_map_rw', ret: 0 },
      { i: 4, op: 'buf_put', ret: 0 },
      { i: 5, op: 'buf_get', ret: 10, rle: [[0, 2], [7, 5], [0, 3]] },
      { i: 6, op: 'sm_set_protect', ret: 1 },
      { i: 7, op: 'sm_set_protect', ret: 0 },
      { i: 8, op: 'sm_map_ro', ret: 0 },
      { i: 9, op: 'buf_put', exception: 'java.nio.ReadOnlyBufferException' },
      { i: 10, op: 'sm_map', exception: 'java.lang.IllegalArgumentException', message: 'Length must be > 0' },
      { i: 11, op: 'sm_unmap', ret: 0 },
      { i: 12, op: 'sm_close', ret: 0 },
      { i: 13, op: 'sm_get_size', exception: 'java.lang.IllegalStateException', message: 'SharedMemory is closed' },
    ]);
  });

  it('below API 27 every sm_* and buf_* op is unsupported', async () => {
    const out = await runs(['sm_create s0 "s" 8192\nbuf_get b0 0 1\nmf_create f0 "m" 16\n'], 26);
    assert.deepEqual(out, [
      hello('activity', 26),
      { i: 1, op: 'sm_create', error: 'unsupported', message: 'SharedMemory needs API 27; this device runs API 26' },
      { i: 2, op: 'buf_get', error: 'unsupported', message: 'SharedMemory needs API 27; this device runs API 26' },
      { i: 3, op: 'mf_create', ret: 0 },
    ]);
  });

  it('the Activity door (MainActivity): typed script, Run, id/status and id/results as the spec parses them', async () => {
    const files = ['mf_create f0 "a" 16\nmf_allow_purging f0 true\nmf_write f0 4 0 0 4 3\n', 'mf_read f0 4 0 0 4\nmf_read f0 4 0 0 4\napp_wait "x" 10\n']
      .map((text, k) => { const f = path.join(work, `ui-${k}.ops`); fs.writeFileSync(f, text); return f; });
    const r = await run('java', ['-cp', classpath, 'android.app.HostUi', 'dev.ashmemharness.fixture.MainActivity', files[0] ?? '', '--purge', files[1] ?? '']);
    assert.equal(r.code, 0, r.stderr);
    const runs = r.stdout.split('---\n').filter((x) => x !== '').map((chunk) => {
      const [statusLine = '', ...rest] = chunk.split('\n');
      assert.match(statusLine, /^STATUS /);
      return parseActivityOutput(statusLine.slice('STATUS '.length), rest.join('\n'));
    });
    assert.deepEqual(runs.map((x) => x.run), [1, 2]);
    assert.equal(runs[0]?.hello['door'], 'activity');
    assert.deepEqual(runs[1]?.results, [
      { i: 1, op: 'mf_read', exception: 'java.io.IOException', message: 'MemoryFile has been purged' },
      { i: 2, op: 'mf_read', ret: 4, rle: [[0, 4]] },
      { i: 3, op: 'app_wait', error: 'unsupported', message: 'app_wait runs only through instrumentation; in the Activity the objects outlive a run: press Run again after the trigger' },
    ]);
  });

  it('the instrumentation door gives the same results, parsed from its status bundles', async () => {
    const script = 'mf_create f0 "demo" 64\nmf_write f0 8 0 0 8 1\nmf_read f0 8 0 0 8\nbogus\nsm_create s0 "x" 0\n';
    const r = await instrument(script);
    assert.equal(r.code, 0, r.stderr);
    const parsed = parseInstrumentationOutput(r.stdout);
    assert.deepEqual(parsed.hello, (hello('instrumentation') as { hello: unknown }).hello);
    assert.equal(parsed.done, 5);
    const viaActivity = (await runs([script])).slice(1) as OpResult[];
    assert.deepEqual(parsed.results, viaActivity);
    assert.match(r.stdout, /^INSTRUMENTATION_RESULT: done=5$/m);
    assert.match(r.stdout, /^INSTRUMENTATION_CODE: -1$/m);
  });

  it('the instrumentation door refuses a missing or broken script as a whole', async () => {
    const none = await instrument(undefined);
    assert.throws(() => parseInstrumentationOutput(none.stdout), (e: unknown) => e instanceof InstrumentationScriptError && /no script: pass -e script/.test(e.message));
    const bad = await run('java', ['-cp', classpath, 'dev.ashmemharness.host.Am', 'dev.ashmemharness.fixture.ScriptInstrumentation', '***']);
    assert.throws(() => parseInstrumentationOutput(bad.stdout), (e: unknown) => e instanceof InstrumentationScriptError && /IllegalArgumentException/.test(e.message));
  });

  it('app_wait waits for its trigger file (instrumentation), times out with 0, and is unsupported in the Activity', async () => {
    const files = fs.mkdtempSync(path.join(work, 'files-'));
    const script = 'mf_create f0 "w" 16\napp_wait "go" 20000\napp_wait "never" 300\n';
    parseScript(script);
    const started = Date.now();
    const pending = instrument(script, [`-Dfixture.files=${files}`]);
    setTimeout(() => fs.writeFileSync(path.join(files, 'trigger-go'), ''), 1500);
    const r = await pending;
    const parsed = parseInstrumentationOutput(r.stdout);
    assert.deepEqual(parsed.results, [
      { i: 1, op: 'mf_create', ret: 0 },
      { i: 2, op: 'app_wait', ret: 1 },
      { i: 3, op: 'app_wait', ret: 0 },
    ]);
    assert.ok(Date.now() - started >= 1500);
    assert.equal(fs.existsSync(path.join(files, 'trigger-go')), false, 'the trigger is consumed');
    const activity = await runs(['app_wait "go" 100\n']);
    assert.deepEqual(activity[1], {
      i: 1, op: 'app_wait', error: 'unsupported',
      message: 'app_wait runs only through instrumentation; in the Activity the objects outlive a run: press Run again after the trigger',
    });
  });
});
