/**
 * The model's bound on memory touched by one op. The model walks windows page by page (and keeps
 * one entry per written page in every admissible world), so a `fill`/`check` of 2^40 bytes would
 * take minutes and gigabytes before failing. Scripts that judge the driver never need that: the
 * probe itself refuses results of more than 4 194 304 byte runs, and 1 GiB is 262 144 pages of
 * 4 KiB. predict and judge refuse longer windows up front (docs/op-scripts.md, "Limits").
 */
import type { Op, Script } from '../ops/ast.js';

/** Most bytes one fill, check, mincore, read, write, buf_put or buf_get may cover in the model: 1 GiB. */
export const MAX_MODEL_WINDOW_BYTES = 1 << 30;

/** The length an op touches, for the ops that walk memory. */
function windowOf(op: Op): number | undefined {
  switch (op.kind) {
    case 'fill':
    case 'check':
    case 'mincore':
    case 'read':
    case 'write':
    case 'buf_put':
    case 'buf_get':
      return op.len;
    default:
      return undefined;
  }
}

/**
 * The first op whose window is over {@link MAX_MODEL_WINDOW_BYTES}, described for an error line,
 * or undefined when every window fits.
 */
export function windowTooLarge(script: Script): string | undefined {
  for (const op of script.ops) {
    const len = windowOf(op);
    if (len !== undefined && len > MAX_MODEL_WINDOW_BYTES) {
      return `line ${op.line}: ${op.kind} of ${len} bytes is over the model's limit of ${MAX_MODEL_WINDOW_BYTES} bytes (1 GiB) per op; split it into smaller windows (docs/op-scripts.md, "Limits")`;
    }
  }
  return undefined;
}
