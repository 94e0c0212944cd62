/**
 * `judge` on results that do not belong to the script (issue 11 §5): exit 2 and one line naming
 * the results file's first bad line, instead of a nonsense divergence (exit 1) or "consistent"
 * (exit 0). Results cut short at the end stay "incomplete".
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sharedDir } from '../support/samples.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const BIN = path.join(ROOT, 'bin', 'ashmem-harness.js');
const SAMPLES = path.join(sharedDir(), 'real-driver-samples');
const SCRIPT = path.join(SAMPLES, '06-purge-all-basic.ops');
const HELLO = '{"hello":{"probe":"0.1.0","kernel":"6.1.0","machine":"x86_64","abi":"x86_64","bits":64,"backend":"ashmem","node":"/dev/ashmem","uid":0,"page_size":4096,"features":[]}}';
const REAL = fs.readFileSync(path.join(SAMPLES, 'c-pre2019', '06-purge-all-basic.jsonl'), 'utf8').trim().split('\n');

function judge(script: string, lines: readonly string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, 'judge', '--profile', 'c-pre2019', script, '-'], { encoding: 'utf8', input: lines.join('\n') + '\n', cwd: ROOT, timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('judge CLI: results that do not belong to the script (issue 11 §5)', function () {
  this.timeout(120_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'judge-input-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('real results with a hello line first: exit 0', () => {
    const r = judge(SCRIPT, [HELLO, ...REAL]);
    assert.equal(r.code, 0, r.out + r.err);
  });

  it('an empty script with 8 results: exit 2 naming results line 1, nothing on stdout', () => {
    const empty = path.join(tmp, 'empty.ops');
    fs.writeFileSync(empty, '');
    const r = judge(empty, REAL.slice(0, 8));
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.match(r.err, /^ashmem-harness: <stdin>:1: result for line 8 \(open\): the script has no op on line 8 \(the script has no ops\); these results cannot be judged against .*empty\.ops/);
    assert.equal(r.err.trim().split('\n').length, 1);
  });

  it('two outcome fields on results line 17 (after a hello line): exit 2 naming line 18 of the input', () => {
    const lines = [HELLO, ...REAL];
    lines[17] = '{"i":24,"op":"purge_all","ret":5,"errno":"EPERM"}';
    const r = judge(SCRIPT, lines);
    assert.equal(r.code, 2);
    assert.match(r.err, /^ashmem-harness: <stdin>:18: result for line 24 \(purge_all\): 2 outcome fields \(ret and errno\)/);
  });

  it('a probe hello line without the machine\'s facts: exit 2 naming what is missing, not an internal error', () => {
    const r = judge(SCRIPT, ['{"hello":{"probe":"0.1.0"}}', ...REAL]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /^ashmem-harness: <stdin>: the hello line is not a probe's: "page_size" must be the page size in bytes \(a power of two\), got nothing \(give the probe's own output, or drop the hello line\)\n$/);
  });

  it('the fixture APK\'s hello line gives the API level: MemoryFile of API 26 answers a zero length with "mmap failed" (§8.1)', () => {
    const s = path.join(tmp, 'mf.ops');
    fs.writeFileSync(s, 'mf_create f0 "z" 0\n');
    const old = '{"i":1,"op":"mf_create","exception":"java.io.IOException","message":"mmap failed"}';
    const apk = (sdk: number): string => `{"hello":{"fixture":"0.1.0","sdk":${sdk},"release":"x","door":"instrumentation"}}`;
    assert.equal(judge(s, [apk(26), old]).code, 0);
    assert.equal(judge(s, [apk(33), old]).code, 1);
  });

  it('a duplicated line: exit 2, not "expected ret 0, observed ret 0"', () => {
    const lines = [...REAL.slice(0, 5), REAL[4] as string, ...REAL.slice(5)];
    const r = judge(SCRIPT, lines);
    assert.equal(r.code, 2);
    assert.match(r.err, /<stdin>:6: a second result for line 12 \(pin\)/);
    assert.doesNotMatch(r.out, /expected/);
  });

  it('another op\'s name, a result line without "i", a missing line in the middle: exit 2 each', () => {
    const renamed = [...REAL];
    renamed[17] = (renamed[17] as string).replace('"status"', '"pin"');
    assert.match(judge(SCRIPT, renamed).err, /<stdin>:18: result for line 25 is for "pin", but line 25 of the script is "status"/);
    const noLine = [...REAL];
    noLine[3] = '{"op":"fill","ret":0}';
    const a = judge(SCRIPT, noLine);
    assert.equal(a.code, 2);
    assert.match(a.err, /<stdin>:4: "i" must be the op's script line number/);
    const gap = REAL.filter((_, k) => k !== 12);
    const b = judge(SCRIPT, gap);
    assert.equal(b.code, 2);
    assert.match(b.err, /no result for line 20 \(status r0 24576 8192\), though line 34 has one: a result is missing/);
  });

  it('results cut short at the end: still "incomplete" (the target stopped), exit 2 as before', () => {
    const r = judge(SCRIPT, REAL.slice(0, 20));
    assert.equal(r.code, 2);
    assert.match(r.err, /^incomplete: no result for line 28 \(pin r0 12288 4096\): the target stopped early/);
  });
});
