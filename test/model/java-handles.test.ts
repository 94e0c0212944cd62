/**
 * The Java objects as owners of kernel resources (§8.1–§8.3): each MemoryFile and SharedMemory has
 * its own region and mapping, close() gives them back (so nothing of them is left to purge), a
 * reported purge leaves the region unpinned before API 27, and ByteBuffer accesses fault or throw
 * exactly as the fixture's put/get loops would.
 */
import assert from 'node:assert/strict';
import { predict, type Prediction } from '../../harness/check/predict.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';

function lines(profile: string, api: number, text: string, env: Partial<typeof DEFAULT_ENVIRONMENT> = {}): Prediction[] {
  return predict(parseScript(text), profileById(profile), { ...DEFAULT_ENVIRONMENT, apiLevel: api, ...env });
}

/** A line with a single outcome (and, for a purge trigger, the purge choices it admits). */
type Single = Exclude<Prediction, { oneOf: unknown }>;

/** The one result of a line that has a single outcome. */
function only(p: Prediction | undefined): Single {
  assert.ok(p !== undefined && !('oneOf' in p), `expected one outcome, got ${JSON.stringify(p)}`);
  return p;
}

/** The purge choices an app_wait line admits (none: nothing unpinned is left to purge). */
function admits(p: Prediction | undefined): readonly number[] {
  return only(p).admits?.purged_ranges ?? [];
}

describe('Java objects and the kernel resources they hold (§8.1–§8.3)', () => {
  for (const api of [26, 33]) {
    it(`§8.1/§8.2 API ${api}: two MemoryFiles have their own regions and mappings; closing one leaves the other usable`, () => {
      const ps = lines('ack-c', api, [
        'mf_create f0 "a" 4096', 'mf_create f1 "b" 4096',
        'mf_write f0 4 0 0 4 1', 'mf_write f1 4 0 0 4 2',
        'mf_read f0 4 0 0 4', 'mf_read f1 4 0 0 4',
        'mf_close f0', 'mf_allow_purging f1 true', 'mf_read f1 4 0 0 4',
      ].join('\n') + '\n');
      assert.deepEqual(only(ps[4]).rle, [[1, 4]]);
      assert.deepEqual(only(ps[5]).rle, [[2, 4]]);
      assert.equal(only(ps[7]).ret, 0); // allowPurging(true) on f1 unpins f1's region, still open: returns the old value false
      assert.deepEqual(only(ps[8]).rle, [[2, 4]]);
    });
  }

  it('§8.3 two SharedMemory objects have their own regions: setProtect on one does not restrict maps of the other', () => {
    const ps = lines('ack-c', 33, 'sm_create s0 "a" 4096\nsm_create s1 "b" 4096\nsm_set_protect s0 1\nsm_map_rw b1 s1\nsm_map_rw b0 s0\n');
    assert.equal(only(ps[2]).ret, 1);
    assert.equal(only(ps[3]).ret, 0);
    // §8.3 / CTS testWriteToReadOnly: the region whose mask lost WRITE refuses a writable map with EPERM.
    assert.equal(only(ps[4]).exception, 'android.system.ErrnoException');
    assert.match(only(ps[4]).message ?? '', /^mmap failed: EPERM/);
  });

  for (const api of [26, 33]) {
    it(`§8.1/§8.2 API ${api}: close() unmaps and closes the region, so an unpinned MemoryFile leaves nothing for a purge`, () => {
      const open = lines('ack-c', api, 'mf_create f0 "m" 8192\nmf_allow_purging f0 true\napp_wait "w" 10\n');
      assert.deepEqual(admits(open[2]), [0, 1]); // while it is open its one unpinned range may be purged
      const closed = lines('ack-c', api, 'mf_create f0 "m" 8192\nmf_allow_purging f0 true\nmf_close f0\napp_wait "w" 10\n');
      assert.deepEqual(admits(closed[3]), []); // the last reference went: the range left the LRU (§5.1)
    });
  }

  it('§8.1 before API 27: after "ashmem region was purged" the region is unpinned again, so it may be purged again', () => {
    const ps = lines('ack-c', 26, 'mf_create f0 "m" 8192\nmf_allow_purging f0 true\nopen r0 rdwr\npurge_all r0\nmf_read f0 4 0 0 4\napp_wait "w" 10\n', { root: true });
    assert.deepEqual([only(ps[4]).exception, only(ps[4]).message], ['java.io.IOException', 'ashmem region was purged']);
    assert.deepEqual(admits(ps[5]), [0, 1]);
  });

  it('§8.3 the fixture\'s put/get loops: a length of 0 touches nothing, so it succeeds even on a read-only, unmapped or out-of-range buffer', () => {
    const ps = lines('ack-c', 33, 'sm_create s0 "a" 4096\nsm_map_ro b0 s0\nbuf_put b0 0 0 1\nbuf_get b0 9000 0\nsm_map_rw b1 s0\nsm_unmap b1\nbuf_put b1 0 0 1\nbuf_get b1 0 0\nbuf_put b0 0 1 1\n');
    assert.deepEqual(ps.slice(2, 4).map((p) => only(p).ret), [0, 0]);
    assert.deepEqual(ps.slice(6, 8).map((p) => only(p).ret), [0, 0]);
    assert.equal(only(ps[8]).exception, 'java.nio.ReadOnlyBufferException'); // the first put of a longer run throws
  });

  it('§8.3 a put starting at a negative index throws at once: no byte of the run is stored', () => {
    const ps = lines('ack-c', 33, 'sm_create s0 "a" 4096\nsm_map_rw b0 s0\nbuf_put b0 -1 4 7\nbuf_get b0 0 4\n');
    assert.equal(only(ps[2]).exception, 'java.lang.IndexOutOfBoundsException');
    assert.deepEqual(only(ps[3]).rle, [[0, 4]]);
  });

  it('§8.3 a get through a PROT_NONE map faults (SIGSEGV) instead of returning bytes', () => {
    const ps = lines('ack-c', 33, 'sm_create s0 "a" 4096\nsm_map b0 s0 0 0 4096\nbuf_get b0 0 1\n');
    assert.equal(only(ps[1]).ret, 0);
    assert.equal(only(ps[2]).signal, 'SIGSEGV');
  });

  it('§8.3 map at an offset that is not page aligned: mmap EINVAL, reported as ErrnoException "mmap failed: EINVAL (Invalid argument)"', () => {
    const ps = lines('ack-c', 33, 'sm_create s0 "a" 8192\nsm_map b0 s0 3 100 4096\n');
    assert.deepEqual([only(ps[1]).exception, only(ps[1]).message], ['android.system.ErrnoException', 'mmap failed: EINVAL (Invalid argument)']);
  });

  it('a buffer whose map threw still holds nothing in every world an app_wait makes (the per-world copy keeps it empty)', () => {
    const ps = lines('ack-c', 33, 'mf_create f0 "m" 8192\nmf_allow_purging f0 true\nsm_create s0 "a" 4096\nsm_map b0 s0 8 0 4096\napp_wait "w" 10\nbuf_get b0 0 1\n');
    assert.deepEqual(admits(ps[4]), [0, 1]); // two worlds: the copies were made
    const r = only(ps[5]);
    assert.equal(r.error, 'state');
    assert.match(r.message ?? '', /^b0 holds nothing/);
  });

  it('SharedMemory below API 27 is unsupported, and the message says which API it needs and which the device runs', () => {
    const r = only(lines('c-pre2019', 26, 'sm_create s0 "a" 4096\n')[0]);
    assert.equal(r.error, 'unsupported');
    assert.match(r.message ?? '', /API 27/);
    assert.match(r.message ?? '', /API 26/);
  });
});
