/**
 * What an op answers, before line and process are attached: the value every layer of the model
 * (driver, memfd, kernel, libcutils, Java) returns. Kept apart from the kernel so that the
 * driver's files depend on it without depending on the kernel that calls them.
 */
import type { Op } from '../ops/ast.js';
import type { OpResult } from '../ops/result.js';
import { errnoName } from './errno.js';

/** What an op answered, before line and process are attached. */
export type Answer =
  | { ret: number; rle?: [number, number][]; name?: string; copied?: number; mode?: string; size?: number }
  | { errno: string }
  | { signal: string }
  | { error: string; message: string };

/** A bare return value. Instances are immutable, so 0 and 1 are shared (the hot path allocates nothing). */
export class Ret {
  constructor(readonly ret: number) {}
}
const SMALL = [new Ret(0), new Ret(1)] as const;

/** A successful answer. */
export const ok = (ret: number): Answer => (ret === 0 || ret === 1 ? SMALL[ret] : new Ret(ret));
/** A failed system call. */
export const fail = (errno: string): Answer => ({ errno });

/** An op outside what this model covers (the judge accepts any result for it). */
export const UNMODELLED = 'unmodelled';

/** The syscall's view of a driver's `long` result: an `int`, and -1..-4095 read as errno (§12). */
export function syscallReturn(value: bigint): Answer {
  const v = Number(BigInt.asIntN(32, value));
  if (v < 0 && v >= -4095) return fail(errnoName(-v));
  return ok(v);
}

/** The result line of `op` that answered `answer`. */
export function resultOf(op: Op, answer: Answer): OpResult {
  // Plain answers are the hot path: build the result without spreading.
  if (answer instanceof Ret) {
    return op.proc === 'p0' ? { i: op.line, op: op.kind, ret: answer.ret } : { i: op.line, op: op.kind, proc: op.proc, ret: answer.ret };
  }
  const base = op.proc === 'p0' ? { i: op.line, op: op.kind } : { i: op.line, op: op.kind, proc: op.proc };
  return { ...base, ...answer };
}
