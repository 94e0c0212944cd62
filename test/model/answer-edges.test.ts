/**
 * The edges of answer.ts: a driver's `long` seen through `int ioctl()` (§1.4: truncated to int,
 * negative is -errno, and the syscall layer reads only -1..-4095 as errno), errno numbers the
 * table does not name, and which process a failed answer's result line names.
 */
import assert from 'node:assert/strict';
import { fail, ok, resultOf, syscallReturn } from '../../harness/model/answer.js';
import type { Op } from '../../harness/ops/ast.js';

describe('answer edges', () => {
  it('-4095 is the last errno; -4096 is a plain (negative) return value', () => {
    assert.deepEqual(syscallReturn(-4095n), { errno: 'E4095' }, 'an errno the table does not list is named by its number');
    assert.deepEqual(syscallReturn(-22n), { errno: 'EINVAL' });
    assert.equal((syscallReturn(-4096n) as { ret: number }).ret, -4096);
    assert.equal((syscallReturn(0n) as { ret: number }).ret, 0);
    assert.equal((syscallReturn((1n << 32n) + 5n) as { ret: number }).ret, 5, '§1.4: truncated to int');
  });

  it('a result line names the process for every kind of answer outside p0, and for none in p0', () => {
    const op = (proc: string): Op => ({ kind: 'close', r: 'r0', line: 7, proc }) as Op;
    assert.deepEqual(resultOf(op('c1'), fail('EBADF')), { i: 7, op: 'close', proc: 'c1', errno: 'EBADF' });
    assert.deepEqual(resultOf(op('c1'), ok(5)), { i: 7, op: 'close', proc: 'c1', ret: 5 });
    assert.deepEqual(resultOf(op('p0'), fail('EBADF')), { i: 7, op: 'close', errno: 'EBADF' });
    assert.deepEqual({ ...resultOf(op('p0'), ok(1)) }, { i: 7, op: 'close', ret: 1 });
  });
});
