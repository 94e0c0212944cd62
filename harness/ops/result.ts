/**
 * One result line (JSON Lines) per op, as written by the model, the probe and the APK.
 * Format in `docs/op-scripts.md`; the files in `real-driver-samples/` use the same shape.
 */

/** A run of equal bytes: `[byte, count]`. */
export type ByteRun = readonly [number, number];

/** The outcome of one op. Exactly one of `ret`, `errno`, `signal`, `exception`, `error` is present. */
export interface OpResult {
  /** Line number of the op in the script. */
  readonly i: number;
  /** The op's kind. */
  readonly op: string;
  /** Process that ran it, when not the main process. */
  readonly proc?: string;
  /** Return value (ioctl results as the kernel's `int`). */
  readonly ret?: number;
  /** errno name, e.g. `EINVAL`. */
  readonly errno?: string;
  /** Signal name when the op faulted, e.g. `SIGBUS`. */
  readonly signal?: string;
  /** Java layer: the class of the exception thrown (`java.io.IOException`), with `message`. */
  readonly exception?: string;
  /** A script or environment error (the op did not run): `parse`, `unsupported`, `state`, `skipped`. */
  readonly error?: string;
  /** Human-readable detail for `error`. */
  readonly message?: string;
  /** Bytes read back, as runs (check, read). */
  readonly rle?: readonly ByteRun[];
  /** GET_NAME: the name as a byte string; `copied`: bytes the kernel wrote. */
  readonly name?: string;
  readonly copied?: number;
  /** GET_FILE_ID: the inode number (informational: never compared). */
  readonly id?: number;
  /** mincore: page residency runs `[0|1, pages]` (informational). */
  readonly resident?: readonly ByteRun[];
  /** fstat: `chr` or `reg`, and st_size. */
  readonly mode?: string;
  readonly size?: number;
}

/** Outcome fields that carry the op's status. */
export type Outcome = { ret: number } | { errno: string } | { signal: string };

/** Run-length encodes bytes. */
export function toRuns(bytes: Uint8Array): ByteRun[] {
  const runs: [number, number][] = [];
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let j = i + 1;
    while (j < bytes.length && bytes[j] === b) j++;
    runs.push([b, j - i]);
    i = j;
  }
  return runs;
}

/** Appends a run, merging with the previous one when the byte is the same. */
export function pushRun(runs: [number, number][], byte: number, count: number): void {
  if (count <= 0) return;
  const last = runs[runs.length - 1];
  if (last !== undefined && last[0] === byte) last[1] += count;
  else runs.push([byte, count]);
}

/** Total byte count of runs. */
export function runsLength(runs: readonly ByteRun[]): number {
  let n = 0;
  for (const r of runs) n += r[1];
  return n;
}
