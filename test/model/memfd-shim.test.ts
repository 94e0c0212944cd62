/**
 * The model's answers on memfd regions (§6 "ACK memfd shim (2025)" row, §7.1 memfd mode): the
 * ashmem ioctls the shim answers from the memfd, the write seals behind the prot mask, and
 * write(2) against the seals. Kills the mutation survivors of harness/model/memfd.ts.
 */
import assert from 'node:assert/strict';
import { Kernel } from '../../harness/model/kernel.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

function run(profile: string, text: string): OpResult[] {
  const k = new Kernel(profileById(profile).features, DEFAULT_ENVIRONMENT);
  return parseScript(text).ops.map((op) => k.apply(op));
}

/** Each result as its errno, else its ret. */
const outcomes = (rs: OpResult[]): (string | number | undefined)[] => rs.map((r) => r.errno ?? r.ret);

describe('memfd regions (§6 memfd shim row, §7.1)', () => {
  it('GET_NAME answers the probe\'s memfd name with its NUL (C: strlen+1 bytes); a NULL buffer is EFAULT', () => {
    const rs = run('ack-memfd-shim', 'open r0\nget_name r0\nget_name_null r0\n');
    assert.equal(rs[1]?.name, 'ashmem');
    assert.equal(rs[1]?.copied, 'ashmem'.length + 1);
    assert.equal(rs[1]?.ret, 0);
    assert.equal(rs[2]?.errno, 'EFAULT');
  });

  it('FIOCLEX/FIONCLEX succeed, other VFS ioctls are outside the model, unknown ashmem-type ioctls are ENOTTY', () => {
    const rs = run('ack-memfd-shim', 'open r0\nioctl r0 0x5451 0\nioctl r0 0x5450 0\nioctl r0 0x5401 0\nioctl r0 0x7799 0\n');
    assert.deepEqual(outcomes(rs.slice(1, 3)), [0, 0]);
    assert.equal(rs[3]?.error, 'unmodelled');
    assert.match(String(rs[3]?.message), /0x5401/);
    assert.equal(rs[4]?.errno, 'ENOTTY');
    // Without the shim every ashmem ioctl is ENOTTY, but FIOCLEX still works (§6, §7.1).
    assert.deepEqual(outcomes(run('linux-memfd', 'open r0\nioctl r0 0x5451 0\nget_size r0\n').slice(1)), [0, 'ENOTTY']);
  });

  it('SET/GET_PROT_MASK map to the write seals: bits beyond RWX EINVAL; dropping WRITE adds FUTURE_WRITE; WRITE back is EINVAL', () => {
    const rs = run('ack-memfd-shim', 'open r0\nget_prot r0\nset_prot r0 8\nset_prot r0 7\nget_prot r0\nset_prot r0 1\nget_prot r0\nset_prot r0 3\nset_prot r0 1\n');
    assert.deepEqual(outcomes(rs.slice(1)), [7, 'EINVAL', 0, 7, 0, 5, 'EINVAL', 0]);
  });

  it('dropping WRITE needs a seal to be added: F_SEAL_SEAL refuses it (EPERM) unless already write-sealed', () => {
    assert.deepEqual(outcomes(run('ack-memfd-shim', 'open r0\nadd_seals r0 1\nset_prot r0 1\nget_prot r0\n').slice(1)), [0, 'EPERM', 7]);
    assert.deepEqual(outcomes(run('ack-memfd-shim', 'open r0\nadd_seals r0 17\nset_prot r0 1\nget_prot r0\n').slice(1)), [0, 0, 5]);
  });

  it('after a write seal a shared mapping may never gain PROT_WRITE; a private one may (mm/memfd.c, §7.1)', () => {
    const sealed = run('ack-memfd-shim', 'open r0\ntruncate r0 8192\nset_prot r0 1\nmmap m0 r0 4096 1 shared 0\nmprotect m0 3\nmprotect m0 1\nmmap m1 r0 4096 1 private 0\nmprotect m1 3\nmmap m2 r0 4096 3 shared 0\n');
    assert.deepEqual(outcomes(sealed.slice(3)), [0, 'EACCES', 0, 0, 0, 'EPERM']);
    const open = run('ack-memfd-shim', 'open r0\ntruncate r0 8192\nmmap m0 r0 4096 1 shared 0\nmprotect m0 3\n');
    assert.deepEqual(outcomes(open.slice(2)), [0, 0]);
  });

  it('write(2): write seals refuse it; F_SEAL_GROW refuses only writes that end past i_size', () => {
    const rs = run('linux-memfd', 'open r0\ntruncate r0 8192\nadd_seals r0 4\nlseek r0 8182 set\nwrite r0 10\nlseek r0 8190 set\nwrite r0 10\nlseek r0 0 set\nwrite r0 100\nadd_seals r0 8\nwrite r0 1\n');
    assert.deepEqual(outcomes(rs.slice(2)), [0, 8182, 10, 8190, 'EPERM', 0, 100, 0, 'EPERM']);
    const fs = run('linux-memfd', 'open r0\ntruncate r0 100\nadd_seals r0 16\nwrite r0 1\n');
    assert.equal(fs[3]?.errno, 'EPERM');
  });

  it('write(2) stores zeros over the data and grows i_size when unsealed', () => {
    const rs = run('linux-memfd', 'open r0\ntruncate r0 8192\nmmap m0 r0 8192 3 shared 0\nfill m0 0 8192 1\nlseek r0 4000 set\nwrite r0 200\nlseek r0 0 set\nread r0 8192\nlseek r0 8192 set\nwrite r0 5\nget_size r0\nlseek r0 0 end\n');
    assert.deepEqual(rs[7]?.rle, [[1, 4000], [0, 200], [1, 3992]]);
    assert.equal(rs[9]?.ret, 5);
    assert.equal(rs[11]?.ret, 8197);
  });

  it('write(2) across pages at an unaligned offset zeroes exactly its bytes and leaves i_size alone inside the file', () => {
    const rs = run('linux-memfd', 'open r0\ntruncate r0 12288\nmmap m0 r0 12288 3 shared 0\nfill m0 0 12288 1\nlseek r0 4000 set\nwrite r0 5000\nlseek r0 0 set\nread r0 12288\nlseek r0 0 end\n');
    assert.deepEqual(rs[7]?.rle, [[1, 4000], [0, 5000], [1, 3288]]);
    assert.equal(rs[8]?.ret, 12288);
  });

  it('ftruncate: EINVAL on a read-only fd; F_SEAL_SHRINK refuses only shrinking, F_SEAL_GROW only growing', () => {
    const rs = run('linux-memfd', 'open r0 rdonly\ntruncate r0 100\nopen r1\ntruncate r1 8192\nadd_seals r1 2\ntruncate r1 100\ntruncate r1 8192\ntruncate r1 9000\nadd_seals r1 4\ntruncate r1 9000\ntruncate r1 9001\nopen r2\ntruncate r2 8192\nadd_seals r2 4\ntruncate r2 4000\n');
    assert.deepEqual(outcomes(rs.slice(1)), ['EINVAL', 0, 0, 0, 'EPERM', 0, 0, 0, 0, 'EPERM', 0, 0, 0, 0]);
  });

  it('F_ADD_SEALS: EPERM on a read-only fd, EINVAL for bits beyond the five seals, EPERM once F_SEAL_SEAL is set', () => {
    const rs = run('linux-memfd', 'open r0 rdonly\nadd_seals r0 2\nget_seals r0\nopen r1\nadd_seals r1 64\nadd_seals r1 1\nadd_seals r1 2\nget_seals r1\n');
    assert.deepEqual(outcomes(rs.slice(1)), ['EPERM', 0, 0, 'EINVAL', 0, 'EPERM', 1]);
  });

  it('the shim stubs pinning (PIN/UNPIN 0, GET_PIN_STATUS pinned) and refuses PURGE_ALL_CACHES without CAP_SYS_ADMIN (§3.7)', () => {
    const rs = run('ack-memfd-shim', 'open r0\npin r0 0 0\nunpin r0 0 0\nstatus r0 0 0\npurge_all r0\ndrop_cap sys_admin\npurge_all r0\nfile_id r0\nfile_id_null r0\nset_size r0 4096\n');
    assert.deepEqual(outcomes(rs.slice(1)), [0, 0, 1, 0, 0, 'EPERM', 0, 'EFAULT', 'EINVAL']);
  });

  it('ioctl_buf with a valid buffer: GET_NAME copies the name; SET_PROT_MASK takes the pointer as the value (EINVAL)', () => {
    const rs = run('ack-memfd-shim', 'open r0\nioctl_buf r0 0x81007702 "abc"\nioctl_buf r0 0x40087705 "abc"\nget_prot r0\n');
    assert.equal(rs[1]?.ret, 0);
    assert.equal(rs[1]?.name, 'ashmem');
    assert.equal(rs[2]?.errno, 'EINVAL');
    assert.equal(rs[3]?.ret, 7);
  });
});
