/**
 * The hash under the state fingerprint (state-key.ts): two 32-bit FNV-1a-style streams, 64 bits
 * together. It is its own file because it is the hottest code of every judge (each world is
 * fingerprinted after each op) and because it has no behaviour of the driver in it: what a
 * fingerprint covers is state-key.ts's business, how the words are mixed is only this file's.
 * It is therefore not mutated (docs/mutation.md): a mutant of its mixing changes which states
 * collide, not a verdict, and `test/model/hasher.test.ts` checks the properties it must keep.
 */
/**
 * The fingerprints of the pages hashed so far: a 300-page scenario hashes the same pages in
 * every world after every op, which was most of its judging time.
 */
const PAGE_DIGESTS = new WeakMap<Uint8Array, readonly [number, number]>();

/** Two independent 32-bit FNV-1a streams. */
export class Hasher {
  a = 0x811c9dc5;
  b = 0x01000193 ^ 0x5bd1e995;

  /** An integer up to 2^53 in magnitude, as two words (exact: no two such numbers share them). */
  num(n: number): void {
    // Split so that numbers up to 2^53 hash exactly.
    const lo = n >>> 0;
    const hi = Math.floor(n / 4294967296) >>> 0;
    this.word(lo);
    this.word(hi);
  }

  /** One 32-bit word. */
  word(w: number): void {
    this.a = Math.imul(this.a ^ w, 0x01000193);
    this.b = Math.imul(this.b ^ w, 0x5bd1e995) ^ (this.b >>> 15);
  }

  /** A string, length first (so that concatenations differ). */
  str(s: string): void {
    this.num(s.length);
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
  }

  /** A bigint of any size. */
  big(v: bigint): void {
    this.str(v.toString(36));
  }

  /** A page's bytes, through its own fingerprint: pages are immutable once stored (backing.ts). */
  page(p: Uint8Array): void {
    let d = PAGE_DIGESTS.get(p);
    if (d === undefined) {
      const h = new Hasher();
      for (let i = 0; i < p.length; i++) h.word(p[i] as number);
      d = [h.a, h.b];
      PAGE_DIGESTS.set(p, d);
    }
    this.word(d[0]);
    this.word(d[1]);
  }

  /**
   * A sparse map of pages (index → a uniform byte or the page's bytes), in index order whatever
   * the map's insertion order.
   * @param skip - a uniform byte whose pages are left out, as if absent (state-key.ts passes 0
   *   when an allocated zero page counts as a hole)
   */
  pageMap(map: ReadonlyMap<number, number | Uint8Array>, skip: number | undefined): void {
    const keys: number[] = [];
    for (const [k, v] of map) if (v !== skip) keys.push(k);
    keys.sort((x, y) => x - y);
    this.num(keys.length);
    for (const k of keys) {
      this.num(k);
      const p = map.get(k) as number | Uint8Array;
      if (typeof p === 'number') this.num(p);
      else {
        this.num(-1);
        this.page(p);
      }
    }
  }

  /** The fingerprint so far. */
  digest(): string {
    return (this.a >>> 0).toString(36) + '.' + (this.b >>> 0).toString(36);
  }
}
