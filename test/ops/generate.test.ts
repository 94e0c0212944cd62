/**
 * The generator's target settings and the limits it keeps so that every case stays runnable on a
 * real kernel (harness/ops/generate.ts; issue 12 §6).
 */
import assert from 'node:assert/strict';
import type { Op } from '../../harness/ops/ast.js';
import { generateCases, parsedCase, settingsForTarget } from '../../harness/ops/generate.js';

const VAST = 1n << 62n;
const CASES = 300;

function cases(ioctlEmulation: 'none' | 'qemu-user', memfd = false, seed = 1): (readonly Op[])[] {
  return generateCases(settingsForTarget({ pageSize: 4096, root: true, memfd, ioctlEmulation }, 40), CASES, seed).map(parsedCase);
}

/** The op right after each `mprotect` that follows a `munmap_range` of the same mapping in the same process. */
function afterHoleMprotect(ops: readonly Op[]): (Op | undefined)[] {
  const out: (Op | undefined)[] = [];
  ops.forEach((op, i) => {
    const before = ops[i - 1];
    if (op.kind === 'mprotect' && before?.kind === 'munmap_range' && before.m === op.m && before.proc === op.proc) out.push(ops[i + 1]);
  });
  return out;
}

describe('generated cases', () => {
  it('settings by target: the probe under qemu-user or not, from the target\'s ioctlEmulation', () => {
    assert.equal(settingsForTarget({ pageSize: 4096, root: true, memfd: false, ioctlEmulation: 'qemu-user' }, 40).emulated, true);
    assert.equal(settingsForTarget({ pageSize: 4096, root: true, memfd: false, ioctlEmulation: 'none' }, 40).emulated, false);
  });

  it('touch a mapping across its hole after an mprotect there on a real kernel, never under qemu-user', () => {
    const touches = (ops: Op | undefined, m: string): boolean => ops !== undefined && (ops.kind === 'check' || ops.kind === 'fill') && ops.m === m;
    for (const memfd of [false, true]) {
      const real = cases('none', memfd).flatMap((ops) => afterHoleMprotect(ops).map((next, k) => ({ next, m: ops.filter((o) => o.kind === 'mprotect')[k] })));
      const emulated = cases('qemu-user', memfd).flatMap((ops) => {
        const found: boolean[] = [];
        ops.forEach((op, i) => {
          const before = ops[i - 1];
          if (op.kind === 'mprotect' && before?.kind === 'munmap_range' && before.m === op.m) found.push(touches(ops[i + 1], op.m));
        });
        return found;
      });
      assert.ok(real.some(({ next }) => next !== undefined && (next.kind === 'check' || next.kind === 'fill')), `memfd ${memfd}: some touch after an mprotect across a hole`);
      assert.ok(emulated.length > 0, `memfd ${memfd}: mprotects across holes are generated under qemu-user too`);
      assert.ok(emulated.every((t) => !t), `memfd ${memfd}: no touch after them under qemu-user`);
    }
  });

  it('a vast region (2^62 bytes) is mapped (MAP_NORESERVE) and pinned, never unpinned with len 0 nor sought from its end', () => {
    let mapped = 0;
    let pins = 0;
    for (const seed of [1, 2, 3]) {
      for (const ops of cases('none', false, seed)) {
        // Which handles name a vast area, per process (a child inherits its parent's).
        const vast = new Map<string, Set<string>>([['p0', new Set()]]);
        const of = (proc: string): Set<string> => vast.get(proc) ?? vast.get('p0') as Set<string>;
        for (const op of ops) {
          const v = of(op.proc);
          if (op.kind === 'fork') vast.set(op.child, new Set(v));
          if (op.kind === 'open') v.delete(op.r);
          if (op.kind === 'dup') { if (v.has(op.from)) v.add(op.r); else v.delete(op.r); }
          if (op.kind === 'set_size') { if (op.size === VAST) v.add(op.r); else v.delete(op.r); }
          // (A plain first mmap commits the whole file: refused, or admitted by the model either way.)
          if (op.kind === 'mmap' && v.has(op.r) && op.map.endsWith('_noreserve')) mapped++;
          if ((op.kind === 'pin' || op.kind === 'unpin' || op.kind === 'status') && v.has(op.r)) pins++;
          if (op.kind === 'unpin' && v.has(op.r)) assert.notEqual(op.len, 0, `line ${op.line}: unpin len 0 of a vast region`);
          if (op.kind === 'lseek' && v.has(op.r)) assert.notEqual(op.whence, 'end', `line ${op.line}: SEEK_END on a vast region`);
          if (op.kind === 'ioctl_buf' && v.has(op.r) && op.bytes.length === 8) assert.notEqual(op.bytes.slice(4), '\0\0\0\0', `line ${op.line}: a pin struct of len 0 on a vast region`);
        }
      }
    }
    assert.ok(mapped > 0 && pins > 0, `vast regions mapped ${mapped}, pinned ${pins}`);
  });

  it('dup over live handles, standalone mincore, and seals past the known set are generated', () => {
    const all = cases('none').flat();
    const memfd = cases('none', true).flat();
    assert.ok(all.some((op, i) => op.kind === 'dup' && all.slice(0, i).some((o) => (o.kind === 'open' || o.kind === 'dup') && o.r === op.r && o.line < op.line)), 'a dup onto a handle that was defined before');
    assert.ok(all.some((op) => op.kind === 'mincore' && op.offset > 0), 'mincore of a window that starts past the mapping\'s first page');
    assert.ok(memfd.some((op) => op.kind === 'add_seals' && op.seals === 0x40), 'add_seals of a bit no kernel defines');
    assert.ok(memfd.some((op) => op.kind === 'truncate' && op.size % 4096 !== 0), 'a truncate that ends inside a page');
  });
});
