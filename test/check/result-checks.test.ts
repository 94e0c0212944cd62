/**
 * The shape rules of a result line (docs/op-scripts.md "Results"; harness/check/result-checks.ts),
 * one rule per case: a line that breaks one is a usage error naming the field, never judged.
 * Written against the mutation report (issue 12 §7): each case fails when one check is dropped.
 */
import assert from 'node:assert/strict';
import { belongingProblem, opsByLine, ResultsMismatchError, shapeProblem } from '../../harness/check/result-checks.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

const at = 'result for line 4 (check)';
const line = (extra: Record<string, unknown>): Record<string, unknown> => ({ i: 4, op: 'check', ...extra });

describe('result line shape (result-checks.ts)', () => {
  it('accepts a well-formed line with every optional field', () => {
    assert.equal(shapeProblem(line({ ret: 0, proc: 'p1', message: 'm', rle: [[0, 1], [255, 4096]], name: 'n', copied: 3, id: 7, resident: [[1, 2]], mode: 'chr', size: 0 })), undefined);
    for (const outcome of [{ ret: -2147483648 }, { errno: 'EINVAL' }, { signal: 'SIGBUS' }, { exception: 'java.io.IOException' }, { error: 'skipped' }]) {
      assert.equal(shapeProblem(line(outcome)), undefined, JSON.stringify(outcome));
    }
    assert.equal(shapeProblem(line({ ret: 0, rle: [] })), undefined, 'no bytes is a valid run list');
  });

  it('the line number is a positive safe integer', () => {
    for (const i of [0, -1, 1.5, 2 ** 53, '4', undefined]) {
      assert.match(shapeProblem({ i, op: 'check', ret: 0 }) ?? '', /^"i" must be the op's script line number \(a positive integer\), got /, String(i));
    }
    assert.equal(shapeProblem({ i: 1, op: 'check', ret: 0 }), undefined);
  });

  it('the op is a non-empty string', () => {
    assert.equal(shapeProblem({ i: 4, op: '', ret: 0 }), 'result for line 4: "op" must name the op, got ""');
    assert.equal(shapeProblem({ i: 4, op: 3, ret: 0 }), 'result for line 4: "op" must name the op, got 3');
  });

  it('exactly one outcome field, named when there are several', () => {
    assert.equal(shapeProblem(line({})), `${at}: no outcome field: a result has exactly one of ret, errno, signal, exception, error`);
    assert.equal(shapeProblem(line({ signal: 'SIGBUS', exception: 'X' })), `${at}: 2 outcome fields (signal and exception): a result has exactly one`);
    assert.equal(shapeProblem(line({ errno: 'EINVAL', error: 'state' })), `${at}: 2 outcome fields (errno and error): a result has exactly one`);
    assert.equal(shapeProblem(line({ ret: 0, errno: 'EINVAL', signal: 'SIGBUS' })), `${at}: 3 outcome fields (ret and errno and signal): a result has exactly one`);
  });

  it('string fields are strings', () => {
    for (const f of ['errno', 'signal', 'exception', 'error']) {
      assert.equal(shapeProblem(line({ [f]: 22 })), `${at}: "${f}" must be a string, got 22`);
    }
    for (const f of ['proc', 'message', 'name', 'mode']) {
      assert.equal(shapeProblem(line({ ret: 0, [f]: 1 })), `${at}: "${f}" must be a string, got 1`);
    }
  });

  it('integer fields are safe integers', () => {
    assert.equal(shapeProblem(line({ ret: 0.5 })), `${at}: "ret" must be an integer, got 0.5`);
    for (const f of ['copied', 'id', 'size']) {
      assert.equal(shapeProblem(line({ ret: 0, [f]: 1.5 })), `${at}: "${f}" must be an integer, got 1.5`);
      assert.equal(shapeProblem(line({ ret: 0, [f]: '1' })), `${at}: "${f}" must be an integer, got "1"`);
    }
  });

  it('byte runs: pairs of a byte 0-255 and a positive count', () => {
    const bad: unknown[] = [{}, [[0]], [[0, 1, 2]], [7], [[-1, 1]], [[256, 1]], [[1.5, 1]], [['a', 1]], [[0, 0]], [[0, 1.5]], [[0, '1']], [[0, 2 ** 53]]];
    for (const v of bad) {
      assert.match(shapeProblem(line({ ret: 0, rle: v })) ?? '', /"rle" must be byte runs \[\[byte, count\], \.\.\.\] with counts above 0, got /, JSON.stringify(v));
      assert.match(shapeProblem(line({ ret: 0, resident: v })) ?? '', /"resident" must be byte runs/, JSON.stringify(v));
    }
    assert.equal(shapeProblem(line({ ret: 0, rle: [[0, 2 ** 53 - 1], [255, 1]] })), undefined);
  });

  it('a long bad value is cut to 40 characters in the message (a line may be megabytes)', () => {
    const long = 'x'.repeat(100);
    assert.equal(shapeProblem(line({ errno: 5, name: 0 })), `${at}: "errno" must be a string, got 5`);
    assert.equal(shapeProblem(line({ ret: 0, mode: [long] })), `${at}: "mode" must be a string, got ["${'x'.repeat(35)}...`);
    assert.equal(shapeProblem(line({ ret: 0, mode: ['x'.repeat(37)] })), `${at}: "mode" must be a string, got ["${'x'.repeat(35)}...`);
    assert.equal(shapeProblem(line({ ret: 0, mode: ['x'.repeat(36)] })), `${at}: "mode" must be a string, got ["${'x'.repeat(36)}"]`);
  });

  it('its error type names itself and carries the bad result\'s position', () => {
    const e = new ResultsMismatchError('m', 3);
    assert.deepEqual([e.name, e.message, e.index], ['ResultsMismatchError', 'm', 3]);
  });

  describe('belonging to the script', () => {
    const script = parseScript('open r0\nset_size r0 4096\n\nget_size r0\n');
    const ops = opsByLine(script);
    const res = (i: number, op: string, extra: Partial<OpResult> = {}): OpResult => ({ i, op, ret: 0, ...extra });

    it('names the span of the script\'s lines when a result has no op', () => {
      assert.equal(belongingProblem(res(3, 'get_size'), ops.get(3), script.ops), 'result for line 3 (get_size): the script has no op on line 3 (the script\'s ops are on lines 1–4)');
    });
    it('the op name must be the line\'s, unless the target could not parse the line', () => {
      assert.equal(belongingProblem(res(4, 'set_size'), ops.get(4), script.ops), 'result for line 4 is for "set_size", but line 4 of the script is "get_size"');
      assert.equal(belongingProblem({ i: 4, op: 'get_sizeX', error: 'parse' }, ops.get(4), script.ops), undefined);
      assert.equal(belongingProblem(res(4, 'get_size'), ops.get(4), script.ops), undefined);
    });
    it('the process must be the line\'s (p0 when not named)', () => {
      assert.equal(belongingProblem(res(4, 'get_size', { proc: 'p1' }), ops.get(4), script.ops), 'result for line 4 (get_size) ran in process p1, but the script runs line 4 in p0');
      assert.equal(belongingProblem(res(4, 'get_size', { proc: 'p0' }), ops.get(4), script.ops), undefined);
    });
  });
});
