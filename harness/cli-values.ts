/**
 * Parsers of command-line values (commander's argParser): each accepts exactly what makes
 * sense and otherwise throws InvalidArgumentError, which commander prints as a usage error.
 */
import { InvalidArgumentError } from 'commander';

/** A whole number ≥ `min` (an empty value is not 0). */
export function wholeNumber(name: string, min = 0): (v: string) => number {
  return (v: string): number => {
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, got "${v}"`);
    }
    return n;
  };
}

/** Page sizes the model takes: powers of two from 4 KiB to 64 KiB (Android: 4096, 16384, 65536). */
export function pageSize(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isSafeInteger(n) || n < 4096 || n > 65536 || (n & (n - 1)) !== 0) {
    throw new InvalidArgumentError(`page size must be a power of two from 4096 to 65536 (4096, 16384 or 65536 on Android), got "${v}"`);
  }
  return n;
}

/** A kernel release as `uname -r` prints it: MAJOR.MINOR first (`6.1.57`, `5.10.0-android12-9`). */
export function kernelRelease(v: string): string {
  if (!/^\d+\.\d+/.test(v)) throw new InvalidArgumentError(`kernel must be a release like 6.1.57 or 5.10.0-android12 (as uname -r prints it), got "${v}"`);
  return v;
}
