/**
 * get_name reporting: `name` (the bytes up to the first NUL, each byte one char code, escaped as
 * \u00XX outside printable ASCII) and `copied` (how many bytes the kernel wrote, found with two
 * sentinel fills). The host kernel has no ashmem, so these run the TEST ONLY build whose
 * SET_NAME/GET_NAME reach a user-space stand-in of the C driver (apk-fixtures/probe/test/).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ensureFakeAshmemBuilt, script } from './support.js';

let probe = '';

before(function () {
  this.timeout(120_000);
  probe = ensureFakeAshmemBuilt();
});

function run(text: string): { lines: string[]; results: Record<string, unknown>[] } {
  const out = spawnSync(probe, [], { input: Buffer.from(text, 'utf8'), encoding: 'latin1' });
  const lines = out.stdout.split('\n').filter((l) => l !== '');
  return { lines, results: lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((j) => typeof j['i'] === 'number') };
}

describe('get_name reporting (fake driver, TEST ONLY build)', function () {
  this.timeout(30_000);

  it('reports the default name and the 11 bytes the driver copies', () => {
    const { results } = run(script('open r0', 'get_name r0'));
    assert.deepEqual(results[1], { i: 2, op: 'get_name', ret: 0, name: 'dev/ashmem', copied: 11 });
  });

  it('counts bytes equal to the first sentinel (0x55) through the second (0xAA), and the reverse', () => {
    const { results } = run(script('open r0', 'set_name r0 "UUU"', 'get_name r0', 'set_name r0 "\\xaa\\xaa"', 'get_name r0'));
    assert.deepEqual(results[2], { i: 3, op: 'get_name', ret: 0, name: 'UUU', copied: 4 });
    assert.deepEqual(results[4], { i: 5, op: 'get_name', ret: 0, name: '\u00aa\u00aa', copied: 3 });
  });

  it('escapes control and high bytes as \\u00XX, one char code per byte, and writes only ASCII', () => {
    const { lines, results } = run(script('open r0', 'set_name r0 "\\x01\\x1f\\x7f\\x80\\xff\\"\\\\é"', 'get_name r0'));
    assert.deepEqual(results[2], { i: 3, op: 'get_name', ret: 0, name: '\u0001\u001f\u007f\u0080\u00ff"\\\u00c3\u00a9', copied: 10 });
    assert.ok(lines[3]?.includes('"name":"\\u0001\\u001f\\u007f\\u0080\\u00ff\\"\\\\\\u00c3\\u00a9"'), lines[3]);
  });

  it('shows the 255-byte truncation of an overlong name (256 bytes copied) and the empty name reverting', () => {
    const { results } = run(script('open r0', 'set_name r0 "ab"*200', 'get_name r0', 'set_name r0 ""', 'get_name r0'));
    const long = results[2] as { name: string; copied: number };
    assert.equal(long.copied, 256);
    assert.equal(long.name, 'ab'.repeat(200).slice(0, 255));
    assert.deepEqual(results[4], { i: 5, op: 'get_name', ret: 0, name: 'dev/ashmem', copied: 11 });
  });

  it('passes NULL for the _null forms (EFAULT) and a NUL inside the name ends it', () => {
    const { results } = run(script('open r0', 'get_name_null r0', 'set_name_null r0', 'set_name r0 "ab\\0cd"', 'get_name r0'));
    assert.deepEqual(results[1], { i: 2, op: 'get_name_null', errno: 'EFAULT' });
    assert.deepEqual(results[2], { i: 3, op: 'set_name_null', errno: 'EFAULT' });
    assert.deepEqual(results[4], { i: 5, op: 'get_name', ret: 0, name: 'ab', copied: 3 });
  });
});
