/**
 * The layering of the model (issue 12 §8): the kernel runs the probe's ops only; a Device runs
 * the Java layer above it, through libcutils, and copies the app's objects with its worlds.
 */
import assert from 'node:assert/strict';
import { Device } from '../../harness/model/device.js';
import { Kernel } from '../../harness/model/kernel.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';

const ENV = { ...DEFAULT_ENVIRONMENT, apiLevel: 33 };
const SCRIPT = 'mf_create f0 "x" 8192\nmf_allow_purging f0 true\napp_wait "purge" 1000\nmf_read f0 4 0 0 4\n';

describe('Device: the Java layer above the kernel (§7, §8)', () => {
  it('the kernel refuses an op of the Java layer instead of answering it', () => {
    const k = new Kernel(profileById('ack-c').features, ENV);
    const [create] = parseScript(SCRIPT).ops;
    assert.throws(() => k.apply(create!), /mf_create \(line 1\) is an op of the Java layer/);
  });

  it('runs MemoryFile ops through libcutils on its kernel: one area, its range on the LRU after allow_purging', () => {
    const d = Device.create(profileById('ack-c').features, ENV);
    const ops = parseScript(SCRIPT).ops;
    assert.deepEqual(d.apply(ops[0]!), { i: 1, op: 'mf_create', ret: 0 });
    assert.equal(d.kernel.areas.size, 1);
    assert.equal(d.apply(ops[1]!).ret, 0);
    assert.deepEqual(d.lruPages(), [2]);
    // While the app waits the harness may purge: nothing, or the one range.
    assert.deepEqual(d.choices(ops[2]!), [0, 1]);
    assert.equal(d.choices(ops[0]!), undefined);
  });

  it('a clone is another world: purging it changes neither the original kernel nor its app objects', () => {
    const d = Device.create(profileById('ack-c').features, ENV);
    const ops = parseScript(SCRIPT).ops;
    for (const op of ops.slice(0, 2)) d.apply(op);
    const c = d.clone();
    assert.equal(c.key(), d.key());
    c.apply(ops[2]!, 1);
    assert.deepEqual(c.apply(ops[3]!), { i: 4, op: 'mf_read', exception: 'java.io.IOException', message: 'MemoryFile has been purged' });
    assert.notEqual(c.key(), d.key());
    d.apply(ops[2]!, 0);
    assert.deepEqual(d.apply(ops[3]!), { i: 4, op: 'mf_read', ret: 4, rle: [[0, 4]] });
  });

  it('choices default to an exclusive machine and any LRU prefix (§3.7, §5.3)', () => {
    const d = Device.create(profileById('c-final').features, DEFAULT_ENVIRONMENT);
    const ops = parseScript('open r0\nset_size r0 12288\nmmap m0 r0 12288 3 shared 0\nunpin r0 0 4096\nunpin r0 4096 4096\nunpin r0 8192 4096\npurge_all r0\npressure 64 1\n').ops;
    for (const op of ops.slice(0, 6)) d.apply(op);
    // An uncontended PURGE_ALL_CACHES is deterministic; a contended one may purge any prefix.
    assert.equal(d.choices(ops[6]!), undefined);
    assert.deepEqual(d.choices(ops[6]!, true), [0, 1, 2, 3]);
    // Pressure may purge any prefix unless the batch model is asked for.
    assert.deepEqual(d.choices(ops[7]!), [0, 1, 2, 3]);
    assert.deepEqual(d.choices(ops[7]!, false, 'batches'), [0, 3]);
  });

  it('only app_wait forgets the kernel\'s deferred shrinker count (the harness may reclaim while the app waits)', () => {
    const d = Device.create(profileById('ack-c').features, ENV);
    const ops = parseScript(SCRIPT).ops;
    d.kernel.shrinkerDeferred = 5;
    d.apply(ops[0]!);
    d.apply(ops[1]!);
    assert.equal(d.kernel.shrinkerDeferred, 5);
    d.apply(ops[2]!);
    assert.equal(d.kernel.shrinkerDeferred, undefined);
  });
});
