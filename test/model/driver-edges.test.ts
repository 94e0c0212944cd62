/**
 * The driver's entry points at their edges (harness/model/driver.ts; spec §3.2, §3.5, §3.6, §3.9,
 * §6, §12): how each op's argument reaches the driver (named ops, raw `ioctl` with a plain number,
 * `ioctl_buf` with bytes), each lineage's check order for SET_NAME and PIN/UNPIN, the stubbed-out
 * pinning of a Rust snapshot, the size limits of the backing file and of the pin arithmetic, and
 * llseek at the end of the file. Kills mutation survivors of driver.ts.
 */
import assert from 'node:assert/strict';
import { UNMODELLED } from '../../harness/model/answer.js';
import { nativeNumber } from '../../harness/model/ioctl.js';
import { Kernel } from '../../harness/model/kernel.js';
import { DEFAULT_ENVIRONMENT, profileById, type Environment, type Features } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

/**
 * Runs `text` on one kernel of `profile` (an id, or features for a lineage no profile names)
 * in the quiet world (variant 0), except the ops on the lines `refused` names, which run in the
 * world where the kernel refuses their commit (variant 1, overcommit.ts).
 */
function run(profile: string | Features, text: string, env: Environment = DEFAULT_ENVIRONMENT, refused: readonly number[] = []): OpResult[] {
  const k = new Kernel(typeof profile === 'string' ? profileById(profile).features : profile, env);
  return parseScript(text).ops.map((op) => k.apply(op, undefined, refused.includes(op.line) ? 1 : 0));
}

/** Each result as its errno, else its error kind, else its ret. */
const outcomes = (rs: readonly OpResult[]): (string | number | undefined)[] => rs.map((r) => r.errno ?? r.error ?? r.ret);

const hex = (n: number): string => `0x${n.toString(16)}`;
const cmd = (name: Parameters<typeof nativeNumber>[0]): string => hex(nativeNumber(name, 64));
/** An 8-page region, mapped (so its backing file exists). */
const MAPPED = 'open r0\nset_size r0 32768\nmmap m0 r0 32768 3 shared 0\n';
/** The early Rust variants: a fixed 256-byte name copy and EINVAL for a name with no NUL in it (§3.2). */
const EARLY_RUST: Features = { ...profileById('ack-rust').features, nameWithoutNul: 'einval' };

describe('driver: SET_NAME by lineage (§3.2)', () => {
  it('C-orig checks for a file before it reads the name: a NULL name after mmap is EINVAL, before mmap EFAULT', () => {
    assert.deepEqual(outcomes(run('c-orig', `${MAPPED}set_name_null r0\n`).slice(3)), ['EINVAL']);
    assert.deepEqual(outcomes(run('c-orig', 'open r0\nset_name_null r0\n').slice(1)), ['EFAULT']);
    // The 2019+ driver reads the name first.
    assert.deepEqual(outcomes(run('c-final', `${MAPPED}set_name_null r0\n`).slice(3)), ['EFAULT']);
  });

  it('a fixed 256-byte copy faults only when the name ends a readable page short of 256 bytes; a plain buffer is fine', () => {
    for (const p of ['c-orig', EARLY_RUST] as const) {
      const rs = run(p, 'open r0\nset_name r0 "abc"\nset_name_at_page_end r0 "abc"\nset_name_at_page_end r0 "x"*255\nget_name r0\n');
      assert.deepEqual(outcomes(rs.slice(1)), [0, 'EFAULT', 0, 0]);
      assert.equal(rs[4]?.name, 'x'.repeat(255));
    }
    // strncpy stops at the NUL, so the page end does not matter.
    assert.deepEqual(outcomes(run('c-final', 'open r0\nset_name_at_page_end r0 "abc"\nget_name r0\n').slice(1)), [0, 0]);
  });

  it('a name is cut at its first NUL: "\\0abc" is the empty name (reported as dev/ashmem in C), "ab\\0cd" is "ab"', () => {
    const rs = run('c-final', 'open r0\nset_name r0 "\\0abc"\nget_name r0\nset_name r0 "ab\\0cd"\nget_name r0\n');
    assert.deepEqual(outcomes(rs.slice(1)), [0, 0, 0, 0]);
    assert.equal(rs[2]?.name, 'dev/ashmem');
    assert.equal(rs[4]?.name, 'ab');
  });

  it('256 bytes with no NUL: C truncates to 255, the early Rust variants refuse with EINVAL; 255 fit in both', () => {
    const text = 'open r0\nset_name r0 "n"*256\nget_name r0\nset_name r0 "m"*255\nget_name r0\n';
    const c = run('c-final', text);
    assert.deepEqual(outcomes(c.slice(1)), [0, 0, 0, 0]);
    assert.equal(c[2]?.name, 'n'.repeat(255));
    const early = run(EARLY_RUST, text);
    assert.deepEqual(early.slice(1).map((r) => r.errno ?? r.ret), ['EINVAL', 0, 0, 0]);
    assert.equal(early[2]?.name, 'dev/ashmem');
    assert.equal(early[4]?.name, 'm'.repeat(255));
  });
});

describe('driver: raw ioctl arguments (docs/op-scripts.md "ioctl", "ioctl_buf")', () => {
  it('a raw GET_FILE_ID with a plain number is a bad pointer: EFAULT on the ACK driver once the file exists', () => {
    const rs = run('ack-c', `${MAPPED}ioctl r0 ${cmd('GET_FILE_ID')} 0\nioctl r0 ${cmd('GET_FILE_ID')} 4096\nfile_id r0\n`);
    assert.deepEqual(outcomes(rs.slice(3)), ['EFAULT', 'EFAULT', 0]);
  });

  it('ioctl_buf GET_NAME copies the name into the buffer: ret 0', () => {
    assert.deepEqual(outcomes(run('c-final', `open r0\nioctl_buf r0 ${cmd('GET_NAME')} ""\n`).slice(1)), [0]);
  });

  it('ioctl_buf PIN/UNPIN read the 8-byte struct ashmem_pin and nothing after it', () => {
    // {offset 4096, len 4096} followed by a stray byte: UNPIN of page 1 alone.
    const rs = run('c-final', `${MAPPED}ioctl_buf r0 ${cmd('UNPIN')} "\\x00\\x10\\x00\\x00\\x00\\x10\\x00\\x00\\x01"\nstatus r0 4096 4096\nstatus r0 8192 4096\n`);
    assert.deepEqual(outcomes(rs.slice(3)), [0, 0, 1]);
  });

  it('ioctl_buf UNPIN before the first mmap: EINVAL (no file) on the 2019 driver, whatever the range', () => {
    assert.deepEqual(outcomes(run('c-final', `open r0\nset_size r0 4096\nioctl_buf r0 ${cmd('UNPIN')} "\\0"*8\n`).slice(2)), ['EINVAL']);
  });

  it('an ioctl the VFS leaves to the model\'s gaps (FICLONE) and SET_SIZE through a pointer are unmodelled, with a reason', () => {
    const rs = run('c-final', `open r0\nioctl r0 0x40049409 3\nioctl_buf r0 ${cmd('SET_SIZE')} "\\0"*8\n`);
    assert.equal(rs[1]?.error, UNMODELLED);
    assert.match(String(rs[1]?.message), /FICLONE/);
    assert.equal(rs[2]?.error, UNMODELLED);
    assert.match(String(rs[2]?.message), /use set_size/);
  });
});

describe('driver: a Rust snapshot with pinning stubbed out (§6)', () => {
  it('PIN 0, UNPIN 0, GET_PIN_STATUS 1 (pinned) whatever was unpinned, also with a NULL argument', () => {
    const rs = run('ack-rust-stub', `${MAPPED}unpin r0 0 4096\nstatus r0 0 4096\npin r0 0 4096\nunpin_null r0\nstatus_null r0\npin_null r0\n`);
    assert.deepEqual(outcomes(rs.slice(3)), [0, 1, 0, 0, 1, 0]);
  });

  it('PURGE_ALL_CACHES answers 0 even without CAP_SYS_ADMIN (where a real driver says EPERM)', () => {
    const env = { ...DEFAULT_ENVIRONMENT, root: false };
    assert.deepEqual(outcomes(run('ack-rust-stub', `${MAPPED}purge_all r0\n`, env).slice(3)), [0]);
    assert.deepEqual(outcomes(run('ack-rust', `${MAPPED}purge_all r0\n`, env).slice(3)), ['EPERM']);
  });
});

describe('driver: PIN/UNPIN bounds (§3.6)', () => {
  it('a named UNPIN of the whole region (offset 0, len 0) before the first mmap is EINVAL', () => {
    assert.deepEqual(outcomes(run('c-final', 'open r0\nset_size r0 4096\nunpin r0 0 0\n').slice(2)), ['EINVAL']);
  });

  it('an 8 GiB region: C refuses offset + len past 2^32 - 1 (u32 fields), Rust (usize) takes it', () => {
    const text = 'open r0\nset_size r0 0x200000000\nmmap m0 r0 4096 3 shared 0\nunpin r0 0xfffff000 0x1000\nunpin r0 4096 0\n';
    // len 0 means PAGE_ALIGN(size) - offset: 2^33 - 4096, stored in C's u32 as 2^32 - 4096.
    assert.deepEqual(outcomes(run('c-final', text).slice(3)), ['EINVAL', 'EINVAL']);
    assert.deepEqual(outcomes(run('ack-rust', text).slice(3)), [0, 0]);
  });

  it('a region of MAX_LFS_FILESIZE bytes: the same checks on sizes beyond 2^53, and the pages they name', () => {
    const text = 'open r0\nset_size r0 0x7fffffffffffffff\nmmap m0 r0 4096 3 shared 0\nunpin r0 4096 0\nunpin r0 4096 4096\nstatus r0 0 8192\nstatus r0 0 4096\n';
    // C: len 0 → 2^63 - 4096, in u32 2^32 - 4096: offset + len passes 2^32 - 1.
    assert.deepEqual(outcomes(run('c-final', text).slice(2)), [0, 'EINVAL', 0, 0, 1]);
    // Rust keeps the usize: everything from page 1 on is unpinned.
    assert.deepEqual(outcomes(run('ack-rust', text).slice(2)), [0, 0, 0, 0, 1]);
  });
});

describe('driver: the backing file at the size limits (§3.5 step 5, §12)', () => {
  it('a size of exactly MAX_LFS_FILESIZE maps (shmem_file_setup refuses only larger sizes); 2^63 is EINVAL', () => {
    assert.deepEqual(outcomes(run('c-final', 'open r0\nset_size r0 0x7fffffffffffffff\nmmap m0 r0 4096 3 shared 0\n').slice(2)), [0]);
    assert.deepEqual(outcomes(run('c-final', 'open r0\nset_size r0 0x8000000000000000\nmmap m0 r0 4096 3 shared 0\n').slice(2)), ['EINVAL']);
  });

  it('a second shared mapping above the commit limit may be refused (ENOMEM) after the file exists; the file stays', () => {
    const text = 'open r0\nset_size r0 0x20000000\nmmap m0 r0 4096 3 shared 0\nmmap m1 r0 0x20000000 3 shared 0\nset_size r0 4096\nmmap m2 r0 4096 3 shared 0\n';
    // 512 MiB is above the 256 MiB floor assumed for a target that reported no memory.
    assert.deepEqual(outcomes(run('c-final', text, DEFAULT_ENVIRONMENT, [4]).slice(2)), [0, 'ENOMEM', 'EINVAL', 0]);
  });
});

describe('driver: llseek at the end of the file (§3.9, §12)', () => {
  it('SEEK_END to MAX_LFS_FILESIZE itself is allowed, one past it EINVAL', () => {
    const rs = run('c-final', 'open r0\nset_size r0 0x7fffffffffffffff\nmmap m0 r0 4096 3 shared 0\nlseek r0 0 end\nlseek r0 1 end\nlseek r0 -1 end\n');
    assert.equal(rs[3]?.errno, undefined);
    assert.equal(rs[3]?.ret, Number(0x7fffffffffffffffn));
    assert.deepEqual(outcomes(rs.slice(4)), ['EINVAL', Number(0x7ffffffffffffffen)]);
  });

  it('SEEK_DATA and SEEK_HOLE at i_size are ENXIO (shmem_file_llseek), one byte before it they answer', () => {
    const rs = run('c-final', `${MAPPED}fill m0 0 32768 1\nlseek r0 32768 data\nlseek r0 32768 hole\nlseek r0 32767 hole\nlseek r0 32767 data\n`);
    assert.deepEqual(outcomes(rs.slice(4)), ['ENXIO', 'ENXIO', 32768, 32767]);
  });
});
