/**
 * The hash under the state fingerprint (harness/model/hasher.ts): it is not mutated (a hash's
 * mixing is no behaviour of the driver), so the properties the fingerprint relies on are checked
 * here — equal input, equal digest; different input, different digest.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Hasher } from '../../harness/model/hasher.js';

function digestOf(feed: (h: Hasher) => void): string {
  const h = new Hasher();
  feed(h);
  return h.digest();
}

describe('state fingerprint hash (hasher.ts)', () => {
  it('numbers are exact up to 2^53 either side: neighbours across the 32-bit split differ', () => {
    const values = [0, 1, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, -(2 ** 32), 2 ** 53 - 1, -(2 ** 53 - 1), 4096, 1048576];
    const digests = values.map((v) => digestOf((h) => h.num(v)));
    assert.equal(new Set(digests).size, values.length);
    assert.equal(digestOf((h) => h.num(2 ** 32 + 1)), digestOf((h) => h.num(2 ** 32 + 1)));
  });

  it('distinct integer sequences give distinct digests, equal ones equal digests', () => {
    fc.assert(fc.property(fc.array(fc.maxSafeInteger(), { maxLength: 6 }), fc.array(fc.maxSafeInteger(), { maxLength: 6 }), (a, b) => {
      const da = digestOf((h) => a.forEach((n) => h.num(n)));
      const db = digestOf((h) => b.forEach((n) => h.num(n)));
      assert.equal(da === db, JSON.stringify(a) === JSON.stringify(b));
    }));
  });

  it('strings carry their length: a different split of the same characters differs; bigints by value', () => {
    assert.notEqual(digestOf((h) => { h.str('ab'); h.str('c'); }), digestOf((h) => { h.str('a'); h.str('bc'); }));
    assert.notEqual(digestOf((h) => h.str('')), digestOf(() => undefined));
    assert.equal(digestOf((h) => h.big(2n ** 70n)), digestOf((h) => h.big(2n ** 70n)));
    assert.notEqual(digestOf((h) => h.big(2n ** 70n)), digestOf((h) => h.big(2n ** 70n + 1n)));
  });

  it('a page hashes by content: equal bytes in two arrays agree, one byte changed differs, a second pass agrees', () => {
    const a = new Uint8Array(4096).fill(7);
    const b = new Uint8Array(4096).fill(7);
    const c = new Uint8Array(4096).fill(7);
    c[4095] = 8;
    const first = digestOf((h) => h.page(a));
    assert.equal(digestOf((h) => h.page(b)), first);
    assert.equal(digestOf((h) => h.page(a)), first, 'the cached digest of a page is the one computed first');
    assert.notEqual(digestOf((h) => h.page(c)), first);
    assert.notEqual(digestOf((h) => h.page(a.subarray(0, 4095))), first);
  });
});

describe('state fingerprint hash: page maps', () => {
  const bytes = (fill: number): Uint8Array => new Uint8Array(16).fill(fill);

  it('hashes in index order whatever the insertion order; content and index both count', () => {
    const a = new Map<number, number | Uint8Array>([[1, 5], [0, bytes(3)], [7, 0]]);
    const b = new Map<number, number | Uint8Array>([[0, bytes(3)], [7, 0], [1, 5]]);
    assert.equal(digestOf((h) => h.pageMap(a, undefined)), digestOf((h) => h.pageMap(b, undefined)));
    assert.notEqual(digestOf((h) => h.pageMap(a, undefined)), digestOf((h) => h.pageMap(new Map<number, number | Uint8Array>([[1, 5], [0, bytes(3)], [8, 0]]), undefined)));
    assert.notEqual(digestOf((h) => h.pageMap(a, undefined)), digestOf((h) => h.pageMap(new Map<number, number | Uint8Array>([[1, 6], [0, bytes(3)], [7, 0]]), undefined)));
    assert.notEqual(digestOf((h) => h.pageMap(a, undefined)), digestOf((h) => h.pageMap(new Map<number, number | Uint8Array>([[1, 5], [0, bytes(4)], [7, 0]]), undefined)));
  });

  it('leaves out the pages of the skipped uniform byte only, as if absent', () => {
    const withZero = new Map<number, number | Uint8Array>([[0, 9], [3, 0]]);
    const without = new Map<number, number | Uint8Array>([[0, 9]]);
    assert.equal(digestOf((h) => h.pageMap(withZero, 0)), digestOf((h) => h.pageMap(without, 0)));
    assert.notEqual(digestOf((h) => h.pageMap(withZero, undefined)), digestOf((h) => h.pageMap(without, undefined)));
    // A byte array of zeros is content, not the uniform byte: it stays.
    assert.notEqual(digestOf((h) => h.pageMap(new Map<number, number | Uint8Array>([[0, 9], [3, bytes(0)]]), 0)), digestOf((h) => h.pageMap(without, 0)));
    assert.notEqual(digestOf((h) => h.pageMap(new Map<number, number | Uint8Array>([[0, 9], [3, 2]]), 0)), digestOf((h) => h.pageMap(without, 0)));
  });
});
