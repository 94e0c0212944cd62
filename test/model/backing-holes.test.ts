/**
 * The backing shmem file's pages under a purge's hole punch (§5.1) and a memfd's ftruncate
 * (mm/shmem.c `shmem_setattr` → `truncate_setsize`: pages wholly beyond the new size are dropped,
 * the tail of a partial last page is zeroed, nothing below it changes), seen through mappings.
 */
import assert from 'node:assert/strict';
import { predict, type Prediction } from '../../harness/check/predict.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';

const PAGE = 4096;

/** The rle of the script's last line (a `check`), which must have one outcome. */
function lastCheck(profile: string, lines: readonly string[], root = false): unknown {
  const ps = predict(parseScript(`${lines.join('\n')}\n`), profileById(profile), { ...DEFAULT_ENVIRONMENT, root });
  const last = ps[ps.length - 1] as Prediction;
  assert.ok(!('oneOf' in last), 'one outcome');
  assert.equal(last.op, 'check');
  return last.rle;
}

/** A two-page memfd r0, mapped shared as m0 and filled with 5. */
const MEMFD = ['open r0 rdwr', `truncate r0 ${2 * PAGE}`, `mmap m0 r0 ${2 * PAGE} 3 shared 0`, `fill m0 0 ${2 * PAGE} 5`];

describe('backing file pages: purge holes and ftruncate (§5.1, shmem truncate)', () => {
  it('§5.1 a purge punches only the unpinned range: a written page beyond it keeps its data even when the range spans more pages than the file holds', () => {
    const rle = lastCheck('ack-c', [
      'open r0 rdwr', `set_size r0 ${8 * PAGE}`, `mmap m0 r0 ${8 * PAGE} 3 shared 0`,
      `fill m0 0 ${2 * PAGE} 1`, `fill m0 ${5 * PAGE} ${PAGE} 2`, // three pages hold data: 0, 1 and 5
      `unpin r0 0 ${4 * PAGE}`, 'open r1 rdwr', 'purge_all r1', `pin r0 0 ${4 * PAGE}`,
      `check m0 0 ${8 * PAGE}`,
    ], true);
    assert.deepEqual(rle, [[0, 5 * PAGE], [2, PAGE], [0, 2 * PAGE]]);
  });

  it('ftruncate to a page boundary drops the pages beyond it and leaves the last kept page whole', () => {
    assert.deepEqual(lastCheck('linux-memfd', [...MEMFD, `truncate r0 ${PAGE}`, `check m0 0 ${PAGE}`]), [[5, PAGE]]);
  });

  it('ftruncate to one byte short of a page boundary drops the next page: growing the file again shows zeros there', () => {
    const rle = lastCheck('linux-memfd', [...MEMFD, `truncate r0 ${PAGE - 1}`, `truncate r0 ${2 * PAGE}`, `check m0 0 ${2 * PAGE}`]);
    // The byte past the new size in page 0 is zeroed too (the partial page's tail).
    assert.deepEqual(rle, [[5, PAGE - 1], [0, PAGE + 1]]);
  });

  it('ftruncate to 0 drops every page: growing the file again reads zeros', () => {
    assert.deepEqual(lastCheck('linux-memfd', [...MEMFD, 'truncate r0 0', `truncate r0 ${2 * PAGE}`, `check m0 0 ${2 * PAGE}`]), [[0, 2 * PAGE]]);
  });
});
