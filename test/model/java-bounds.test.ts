/**
 * The Java layer's argument checks and lifecycle (§8.1-§8.3): MemoryFile bounds before and from
 * API 27, the API 27 boundary, ByteBuffer bounds, and close/unmap twice.
 */
import assert from 'node:assert/strict';
import { predict, type Prediction } from '../../harness/check/predict.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';

/** Each line's answer: the return value, or the exception class without its package. */
function outcomes(profile: string, api: number, lines: readonly string[]): unknown[] {
  const ps = predict(parseScript(`${lines.join('\n')}\n`), profileById(profile), { ...DEFAULT_ENVIRONMENT, apiLevel: api });
  return ps.map((p: Prediction) => {
    const r = ('oneOf' in p ? p.oneOf[0] : p) as { ret?: number; exception?: string; error?: string };
    return r.exception?.replace(/^.*\./, '') ?? r.error ?? r.ret;
  });
}

/** readBytes(buffer of `buflen`, file offset `src`, buffer offset `dst`, `n`). */
const read = (buflen: number, src: number, dst: number, n: number): string => `mf_read f0 ${buflen} ${src} ${dst} ${n}`;
/** writeBytes(buffer of `buflen`, buffer offset `src`, file offset `dst`, `n`). */
const write = (buflen: number, src: number, dst: number, n: number): string => `mf_write f0 ${buflen} ${src} ${dst} ${n} 1`;

describe('Java layer bounds and lifecycle (§8.1-§8.3)', () => {
  it('§8.1 before API 27: every bad buffer/file offset or count is IndexOutOfBoundsException; the edges themselves are fine', () => {
    const cases: [string, unknown][] = [
      [read(10, 0, -1, 1), 'IndexOutOfBoundsException'], // dst < 0
      [read(10, 0, 11, 0), 'IndexOutOfBoundsException'], // dst > buflen
      [read(10, 0, 10, 0), 0], // dst == buflen, n 0
      [read(10, 0, 0, -1), 'IndexOutOfBoundsException'], // n < 0
      [read(10, 0, 0, 0), 0],
      [read(10, 0, 0, 11), 'IndexOutOfBoundsException'], // n > buflen - dst
      [read(10, -1, 0, 1), 'IndexOutOfBoundsException'], // src < 0
      [read(10, 101, 0, 0), 'IndexOutOfBoundsException'], // src > length
      [read(10, 100, 0, 0), 0], // src == length, n 0
      [read(10, 90, 0, 10), 10], // up to the end
      [read(10, 91, 0, 10), 'IndexOutOfBoundsException'], // n > length - src
      [write(10, 0, 91, 10), 'IndexOutOfBoundsException'],
      [write(10, 0, 90, 10), 0],
    ];
    const got = outcomes('c-pre2019', 26, ['mf_create f0 "b" 100', ...cases.map(([l]) => l)]);
    assert.deepEqual(got.slice(1), cases.map(([, want]) => want));
  });

  it('§8.2 API 27+: a bad file offset is IAE (Buffer.position), bad buffer args IOOBE, past the end Buffer{Under,Over}flowException', () => {
    const cases: [string, unknown][] = [
      [read(10, -1, 0, 1), 'IllegalArgumentException'],
      [read(10, 101, 0, 0), 'IllegalArgumentException'],
      [read(10, 100, 0, 0), 0], // position(length) is allowed
      [read(10, 0, -1, 1), 'IndexOutOfBoundsException'],
      [read(10, 0, 0, -1), 'IndexOutOfBoundsException'],
      [read(10, 0, 0, 0), 0],
      [read(10, 0, 5, 6), 'IndexOutOfBoundsException'], // dst > buflen - n
      [read(10, 0, 4, 6), 6],
      [read(10, 95, 0, 10), 'BufferUnderflowException'],
      [write(10, 0, 95, 10), 'BufferOverflowException'],
      [write(10, 0, 90, 10), 0],
    ];
    const got = outcomes('ack-c', 33, ['mf_create f0 "b" 100', ...cases.map(([l]) => l)]);
    assert.deepEqual(got.slice(1), cases.map(([, want]) => want));
  });

  it('§8.1/§8.2 the API 27 boundary: at 27 MemoryFile is the SharedMemory wrapper (IAE for length 0) and SharedMemory exists', () => {
    assert.deepEqual(outcomes('ack-c', 27, ['mf_create f0 "x" 0', 'sm_create s0 "y" 4096', 'mf_create f1 "z" 100', 'mf_close f1', 'mf_length f1']),
      ['IllegalArgumentException', 0, 0, 0, 'IllegalStateException']);
    assert.deepEqual(outcomes('c-pre2019', 26, ['mf_create f0 "x" 0', 'sm_create s0 "y" 4096', 'mf_create f1 "z" 100', 'mf_close f1', 'mf_length f1']),
      ['IOException', 'unsupported', 0, 0, 100]);
    // Below 27 every SharedMemory and ByteBuffer op is unsupported, buffer ops included.
    assert.deepEqual(outcomes('c-pre2019', 26, ['sm_create s0 "y" 4096', 'sm_map_rw b0 s0', 'buf_get b0 0 1', 'buf_put b0 0 1 1', 'sm_unmap b0']),
      ['unsupported', 'unsupported', 'unsupported', 'unsupported', 'unsupported']);
  });

  it('§8.1/§8.2 close() twice is harmless; allowPurging after close is IOException; access after close is the deactivated IOException', () => {
    for (const [profile, api] of [['c-pre2019', 26], ['ack-c', 33]] as const) {
      const got = outcomes(profile, api, ['mf_create f0 "c" 100', 'mf_close f0', 'mf_close f0', 'mf_allow_purging f0 true', read(1, 0, 0, 1)]);
      assert.deepEqual(got, [0, 0, 0, 'IOException', 'IOException'], `API ${api}`);
    }
  });

  it('§8.3 absolute ByteBuffer gets/puts: empty ones succeed, offsets outside [0, capacity) and runs past the end are IOOBE', () => {
    const got = outcomes('ack-c', 33, [
      'sm_create s0 "a" 4096', 'sm_map_rw b0 s0',
      'buf_get b0 0 0', 'buf_put b0 0 0 1', 'buf_put b0 -1 1 1', 'buf_get b0 4096 1', 'buf_get b0 4095 1',
      'buf_get b0 4094 4', 'buf_put b0 4092 4 2', 'buf_put b0 4093 4 2', 'buf_get b0 4092 4',
    ]);
    assert.deepEqual(got.slice(2), [0, 0, 'IndexOutOfBoundsException', 'IndexOutOfBoundsException', 1, 'IndexOutOfBoundsException', 0, 'IndexOutOfBoundsException', 4]);
  });

  it('§8.3 an absolute put/get at an offset touches the bytes at that offset of the shared region', () => {
    const text = 'sm_create s0 "a" 4096\nsm_map_rw b0 s0\nsm_map_ro b1 s0\nbuf_put b0 4092 4 2\nbuf_get b1 4090 6\nbuf_get b1 0 4\n';
    const ps = predict(parseScript(text), profileById('ack-c'), { ...DEFAULT_ENVIRONMENT, apiLevel: 33 });
    assert.deepEqual(ps[4], { i: 5, op: 'buf_get', ret: 6, rle: [[0, 2], [2, 4]] });
    assert.deepEqual(ps[5], { i: 6, op: 'buf_get', ret: 4, rle: [[0, 4]] });
  });

  it('§8.3 close() and unmap() twice return normally; a closed SharedMemory refuses getSize/setProtect; an unmapped buffer refuses access', () => {
    const got = outcomes('ack-c', 33, [
      'sm_create s0 "a" 4096', 'sm_map_rw b0 s0', 'sm_close s0', 'sm_close s0', 'sm_get_size s0', 'sm_set_protect s0 1',
      'buf_get b0 0 1', 'sm_unmap b0', 'sm_unmap b0', 'buf_get b0 0 1', 'app_wait "w" 1',
    ]);
    assert.deepEqual(got, [0, 0, 0, 0, 'IllegalStateException', 'IllegalStateException', 1, 0, 0, 'IllegalStateException', 1]);
  });
});
