/**
 * The probe's result path for kernel answers that are negative but not failures (issue 12 §5):
 * only -1 from the C library is a failure; GET_SIZE of a 2 GiB region is the value -2147483648
 * (ashmem-semantics §1.4, §12). The host kernel has no ashmem, so these run the TEST ONLY build
 * whose SET_SIZE/GET_SIZE reach a user-space stand-in of the driver (apk-fixtures/probe/test/).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ensureFakeAshmemBuilt, script } from './support.js';

let probe = '';

before(function () {
  this.timeout(120_000);
  probe = ensureFakeAshmemBuilt();
});

function results(text: string): Record<string, unknown>[] {
  const out = spawnSync(probe, [], { input: Buffer.from(text, 'utf8'), encoding: 'utf8' });
  return out.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>).filter((j) => typeof j['i'] === 'number');
}

describe('negative kernel answers (fake driver, TEST ONLY build)', function () {
  this.timeout(30_000);

  it('reports GET_SIZE of a 0x80000000-byte region as ret -2147483648, not as a failure', () => {
    const r = results(script('open r0', 'set_size r0 0x80000000', 'get_size r0'));
    assert.deepEqual(r[2], { i: 3, op: 'get_size', ret: -2147483648 });
  });

  it('reports other negative ints as values too, and -1 with errno as a failure', () => {
    const r = results(script('open r0', 'set_size r0 0xfffff000', 'get_size r0', 'set_size r0 0xffffffea', 'get_size r0', 'set_size r0 0x100002000', 'get_size r0'));
    assert.deepEqual(r[2], { i: 3, op: 'get_size', ret: -4096 });
    // -22 is inside -4095..-1, which the C library turns into -1 with errno EINVAL (§12).
    assert.deepEqual(r[4], { i: 5, op: 'get_size', errno: 'EINVAL' });
    assert.deepEqual(r[6], { i: 7, op: 'get_size', ret: 8192 });
  });

  it('passes the same negative value through a raw ioctl of the GET_SIZE number', () => {
    const r = results(script('open r0', 'set_size r0 0x80000000', 'ioctl r0 0x7704 0'));
    assert.deepEqual(r[2], { i: 3, op: 'ioctl', ret: -2147483648 });
  });
});
