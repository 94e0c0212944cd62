/**
 * The probe's result path for kernel answers that are negative but not failures (issue 12 §5):
 * only -1 from the C library is a failure; GET_SIZE of a 2 GiB region is the value -2147483648
 * (ashmem-semantics §1.4, §12). The host kernel has no ashmem, so these run the TEST ONLY build
 * whose SET_SIZE/GET_SIZE reach a user-space stand-in of the driver (apk-fixtures/probe/test/).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ensureFakeAshmemBuilt, script, skipUnlessNative } from './support.js';

/** The fake-driver builds: this host's word size, and 32-bit x86 (compat numbers, 32-bit long). */
const BUILDS = [
  { build: 'fake-ashmem', abi: 'host', bits: 64 },
  { build: 'fake-ashmem-x86', abi: 'x86', bits: 32 },
] as const;

for (const { build, abi, bits } of BUILDS) {
  describe(`negative kernel answers (${build}, ${bits}-bit, TEST ONLY build)`, function () {
    this.timeout(30_000);
    let probe = '';

    before(function () {
      this.timeout(120_000);
      // The 32-bit build runs only where the kernel executes 32-bit x86 binaries itself.
      if (abi === 'x86') skipUnlessNative(this, 'x86', 'the 32-bit fake-ashmem probe');
      probe = ensureFakeAshmemBuilt(build);
    });

    function results(text: string): Record<string, unknown>[] {
      const out = spawnSync(probe, [], { input: Buffer.from(text, 'utf8'), encoding: 'utf8' });
      return out.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>).filter((j) => typeof j['i'] === 'number');
    }

    it('reports GET_SIZE of a 0x80000000-byte region as ret -2147483648, not as a failure', () => {
      const r = results(script('open r0', 'set_size r0 0x80000000', 'get_size r0'));
      assert.deepEqual(r[2], { i: 3, op: 'get_size', ret: -2147483648 });
    });

    it('reports other negative ints as values too, and -1 with errno as a failure', () => {
      const r = results(script('open r0', 'set_size r0 0xfffff000', 'get_size r0', 'set_size r0 0xffffffea', 'get_size r0', 'set_size r0 0x100002000', 'get_size r0'));
      assert.deepEqual(r[2], { i: 3, op: 'get_size', ret: -4096 });
      // -22 is inside -4095..-1, which the C library turns into -1 with errno EINVAL (§12).
      assert.deepEqual(r[4], { i: 5, op: 'get_size', errno: 'EINVAL' });
      // 64-bit: the kernel's int keeps the low 32 bits; 32-bit: the size_t argument already did.
      assert.deepEqual(r[6], { i: 7, op: 'get_size', ret: 8192 });
    });

    it('passes the same negative value through a raw ioctl of the GET_SIZE number', () => {
      const r = results(script('open r0', 'set_size r0 0x80000000', 'ioctl r0 0x7704 0'));
      assert.deepEqual(r[2], { i: 3, op: 'ioctl', ret: -2147483648 });
    });
  });
}
