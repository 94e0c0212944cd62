/**
 * The ops issue 12 §4 added to the grammar, run by the host probe against this machine's kernel
 * (a memfd backend: no ashmem here) and judged by the model's `linux-memfd` profile: negative
 * lseek offsets, munmap_range (holes, mprotect and mincore across them), drop_cap, ioctl_buf and
 * set_name_at_page_end reach the kernel and answer what the model predicts.
 */
import assert from 'node:assert/strict';
import { environmentFromHello } from '../../harness/check/environment.js';
import { judge } from '../../harness/check/judge.js';
import { QUIET } from '../../harness/check/worlds.js';
import { profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';
import type { ProbeHello } from '../../harness/targets/target.js';
import { ensureProbesBuilt, HOST_HAS_ASHMEM, HOST_IS_ANDROID, runProbe, script } from './support.js';

const TEXT = script(
  'open r0', 'truncate r0 16384', 'mmap m0 r0 16384 3 shared 0', 'fill m0 0 16384 9',
  'lseek r0 100 set', 'lseek r0 -50 cur', 'lseek r0 -51 cur', 'lseek r0 0 cur', 'lseek r0 -10 end', 'lseek r0 -1 set', 'lseek r0 -1 data', 'lseek r0 -1 hole',
  'munmap_range m0 4096 4096', 'check m0 0 4096', 'check m0 4096 1', 'check m0 8192 8192', 'munmap_range m0 1 4096', 'munmap_range m0 0 0',
  'mincore m0 0 8192', 'mprotect m0 1', 'fill m0 0 1 1', 'fill m0 8192 1 1', 'munmap_range m0 0 20000', 'munmap m0',
  'fork p1', 'p1: drop_cap sys_admin', 'exit p1', 'drop_cap sys_admin',
  'set_name_at_page_end r0 "abc"', 'ioctl_buf r0 0x7709 ""',
);

describe('new ops through the host probe and the kernel (memfd backend, linux-memfd profile)', function () {
  this.timeout(60_000);
  let results: OpResult[] = [];
  let hello: ProbeHello | undefined;

  before(async function () {
    this.timeout(120_000);
    // An ashmem or Android kernel answers the ashmem ioctls: this test is about a plain Linux.
    if (HOST_HAS_ASHMEM || HOST_IS_ANDROID) this.skip();
    ensureProbesBuilt();
    const run = await runProbe('host', TEXT, ['--backend', 'memfd']);
    hello = (run.json.find((j) => 'hello' in j) as { hello: ProbeHello } | undefined)?.hello;
    results = run.json.filter((j) => typeof j['i'] === 'number') as unknown as OpResult[];
  });

  it('answers what the kernel says for each new op', () => {
    const show = (r: OpResult | undefined): unknown => r?.ret ?? r?.errno ?? r?.signal ?? r?.error;
    assert.deepEqual(results.slice(4).map(show), [
      100, 50, 'EINVAL', 50, 16374, 'EINVAL', 'ENXIO', 'ENXIO',
      0, 0, 'SIGSEGV', 0, 'EINVAL', 'EINVAL',
      'ENOMEM', 'ENOMEM', 'SIGSEGV', 0, 'state', 0,
      0, 0, 0, 0,
      'ENOTTY', 'ENOTTY',
    ]);
  });

  it('reports RAM and swap in the hello line, and the judge finds every result consistent with the model', () => {
    assert.ok(hello !== undefined && typeof hello.mem_bytes === 'number' && hello.mem_bytes > 0, JSON.stringify(hello));
    const env = environmentFromHello(hello);
    assert.equal(env.memoryBytes, (hello.mem_bytes ?? 0) + (hello.swap_bytes ?? 0));
    const v = judge(parseScript(TEXT), results, profileById('linux-memfd'), env, { ...QUIET, otherUsers: false });
    assert.equal(v.kind, 'consistent', JSON.stringify(v));
  });
});
