/**
 * Protections and holes of mappings in the model kernel (harness/model/kernel.ts):
 * READ_IMPLIES_EXEC in mmap and mprotect (mm/mmap.c do_mmap, mm/mprotect.c do_mprotect_pkey:
 * PROT_EXEC is added only when PROT_READ is asked and the vma may exec), VM_MAYWRITE dropped for
 * MAP_SHARED on a read-only fd (mm/mmap.c do_mmap, §3.5 "Generic kernel checks"), mprotect and
 * mincore over a munmap'ed hole (mm/mprotect.c: a hole at the start is ENOMEM before any
 * permission check), and what qemu-user answers itself. Exec is made visible through a
 * PROT_NONE page: with exec it is readable (x86: exec implies read, DEFAULT_ENVIRONMENT), without
 * it a load faults. Kills mutation survivors of kernel.ts.
 */
import assert from 'node:assert/strict';
import { Kernel } from '../../harness/model/kernel.js';
import { DEFAULT_ENVIRONMENT, profileById, type Environment } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

const QEMU: Environment = { ...DEFAULT_ENVIRONMENT, ioctlEmulation: 'qemu-user' };

function run(profile: string, text: string, env: Environment = DEFAULT_ENVIRONMENT): OpResult[] {
  const k = new Kernel(profileById(profile).features, env);
  return parseScript(text).ops.map((op) => k.apply(op));
}

/** Each result as its signal, errno or error kind, else its ret. */
const outcomes = (rs: readonly OpResult[]): (string | number | undefined)[] => rs.map((r) => r.signal ?? r.errno ?? r.error ?? r.ret);

/** A 2-page ashmem region mapped shared read-write as m0. */
const MAPPED = 'open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared 0\n';

describe('kernel: READ_IMPLIES_EXEC', () => {
  it('without the personality, mprotect(PROT_NONE) leaves the page unreadable', () => {
    assert.deepEqual(outcomes(run('c-final', `${MAPPED}mprotect m0 0\ncheck m0 0 1\n`).slice(3)), [0, 'SIGSEGV']);
  });

  it('with it, mprotect(PROT_NONE) still adds no exec (no PROT_READ asked): a load faults', () => {
    assert.deepEqual(outcomes(run('c-final', `${MAPPED}personality read_implies_exec\nmprotect m0 0\ncheck m0 0 1\n`).slice(4)), [0, 'SIGSEGV']);
  });

  it('with it, mprotect(PROT_READ|PROT_WRITE) keeps both: a store and a load through the mapping work', () => {
    const rs = run('c-final', `${MAPPED}personality read_implies_exec\nmprotect m0 3\nfill m0 0 2 9\ncheck m0 0 2\nmprotect m0 1\ncheck m0 0 2\n`);
    assert.deepEqual(outcomes(rs.slice(4)), [0, 0, 0, 0, 0]);
    assert.deepEqual(rs[6]?.rle, [[9, 2]]);
    assert.deepEqual(rs[8]?.rle, [[9, 2]]);
  });

  it('with it, mmap(PROT_NONE) adds no exec either', () => {
    const rs = run('c-final', 'open r0\nset_size r0 4096\npersonality read_implies_exec\nmmap m0 r0 4096 0 shared 0\ncheck m0 0 1\n');
    assert.deepEqual(outcomes(rs.slice(3)), [0, 'SIGSEGV']);
  });
});

describe('kernel: MAP_SHARED on a read-only fd', () => {
  it('mprotect may not add PROT_WRITE later (VM_MAYWRITE dropped: EACCES) but may keep PROT_READ', () => {
    const rs = run('c-final', 'open r0 rdonly\nset_size r0 4096\nmmap m0 r0 4096 1 shared 0\nmprotect m0 1\nmprotect m0 3\nmprotect m0 5\n');
    assert.deepEqual(outcomes(rs.slice(2)), [0, 0, 'EACCES', 0]);
  });

  it('the same for a memfd (no write seal involved)', () => {
    const rs = run('linux-memfd', 'open r0 rdonly\nmmap m0 r0 4096 1 shared 0\nmprotect m0 1\nmprotect m0 3\n');
    assert.deepEqual(outcomes(rs.slice(1)), [0, 0, 'EACCES']);
  });
});

describe('kernel: holes (munmap_range)', () => {
  it('mprotect with a hole at the start is ENOMEM even when the protection asked is beyond the mask', () => {
    // prot_mask READ|EXEC before the mmap: VM_MAYWRITE is cleared (§3.5 step 4), so without the
    // hole mprotect(RW) would be EACCES; find_vma at the start finds nothing first.
    const rs = run('c-final', 'open r0\nset_size r0 8192\nset_prot r0 5\nmmap m0 r0 8192 1 shared 0\nmprotect m0 3\nmunmap_range m0 0 4096\nmprotect m0 3\ncheck m0 4096 1\n');
    assert.deepEqual(outcomes(rs.slice(4)), ['EACCES', 0, 'ENOMEM', 0]);
  });

  it('mincore: ENOMEM over a hole past the first page, 0 beside it, 0 for an empty window (the probe makes no call)', () => {
    const rs = run('c-final', `${MAPPED}munmap_range m0 4096 4096\nmincore m0 4096 4096\nmincore m0 0 4096\nmincore m0 4096 0\nmunmap_range m0 0 4096\nmincore m0 100 0\n`);
    assert.deepEqual(outcomes(rs.slice(3)), [0, 'ENOMEM', 0, 0, 0, 0]);
  });
});

describe('kernel: qemu-user answers memory and ioctl calls itself', () => {
  const MEMFD = 'open r0\ntruncate r0 8192\nmmap m0 r0 8192 3 shared 0\n';

  it('mincore over a mapping with a hole is the emulator\'s answer even away from the hole', () => {
    const rs = run('linux-memfd', `${MEMFD}munmap_range m0 4096 4096\nmincore m0 0 4096\n`, QEMU);
    assert.equal(rs[4]?.error, 'unmodelled');
    assert.equal(rs[4]?.message, 'under qemu-user the emulator answers mprotect and mincore over unmapped or PROT_NONE guest pages');
  });

  it('mincore of an empty window of a PROT_NONE mapping is 0 (no page to check)', () => {
    const rs = run('linux-memfd', `${MEMFD}mmap m1 r0 4096 0 shared 0\nmincore m1 0 0\nmincore m1 0 4096\n`, QEMU);
    assert.deepEqual(outcomes(rs.slice(3)), [0, 0, 'unmodelled']);
  });

  it('ioctl and ioctl_buf with a number qemu may not forward are the emulator\'s business; FIONCLEX and FIOCLEX reach the kernel', () => {
    for (const profile of ['c-final', 'linux-memfd']) {
      const rs = run(profile, 'open r0\nioctl r0 0x5401 0\nioctl_buf r0 0x5401 "abc"\nioctl r0 0x5450 0\nioctl r0 0x5451 0\nioctl_buf r0 0x5450 "x"\n', QEMU);
      for (const r of rs.slice(1, 3)) {
        assert.equal(r.error, 'unmodelled', `${profile} ${r.op}`);
        assert.equal(r.message, 'under qemu-user the emulator decides which non-ashmem ioctls reach the kernel');
      }
      assert.deepEqual(outcomes(rs.slice(3)), [0, 0, 0], profile);
    }
  });

  it('a PIN on an ashmem fd is ENOSYS from the emulator, not the driver\'s EINVAL for a region without a file', () => {
    const rs = run('c-final', 'open r0\npin r0 0 0\nunpin r0 0 0\nstatus r0 0 0\n', QEMU);
    assert.deepEqual(outcomes(rs.slice(1)), ['ENOSYS', 'ENOSYS', 'ENOSYS']);
  });
});

describe('kernel: stubbed pinning (§6 ACK Rust snapshot)', () => {
  it('on an ashmem fd, UNPIN changes nothing: GET_PIN_STATUS stays 1 (pinned), PIN 0', () => {
    const rs = run('ack-rust-stub', 'open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared 0\nunpin r0 0 0\nstatus r0 0 0\npin r0 0 0\n');
    assert.deepEqual(outcomes(rs.slice(3)), [0, 1, 0]);
    // The real driver's answers for the same script: unpinned (0), then not purged (0).
    const real = run('ack-rust', 'open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared 0\nunpin r0 0 0\nstatus r0 0 0\n');
    assert.equal(real[4]?.ret, 0);
  });
});
