/**
 * The real probe on this machine's real kernel, for each of the four Android ABIs (each natively
 * or under qemu-user, as the harness's trial finds; an ABI that cannot run here is skipped with
 * the reason) and the host build. The host has no
 * ashmem, so the probe meets memfd; every expectation below is what this kernel does.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { ALL_ABIS, HOST_HAS_ASHMEM, HOST_IS_ANDROID, at, ensureProbesBuilt, expectedMachine, memfdIoctlErrno, resultsOf, runProbe, script, skipUnlessNative, skipUnlessRunnable } from './support.js';

const PAGE = 4096;

/** Three pages of 0x11 in m0 with page 1 unmapped: the hole tests' start (lines 1-5). */
const HOLE = ['open r0', 'truncate r0 12288', 'mmap m0 r0 12288 3 shared 0', 'fill m0 0 12288 0x11', 'munmap_range m0 4096 4096'];

before(function () {
  this.timeout(120_000);
  ensureProbesBuilt();
});

for (const abi of ALL_ABIS) {
  describe(`probe ${abi} on the host kernel (memfd backend)`, function () {
    this.timeout(60_000);
    before(function () {
      skipUnlessRunnable(this, abi);
    });

    it('writes a hello line with this ABI, word size, backend and host facts, then one end line', async () => {
      const run = await runProbe(abi, '');
      assert.equal(run.code, 0);
      assert.equal(run.json.length, 2);
      const hello = run.json[0]?.['hello'] as Record<string, unknown>;
      assert.equal(hello['probe'], '0.1.0');
      assert.equal(hello['kernel'], os.release());
      assert.equal(hello['machine'], expectedMachine(abi));
      assert.equal(hello['abi'], abi);
      assert.equal(hello['bits'], abi === 'x86' || abi === 'armeabi-v7a' ? 32 : 64);
      assert.equal(hello['uid'], process.getuid?.());
      assert.equal(hello['page_size'], PAGE);
      assert.ok(Array.isArray(hello['features']) && (hello['features'] as unknown[]).includes('memfd'));
      if (!HOST_HAS_ASHMEM) {
        assert.equal(hello['backend'], 'memfd');
        assert.equal('node' in hello, false);
      }
      assert.deepEqual(run.json[1], { end: { ops: 0, status: 0 } });
    });

    it('--version names the version, ABI and word size', async () => {
      const run = await runProbeVersion(abi);
      assert.match(run, new RegExp(`^ashmem-probe 0\\.1\\.0 ${abi} (32|64)-bit\\n$`));
    });

    const ioctlTitle = HOST_HAS_ASHMEM || HOST_IS_ANDROID
      ? 'ashmem ioctls on a memfd (skipped: this host has ashmem or is Android, where a memfd shim may answer)'
      : `ashmem ioctls on a memfd fail with ${memfdIoctlErrnoSafe(abi)} (${memfdIoctlErrnoSafe(abi) === 'ENOSYS' ? 'qemu-user does not forward unknown ioctls' : 'no memfd shim in this kernel'})`;
    it(ioctlTitle, async function () {
      if (HOST_HAS_ASHMEM || HOST_IS_ANDROID) this.skip();
      const ops = [
        'set_name r0 "x"', 'get_name r0', 'set_size r0 8192', 'get_size r0', 'set_prot r0 3', 'get_prot r0',
        'pin r0 0 4096', 'unpin r0 0 4096', 'status r0 0 4096', 'pin_null r0', 'unpin_null r0', 'status_null r0',
        'set_name_null r0', 'get_name_null r0', 'file_id_null r0', 'purge_all r0', 'file_id r0', 'ioctl r0 0x7704 0',
      ];
      const run = await runProbe(abi, script('open r0', ...ops));
      const results = resultsOf(run);
      assert.deepEqual(at(results, 1), { i: 1, op: 'open', ret: 0 });
      const want = memfdIoctlErrno(abi);
      ops.forEach((text, k) => {
        assert.deepEqual(at(results, k + 2), { i: k + 2, op: text.split(' ')[0], errno: want }, text);
      });
      assert.deepEqual(run.json.at(-1), { end: { ops: ops.length + 1, status: 0 } });
    });

    it('fills and checks through a shared mapping: exact byte runs', async () => {
      const run = await runProbe(abi, script(
        'open r0',
        'truncate r0 16384',
        'mmap m0 r0 16384 3 shared 0',
        'fill m0 0 16384 0xA5',
        'fill m0 4096 100 0',
        'fill m0 16383 1 7',
        'check m0 0 16384',
        'check m0 4000 200',
        'check m0 0 0',
      ));
      const r = resultsOf(run);
      assert.deepEqual(r.slice(0, 6).map((x) => x['ret']), [0, 0, 0, 0, 0, 0]);
      assert.deepEqual(at(r, 7), { i: 7, op: 'check', ret: 0, rle: [[165, 4096], [0, 100], [165, 12187], [7, 1]] });
      assert.deepEqual(at(r, 8), { i: 8, op: 'check', ret: 0, rle: [[165, 96], [0, 100], [165, 4]] });
      assert.deepEqual(at(r, 9), { i: 9, op: 'check', ret: 0, rle: [] });
    });

    it('turns SIGBUS beyond the memfd size into results, keeps the bytes stored before the fault, and goes on', async () => {
      const run = await runProbe(abi, script(
        'open r0',
        'truncate r0 4096',
        'mmap m0 r0 12288 3 shared 0', // longer than the file: pages 1-2 are beyond its end
        'fill m0 0 12288 0x5A',
        'check m0 0 4096',
        'check m0 4095 2',
        'fill m0 8192 1 1',
        'truncate r0 8192',
        'check m0 4096 4096',
        'fill m0 4096 4096 3',
        'check m0 0 8192',
      ));
      const r = resultsOf(run);
      assert.deepEqual(at(r, 3), { i: 3, op: 'mmap', ret: 0 });
      assert.deepEqual(at(r, 4), { i: 4, op: 'fill', signal: 'SIGBUS' });
      assert.deepEqual(at(r, 5), { i: 5, op: 'check', ret: 0, rle: [[0x5a, 4096]] });
      assert.deepEqual(at(r, 6), { i: 6, op: 'check', signal: 'SIGBUS' });
      assert.deepEqual(at(r, 7), { i: 7, op: 'fill', signal: 'SIGBUS' });
      // Growing the file makes page 1 exist (zeros): the same mapping now reads it.
      assert.deepEqual(at(r, 9), { i: 9, op: 'check', ret: 0, rle: [[0, 4096]] });
      assert.deepEqual(at(r, 10), { i: 10, op: 'fill', ret: 0 });
      assert.deepEqual(at(r, 11), { i: 11, op: 'check', ret: 0, rle: [[0x5a, 4096], [3, 4096]] });
      assert.deepEqual(run.json.at(-1), { end: { ops: 11, status: 0 } });
    });

    it('turns a store into a read-only mapping into SIGSEGV, and mprotect makes it writable', async () => {
      const run = await runProbe(abi, script(
        'open r0',
        'truncate r0 4096',
        'mmap m0 r0 4096 1 shared 0',
        'fill m0 0 1 9',
        'mprotect m0 3',
        'fill m0 0 1 9',
        'check m0 0 2',
      ));
      const r = resultsOf(run);
      assert.deepEqual(at(r, 4), { i: 4, op: 'fill', signal: 'SIGSEGV' });
      assert.deepEqual(at(r, 5), { i: 5, op: 'mprotect', ret: 0 });
      assert.deepEqual(at(r, 7), { i: 7, op: 'check', ret: 0, rle: [[9, 1], [0, 1]] });
    });

    it('keeps a munmap_range hole a hole: a later mmap does not land in it', async () => {
      // The kernel gives freed addresses to the next mmap (here the hole is the highest free
      // gap that fits): without the probe's reservation m1 would sit in m0's hole and
      // `check m0 4096 1` would read m1's bytes where §3.5 says SIGSEGV.
      const run = await runProbe(abi, script(
        ...HOLE,
        'open r1',
        'truncate r1 4096',
        'mmap m1 r1 4096 3 shared 0',
        'fill m1 0 4096 0x22',
        'check m0 4096 1',
        'check m0 0 1',
        'munmap m0',
        'mmap m2 r0 12288 3 shared 0',
        'check m2 0 12288',
      ));
      const r = resultsOf(run);
      assert.deepEqual(at(r, 10), { i: 10, op: 'check', signal: 'SIGSEGV' });
      assert.deepEqual(at(r, 11), { i: 11, op: 'check', ret: 0, rle: [[0x11, 1]] });
      assert.deepEqual(at(r, 12), { i: 12, op: 'munmap', ret: 0 });
      assert.deepEqual(at(r, 14), { i: 14, op: 'check', ret: 0, rle: [[0x11, 12288]] });
    });

    it('mincore and mprotect across a reserved hole still meet unmapped memory (ENOMEM, §3.5)', async function () {
      // qemu-user answers mprotect and mincore from its own page table (a 32-bit guest's
      // mprotect across the hole returns 0, the 64-bit one hangs on the store after it): only a
      // probe the kernel runs itself shows the kernel's answer.
      skipUnlessNative(this, abi, `the ${abi} probe's mprotect across a hole`);
      const run = await runProbe(abi, script(
        ...HOLE,
        'mmap m1 r0 4096 3 shared 0',
        'mincore m0 0 12288',
        'mprotect m0 1',
        'fill m0 0 1 1',
        'fill m0 8192 1 1',
        'check m0 4096 1',
      ));
      const r = resultsOf(run);
      assert.deepEqual(at(r, 7), { i: 7, op: 'mincore', errno: 'ENOMEM' });
      // mprotect changes the pages before the hole, then fails.
      assert.deepEqual(at(r, 8), { i: 8, op: 'mprotect', errno: 'ENOMEM' });
      assert.deepEqual(at(r, 9), { i: 9, op: 'fill', signal: 'SIGSEGV' });
      assert.deepEqual(at(r, 10), { i: 10, op: 'fill', ret: 0 });
      assert.deepEqual(at(r, 11), { i: 11, op: 'check', signal: 'SIGSEGV' });
    });

    it('shares a MAP_SHARED mapping with a forked child, in script order, tagged with proc', async () => {
      const run = await runProbe(abi, script(
        'open r0',
        'truncate r0 8192',
        'mmap m0 r0 8192 3 shared 0',
        'fork p1',
        'p1: fill m0 0 4096 0x11',
        'check m0 0 8192',
        'fill m0 4096 4096 0x22',
        'p1: check m0 0 8192',
        'p1: fstat r0',
        'exit p1',
        'check m0 0 1',
      ));
      const r = resultsOf(run);
      assert.deepEqual(r.map((x) => x['i']), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      assert.deepEqual(at(r, 4), { i: 4, op: 'fork', ret: 0 });
      assert.deepEqual(at(r, 5), { i: 5, op: 'fill', proc: 'p1', ret: 0 });
      assert.deepEqual(at(r, 6), { i: 6, op: 'check', ret: 0, rle: [[0x11, 4096], [0, 4096]] });
      assert.deepEqual(at(r, 8), { i: 8, op: 'check', proc: 'p1', ret: 0, rle: [[0x11, 4096], [0x22, 4096]] });
      assert.deepEqual(at(r, 9), { i: 9, op: 'fstat', proc: 'p1', ret: 0, mode: 'reg', size: 8192 });
      assert.deepEqual(at(r, 10), { i: 10, op: 'exit', ret: 0 });
      assert.deepEqual(at(r, 11), { i: 11, op: 'check', ret: 0, rle: [[0x11, 1]] });
    });

    it('keeps private mappings private: copy-on-write after fork, and no writes reach the file', async () => {
      const run = await runProbe(abi, script(
        'open r0',
        'truncate r0 4096',
        'mmap m0 r0 4096 3 shared 0',
        'fill m0 0 4096 1',
        'mmap m1 r0 4096 3 private 0',
        'check m1 0 4096', // a private file mapping shows the file (memfd, unlike ashmem §3.5)
        'fork p1',
        'p1: fill m1 0 4096 2',
        'p1: check m1 0 4096',
        'check m1 0 4096',
        'fill m1 0 10 3',
        'check m0 0 4096',
        'p1: check m0 0 10',
        'p1: check m1 0 10',
        'exit p1',
      ));
      const r = resultsOf(run);
      assert.deepEqual(at(r, 6), { i: 6, op: 'check', ret: 0, rle: [[1, 4096]] });
      assert.deepEqual(at(r, 9), { i: 9, op: 'check', proc: 'p1', ret: 0, rle: [[2, 4096]] });
      assert.deepEqual(at(r, 10), { i: 10, op: 'check', ret: 0, rle: [[1, 4096]] });
      assert.deepEqual(at(r, 12), { i: 12, op: 'check', ret: 0, rle: [[1, 4096]] });
      assert.deepEqual(at(r, 13), { i: 13, op: 'check', proc: 'p1', ret: 0, rle: [[1, 10]] });
      assert.deepEqual(at(r, 14), { i: 14, op: 'check', proc: 'p1', ret: 0, rle: [[2, 10]] });
    });

    it('reads and seeks a memfd: positions, data and holes, EOF, a dup sharing the position', async () => {
      const run = await runProbe(abi, script(
        'open r0',
        'truncate r0 12288',
        'mmap m0 r0 12288 3 shared 0',
        'fill m0 0 10 0x41',
        'fill m0 8192 4096 0x42',
        'lseek r0 5 set',
        'read r0 10',
        'dup r1 r0',
        'lseek r1 0 cur',
        'lseek r0 0 end',
        'read r0 100',
        'lseek r0 4096 data',
        'lseek r0 0 hole',
        'lseek r0 8190 set',
        'read r1 4',
        'fstat r1',
        'write r0 0',
        'close r1',
        'read r1 1',
        'lseek r0 -1 set',
      ));
      const r = resultsOf(run);
      assert.deepEqual(at(r, 6), { i: 6, op: 'lseek', ret: 5 });
      assert.deepEqual(at(r, 7), { i: 7, op: 'read', ret: 10, rle: [[0x41, 5], [0, 5]] });
      assert.deepEqual(at(r, 9), { i: 9, op: 'lseek', ret: 15 });
      assert.deepEqual(at(r, 10), { i: 10, op: 'lseek', ret: 12288 });
      assert.deepEqual(at(r, 11), { i: 11, op: 'read', ret: 0, rle: [] });
      assert.equal(at(r, 12)['ret'], 8192); // SEEK_DATA on shmem skips the untouched page 1
      assert.deepEqual(at(r, 13), { i: 13, op: 'lseek', ret: 4096 }); // page 0 holds data, page 1 was never touched
      assert.deepEqual(at(r, 15), { i: 15, op: 'read', ret: 4, rle: [[0, 2], [0x42, 2]] });
      assert.deepEqual(at(r, 16), { i: 16, op: 'fstat', ret: 0, mode: 'reg', size: 12288 });
      assert.deepEqual(at(r, 17), { i: 17, op: 'write', ret: 0 });
      assert.deepEqual(at(r, 19), { i: 19, op: 'read', errno: 'EBADF' });
      assert.deepEqual(at(r, 20), { i: 20, op: 'lseek', errno: 'EINVAL' }); // offsets are signed; a negative position is EINVAL (issue 12 §4)
    });

    it('reports parse errors with line and column, and goes on with the next line', async () => {
      const run = await runProbe(abi, script(
        'open r0',
        'bogus r0',
        '  pin r0 4096',
        'pin r0 0 0x1FFFFFFFF',
        'set_name r0 "abc',
        'mmap m0 r0 4096 3 sharde 0',
        'check m9 0 1',
        'p1: pin r0 0 0',
        'fstat r0',
        'set_name r0 "é\\q"',
        'fstat r0 extra # comment',
      ));
      const r = resultsOf(run);
      assert.deepEqual(at(r, 2), { i: 2, op: 'bogus', error: 'parse', message: 'unknown op "bogus" (see docs/op-scripts.md for the list)', col: 1 });
      assert.deepEqual(at(r, 3), { i: 3, op: 'pin', error: 'parse', message: 'pin needs 3 argument(s): r offset len', col: 14 });
      assert.deepEqual(at(r, 4), { i: 4, op: 'pin', error: 'parse', message: 'a 32-bit unsigned value out of range: 0x1FFFFFFFF (allowed 0..4294967295)', col: 10 });
      assert.deepEqual(at(r, 5), { i: 5, op: 'set_name', error: 'parse', message: 'unterminated string: add the closing "', col: 13 });
      assert.deepEqual(at(r, 6), { i: 6, op: 'mmap', error: 'parse', message: 'expected a mapping kind (shared | private | shared_noreserve | private_noreserve), got "sharde"', col: 19 });
      assert.deepEqual(at(r, 7), { i: 7, op: 'check', error: 'parse', message: 'mapping m9 is not defined in p0 (mmap it first)', col: 1 });
      assert.deepEqual(at(r, 8), { i: 8, op: 'pin', error: 'parse', message: 'process p1 was never forked (use "fork p1" first)', col: 1 });
      assert.deepEqual(at(r, 9), { i: 9, op: 'fstat', ret: 0, mode: 'reg', size: 0 });
      // Columns count UTF-16 units like the TypeScript parser: "é" is one.
      assert.equal(at(r, 10)['col'], 15);
      assert.deepEqual(at(r, 11), { i: 11, op: 'fstat', error: 'parse', message: 'unexpected "extra": fstat takes 1 argument(s)', col: 10 });
      assert.deepEqual(run.json.at(-1), { end: { ops: 11, status: 0 } });
    });

    it('survives hostile input: every byte 0x01-0xff in a name, NULs, 64 KiB names, a 2 MiB line', async () => {
      let all = '';
      for (let b = 1; b < 256; b++) all += `\\x${b.toString(16).padStart(2, '0')}`;
      const rawBytes = Buffer.from(Array.from({ length: 255 }, (_, k) => k + 1).filter((b) => b !== 0x0a && b !== 0x22 && b !== 0x5c));
      const input = Buffer.concat([
        Buffer.from(script(
          'open r0',
          `set_name r0 "${all}"`,
          'set_name r0 "a"*65536',
          'set_name r0 "ab"*32769',
          'set_name r0 "\\0\\0"',
        )),
        Buffer.from('set_name r0 "'), rawBytes, Buffer.from('"\n'), // line 6: raw bytes inside a string
        Buffer.from('bo\x00g\xff\x01us r0\n', 'latin1'), // line 7: NUL and high bytes in the op word
        Buffer.from(`fstat r0 ${'x'.repeat(2 << 20)}\n`), // line 8: over the 1 MiB line limit
        Buffer.from('fstat r0\n'),
      ]);
      const run = await runProbe(abi, input);
      // Every output byte is printable ASCII: names and messages are escaped.
      assert.ok([...run.stdout].every((b) => b === 0x0a || (b >= 0x20 && b < 0x7f)));
      const r = resultsOf(run);
      const want = HOST_HAS_ASHMEM ? undefined : memfdIoctlErrno(abi);
      for (const i of [2, 3, 5, 6]) {
        if (want !== undefined) assert.deepEqual(at(r, i), { i, op: 'set_name', errno: want });
        else assert.equal(at(r, i)['error'], undefined);
      }
      assert.deepEqual(at(r, 4), { i: 4, op: 'set_name', error: 'parse', message: 'string too long after repeat (65538 bytes; at most 65536)', col: 17 });
      assert.equal(at(r, 7)['op'], 'bo g\u00ff\u0001us');
      assert.equal(at(r, 7)['error'], 'parse');
      assert.deepEqual(at(r, 8), { i: 8, op: 'fstat', error: 'parse', message: 'line too long (more than 1048576 bytes)', col: 1048577 });
      assert.deepEqual(at(r, 9), { i: 9, op: 'fstat', ret: 0, mode: 'reg', size: 0 });
      assert.deepEqual(run.json.at(-1), { end: { ops: 9, status: 0 } });
    });

    it('answers state errors for dead or too-small mappings, EBADF for closed regions, unsupported for Java ops', async () => {
      const run = await runProbe(abi, script(
        'open r0',
        'truncate r0 4096',
        'mmap m0 r0 4096 3 shared 0',
        'check m0 4000 97',
        'munmap m0',
        'fill m0 0 1 1',
        'munmap m0',
        'mmap m1 r0 0 3 shared 0',
        'check m1 0 0',
        'close r0',
        'fstat r0',
        'mf_create f0 "x" 10',
        'app_wait "t" 5',
      ));
      const r = resultsOf(run);
      assert.equal(at(r, 4)['error'], 'state');
      assert.deepEqual(at(r, 5), { i: 5, op: 'munmap', ret: 0 });
      assert.equal(at(r, 6)['error'], 'state');
      assert.equal(at(r, 7)['error'], 'state');
      assert.deepEqual(at(r, 8), { i: 8, op: 'mmap', errno: 'EINVAL' });
      assert.equal(at(r, 9)['error'], 'state');
      assert.deepEqual(at(r, 11), { i: 11, op: 'fstat', errno: 'EBADF' });
      assert.equal(at(r, 12)['error'], 'unsupported');
      assert.equal(at(r, 13)['error'], 'unsupported');
    });

    it('runs mincore, seals, personality and a bounded pressure helper', async () => {
      const run = await runProbe(abi, script(
        'open r0',
        'truncate r0 16384',
        'mmap m0 r0 16384 3 shared 0',
        'fill m0 0 4096 1',
        'mincore m0 0 16384',
        'add_seals r0 8', // F_SEAL_WRITE
        'add_seals r0 4', // F_SEAL_GROW
        'get_seals r0',
        'truncate r0 32768',
        'personality read_implies_exec',
        'personality default',
        'pressure 4 0',
        'fstat r0',
      ));
      const r = resultsOf(run);
      const resident = at(r, 5)['resident'] as [number, number][];
      assert.equal(resident.reduce((n, [, c]) => n + c, 0), 4);
      assert.deepEqual(resident[0], [1, 1]);
      assert.deepEqual(at(r, 6), { i: 6, op: 'add_seals', errno: 'EBUSY' }); // F_SEAL_WRITE with a writable mapping
      assert.deepEqual(at(r, 7), { i: 7, op: 'add_seals', ret: 0 });
      assert.deepEqual(at(r, 8), { i: 8, op: 'get_seals', ret: 4 });
      assert.deepEqual(at(r, 9), { i: 9, op: 'truncate', errno: 'EPERM' });
      assert.deepEqual(at(r, 10), { i: 10, op: 'personality', ret: 0 });
      assert.deepEqual(at(r, 11), { i: 11, op: 'personality', ret: 0 });
      assert.deepEqual(at(r, 12), { i: 12, op: 'pressure', ret: 0 });
      assert.deepEqual(at(r, 13), { i: 13, op: 'fstat', ret: 0, mode: 'reg', size: 16384 });
    });

    it('opens read-only: a shared writable mapping is refused with EACCES', async () => {
      const run = await runProbe(abi, script(
        'open r0 rdonly',
        'fstat r0',
        'mmap m0 r0 4096 3 shared 0',
        'write r0 1',
      ));
      const r = resultsOf(run);
      assert.deepEqual(at(r, 1), { i: 1, op: 'open', ret: 0 });
      assert.deepEqual(at(r, 2), { i: 2, op: 'fstat', ret: 0, mode: 'reg', size: 0 });
      assert.deepEqual(at(r, 3), { i: 3, op: 'mmap', errno: 'EACCES' });
      assert.deepEqual(at(r, 4), { i: 4, op: 'write', errno: 'EBADF' });
    });
  });
}

/** `--version` output of a probe. */
async function runProbeVersion(abi: (typeof ALL_ABIS)[number]): Promise<string> {
  const run = await runProbe(abi, '', ['--version']);
  return run.stdout.toString('utf8');
}

function memfdIoctlErrnoSafe(abi: (typeof ALL_ABIS)[number]): string {
  try {
    return memfdIoctlErrno(abi);
  } catch {
    return 'ENOTTY or ENOSYS';
  }
}
