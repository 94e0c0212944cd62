/**
 * The model's environment from a probe's hello line (harness/check/environment.ts): what the
 * target reports is used, what it leaves out keeps the default.
 */
import assert from 'node:assert/strict';
import { environmentFromHello } from '../../harness/check/environment.js';
import { DEFAULT_ENVIRONMENT } from '../../harness/model/profile.js';
import type { ProbeHello } from '../../harness/targets/target.js';

describe('environment from a hello line', () => {
  it('takes page size, uid, word sizes, kernel version and RAM plus swap from a full hello', () => {
    const h: ProbeHello = { probe: '0.1.0', kernel: '5.10.0-30-amd64', machine: 'x86_64', abi: 'x86', bits: 32, backend: 'ashmem', uid: 1000, page_size: 16384, mem_bytes: 512 * 2 ** 20, swap_bytes: 2 ** 20, features: [] };
    assert.deepEqual(environmentFromHello(h), {
      ...DEFAULT_ENVIRONMENT, pageSize: 16384, root: false, callerBits: 32, kernelBits: 64, kernelSeeksWithoutFmode: false, kernelVersion: [5, 10], memoryBytes: 513 * 2 ** 20,
    });
  });

  it('keeps the defaults for what a partial hello leaves out (no undefined page or word size)', () => {
    assert.deepEqual(environmentFromHello({ probe: '0.1.0' } as unknown as ProbeHello), DEFAULT_ENVIRONMENT);
  });
});
