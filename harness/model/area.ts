/**
 * The area (§2): one per open of /dev/ashmem, shared by dup and fork, holding name, size,
 * prot mask, the backing file once mmap created it, and the unpinned list (descending).
 * For the memfd flavors the same object stands for the memfd's open file description.
 */
import type { Backing } from './backing.js';
import type { Range } from './range.js';

/** PROT_READ | PROT_WRITE | PROT_EXEC: the initial and maximal mask (§1.1). */
export const PROT_MASK = 7;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

/** memfd seals (fcntl.h). */
export const SEAL = { SEAL: 1, SHRINK: 2, GROW: 4, WRITE: 8, FUTURE_WRITE: 16 } as const;

/** An area (or a memfd's open file description). */
export class Area {
  /** Name without the "dev/ashmem/" prefix; null = never named (Rust tells null from ""). */
  name: string | null = null;
  /** size_t, byte-exact. */
  size = 0n;
  protMask = PROT_MASK;
  /** The backing file; its existence freezes name and size and enables pin/read/lseek. */
  file: Backing | null = null;
  /** Unpinned ranges, highest pages first (§4). */
  unpinned: Range[] = [];
  /** The file position shared by every dup (read, lseek). */
  pos = 0n;
  /** Handles (in any process) that refer to this open file description. */
  refs = 1;
  /** memfd flavor: seals; memfd regions never have an unpinned list. */
  seals = 0;
  /** PAGE_ALIGN(size) as a number once the file froze the size (Infinity beyond 2^53). */
  alignedSize = Infinity;

  constructor(
    readonly id: number,
    readonly kind: 'ashmem' | 'memfd',
    readonly writable: boolean,
  ) {}

  /** A copy for another possible world; ranges and file are re-linked by the caller. */
  cloneShallow(): Area {
    const a = new Area(this.id, this.kind, this.writable);
    a.name = this.name;
    a.size = this.size;
    a.protMask = this.protMask;
    a.pos = this.pos;
    a.refs = this.refs;
    a.seals = this.seals;
    a.alignedSize = this.alignedSize;
    return a;
  }
}
