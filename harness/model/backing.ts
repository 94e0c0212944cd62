/**
 * The backing shmem file (§2): created by an area's first successful mmap (or at open, for a
 * memfd), it holds the region's pages. An absent page is a hole and reads as zeros; a purge
 * punches holes (§5.1). A page is a single byte value when uniform, else a byte array, so that
 * large fills and checks of one pattern cost one entry per page and no copying.
 */

/**
 * Page content: a uniform byte, or the page's bytes. A stored byte array is never written in
 * place ({@link writePage} and `truncate` store a new one), so worlds and forks share pages
 * and a page's fingerprint can be kept with it (state-key.ts).
 */
export type Page = number | Uint8Array;

/** A shmem file's data and size. */
export class Backing {
  /** Page index → content; absent = hole. */
  pages = new Map<number, Page>();
  private size = 0n;
  /** ceil(i_size / PAGE), kept with the size: every mapped access asks for it. */
  private limit = 0;

  /**
   * @param ino - inode number (only identity matters; never compared with a kernel's)
   * @param iSize - i_size in bytes, exact (not page-rounded)
   * @param pageSize - the kernel's page size
   */
  constructor(
    readonly ino: number,
    iSize: bigint,
    readonly pageSize: number,
  ) {
    this.iSize = iSize;
  }

  /** i_size in bytes. */
  get iSize(): bigint {
    return this.size;
  }

  set iSize(v: bigint) {
    this.size = v;
    const p = BigInt(this.pageSize);
    const n = (v + p - 1n) / p;
    this.limit = n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
  }

  /** Pages that exist in the file: ceil(i_size / PAGE); a fault beyond them is SIGBUS. */
  pageLimit(): number {
    return this.limit;
  }

  /** Punches a hole over pages [first, last] (FALLOC_FL_PUNCH_HOLE | KEEP_SIZE, §5.1). */
  punch(first: number, last: number): void {
    if (last < first) return;
    if (last - first + 1 < this.pages.size) {
      for (let p = first; p <= last; p++) this.pages.delete(p);
    } else {
      for (const p of [...this.pages.keys()]) if (p >= first && p <= last) this.pages.delete(p);
    }
  }

  /** Drops pages wholly beyond `size` and zeroes the tail of a partial last page (ftruncate). */
  truncate(size: bigint): void {
    const ps = BigInt(this.pageSize);
    const keep = Number((size + ps - 1n) / ps);
    for (const p of [...this.pages.keys()]) if (p >= keep) this.pages.delete(p);
    const tail = Number(size % ps);
    if (tail !== 0) {
      const last = keep - 1;
      const page = this.pages.get(last);
      if (page !== undefined) {
        const bytes = materialize(page, this.pageSize);
        bytes.fill(0, tail);
        this.pages.set(last, bytes);
      }
    }
    this.iSize = size;
  }

  /** A deep copy (for a possible world of its own). */
  clone(): Backing {
    const b = new Backing(this.ino, this.iSize, this.pageSize);
    // Pages are immutable once stored (see Page): sharing them is a copy.
    for (const [k, v] of this.pages) b.pages.set(k, v);
    return b;
  }
}

/** The bytes of a page (a fresh array). */
export function materialize(page: Page | undefined, pageSize: number): Uint8Array {
  if (page === undefined) return new Uint8Array(pageSize);
  if (typeof page === 'number') return new Uint8Array(pageSize).fill(page);
  return page.slice();
}

/** Writes `byte` into [from, to) of a page and returns the new content (the page itself is left as it was). */
export function writePage(page: Page | undefined, from: number, to: number, byte: number, pageSize: number): Page {
  if (from === 0 && to === pageSize) return byte;
  if (typeof page === 'number' && page === byte) return page;
  const bytes = materialize(page, pageSize);
  bytes.fill(byte, from, to);
  return bytes;
}
