/**
 * harness/model/commit.ts: which charges an mmap makes, and that MAP_NORESERVE removes them
 * (mm/mmap.c do_mmap and accountable_mapping, mm/shmem.c shmem_acct_size, ashmem_mmap).
 */
import assert from 'node:assert/strict';
import { MAP_KINDS, mapNoReserve, mapType } from '../../harness/ops/ast.js';
import { mmapCommit } from '../../harness/model/commit.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { predict } from '../../harness/check/predict.js';
import { parseScript } from '../../harness/ops/parse.js';

const GIB4 = 1n << 32n;
const LEN = 8192n;

describe('mmap commit accounting (MAP_NORESERVE)', () => {
  it('names the sharing type and the flag of every kind', () => {
    assert.deepEqual(MAP_KINDS.map(mapType), ['shared', 'private', 'shared', 'private']);
    assert.deepEqual(MAP_KINDS.map(mapNoReserve), [false, false, true, true]);
  });

  it('charges a new ashmem backing file its size, and a shared mapping its length for the moment of shmem_zero_setup', () => {
    assert.deepEqual(mmapCommit({ map: 'shared', prot: 3, alignedLen: LEN, ashmem: true, newFileSize: GIB4 }), { backingFile: GIB4, transient: LEN, mapping: 0n });
    // The file exists: only the transient charge.
    assert.deepEqual(mmapCommit({ map: 'shared', prot: 3, alignedLen: LEN, ashmem: true, newFileSize: null }), { backingFile: 0n, transient: LEN, mapping: 0n });
  });

  it('charges a private mapping its length only when writable', () => {
    assert.deepEqual(mmapCommit({ map: 'private', prot: 3, alignedLen: LEN, ashmem: true, newFileSize: GIB4 }), { backingFile: GIB4, transient: 0n, mapping: LEN });
    assert.deepEqual(mmapCommit({ map: 'private', prot: 1, alignedLen: LEN, ashmem: true, newFileSize: null }), { backingFile: 0n, transient: 0n, mapping: 0n });
  });

  it('charges a memfd (created VM_NORESERVE) nothing but a private writable mapping', () => {
    assert.deepEqual(mmapCommit({ map: 'shared', prot: 3, alignedLen: LEN, ashmem: false, newFileSize: null }), { backingFile: 0n, transient: 0n, mapping: 0n });
    assert.deepEqual(mmapCommit({ map: 'private', prot: 2, alignedLen: LEN, ashmem: false, newFileSize: null }), { backingFile: 0n, transient: 0n, mapping: LEN });
  });

  it('charges nothing at all under MAP_NORESERVE', () => {
    for (const map of ['shared_noreserve', 'private_noreserve'] as const) {
      for (const ashmem of [true, false]) {
        assert.deepEqual(mmapCommit({ map, prot: 3, alignedLen: LEN, ashmem, newFileSize: ashmem ? GIB4 : null }), { backingFile: 0n, transient: 0n, mapping: 0n }, `${map} ${ashmem}`);
      }
    }
  });

  it('maps a _noreserve kind as its sharing type: shared pages are the region, private ones anonymous (§3.5 step 6)', () => {
    const text = 'open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared_noreserve 0\nfill m0 0 8192 9\nmmap m1 r0 8192 3 private_noreserve 0\ncheck m1 0 8192\nmmap m2 r0 8192 3 shared 0\ncheck m2 0 8192\nset_size r0 4096\n';
    const p = predict(parseScript(text), profileById('c-final'), DEFAULT_ENVIRONMENT);
    assert.deepEqual(p.slice(0, 8).map((x) => ('ret' in x ? x.ret : x)), [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(p[5], { i: 6, op: 'check', ret: 0, rle: [[0, 8192]] });
    assert.deepEqual(p[7], { i: 8, op: 'check', ret: 0, rle: [[9, 8192]] });
    assert.deepEqual(p[8], { i: 9, op: 'set_size', errno: 'EINVAL' }); // the noreserve mmap created and froze the file
  });
});
