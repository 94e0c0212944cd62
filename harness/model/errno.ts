/**
 * errno numbers of the generic Linux ABI (x86, ARM, arm64, RISC-V share them), by name.
 * Only the ones the driver, the VFS and the harness can produce are listed; the result
 * format carries names, and {@link errnoName} names any number.
 */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  EBADF: 9,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOTTY: 25,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  ERANGE: 34,
  ENOSYS: 38,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
} as const satisfies Record<string, number>;

/** An errno name the model can produce. */
export type ErrnoName = keyof typeof ERRNO;

const BY_NUMBER = new Map<number, string>(Object.entries(ERRNO).map(([k, v]) => [v, k]));

/** The name of errno `n`, or `E<n>` for one this table does not list. */
export function errnoName(n: number): string {
  return BY_NUMBER.get(n) ?? `E${n}`;
}
