/**
 * Do these results belong to this script? A result line must be well formed (docs/op-scripts.md
 * "Results": a line number, the op's name, exactly one outcome field, fields of the right type),
 * name an op of the script by line, name that op, and come once per op. Results that break one of
 * these are not observations of the script at all: judging them would turn into nonsense
 * divergences ("expected ret 2, observed ret 2") or into "consistent" for a script they never ran.
 * Results missing only at the end are different: the target stopped early (the judge says
 * incomplete).
 */
import { MAIN_PROC, type Op, type Script } from '../ops/ast.js';
import type { OpResult } from '../ops/result.js';

/** Results that do not belong to the script: a usage error (exit 2), never a verdict on the target. */
export class ResultsMismatchError extends Error {
  override readonly name = 'ResultsMismatchError';
  /**
   * @param message - what is wrong with which result, in one line
   * @param index - the offending result's position among the results given (0-based)
   */
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
  }
}

/** The outcome fields: a result has exactly one. */
const OUTCOMES = ['ret', 'errno', 'signal', 'exception', 'error'] as const;

/** Fields whose values have a fixed JSON type (informational ones included: a wrong type is a wrong file). */
const STRINGS = ['op', 'proc', 'errno', 'signal', 'exception', 'error', 'message', 'name', 'mode'] as const;
const INTEGERS = ['ret', 'copied', 'id', 'size'] as const;

/** A short JSON form of a bad value for a message (a line may be megabytes). */
function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** True for `[[byte, count], ...]` with bytes 0–255 (or 0/1 residency) and positive counts. */
function isRuns(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (const x of v as unknown[]) {
    if (!Array.isArray(x) || x.length !== 2) return false;
    const [b, n] = x as [unknown, unknown];
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255 || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) return false;
  }
  return true;
}

/**
 * What is wrong with a result line's shape, or undefined when it is well formed.
 * @param r - one parsed JSON object with an `i` or an `op` (other objects are metadata)
 */
export function shapeProblem(r: Readonly<Record<string, unknown>>): string | undefined {
  // The judge's hot path: named property reads (results come in many object shapes, and keyed
  // loads over a list of names cost more than the judging); the lists only build messages.
  const { i, op, ret, errno, signal, exception, error } = r;
  if (typeof i !== 'number' || !Number.isSafeInteger(i) || i < 1) return `"i" must be the op's script line number (a positive integer), got ${show(i)}`;
  if (typeof op !== 'string' || op === '') return `result for line ${i}: "op" must name the op, got ${show(op)}`;
  const outcomes = (ret !== undefined ? 1 : 0) + (errno !== undefined ? 1 : 0) + (signal !== undefined ? 1 : 0) + (exception !== undefined ? 1 : 0) + (error !== undefined ? 1 : 0);
  const plain = outcomes === 1 && (ret === undefined || Number.isSafeInteger(ret)) && (errno === undefined || typeof errno === 'string')
    && (signal === undefined || typeof signal === 'string') && (exception === undefined || typeof exception === 'string') && (error === undefined || typeof error === 'string')
    && (r.proc === undefined || typeof r.proc === 'string') && (r.message === undefined || typeof r.message === 'string')
    && (r.rle === undefined || isRuns(r.rle)) && (r.name === undefined || typeof r.name === 'string') && (r.copied === undefined || Number.isSafeInteger(r.copied))
    && (r.id === undefined || Number.isSafeInteger(r.id)) && (r.resident === undefined || isRuns(r.resident)) && (r.mode === undefined || typeof r.mode === 'string')
    && (r.size === undefined || Number.isSafeInteger(r.size));
  return plain ? undefined : shapeMessage(r, i, op);
}

/** Which rule a malformed result breaks, in words (off the hot path). */
function shapeMessage(r: Readonly<Record<string, unknown>>, i: number, op: string): string {
  const at = `result for line ${i} (${op})`;
  const outcomes = OUTCOMES.filter((f) => r[f] !== undefined);
  if (outcomes.length === 0) return `${at}: no outcome field: a result has exactly one of ${OUTCOMES.join(', ')}`;
  if (outcomes.length > 1) return `${at}: ${outcomes.length} outcome fields (${outcomes.join(' and ')}): a result has exactly one`;
  for (const f of STRINGS) if (r[f] !== undefined && typeof r[f] !== 'string') return `${at}: "${f}" must be a string, got ${show(r[f])}`;
  for (const f of INTEGERS) if (r[f] !== undefined && !Number.isSafeInteger(r[f])) return `${at}: "${f}" must be an integer, got ${show(r[f])}`;
  for (const f of ['rle', 'resident'] as const) if (r[f] !== undefined && !isRuns(r[f])) return `${at}: "${f}" must be byte runs [[byte, count], ...] with counts above 0, got ${show(r[f])}`;
  return `${at}: malformed`;
}

/**
 * What is wrong with a well-formed result given the script, or undefined when it is the result
 * of the op on its line.
 * @param op - the script's op on the result's line, if any
 * @param ops - the script's ops (for the message when there is no op on that line)
 */
export function belongingProblem(r: OpResult, op: Op | undefined, ops: readonly Op[]): string | undefined {
  if (op === undefined) {
    const span = ops.length === 0 ? 'the script has no ops' : `the script's ops are on lines ${(ops[0] as Op).line}–${(ops[ops.length - 1] as Op).line}`;
    return `result for line ${r.i} (${r.op}): the script has no op on line ${r.i} (${span})`;
  }
  // A target that could not parse a line names the word it read; the script's parser accepted it.
  if (r.error !== 'parse' && r.op !== op.kind) return `result for line ${r.i} is for "${r.op}", but line ${r.i} of the script is "${op.kind}"`;
  const proc = r.proc ?? MAIN_PROC;
  if (proc !== op.proc) return `result for line ${r.i} (${r.op}) ran in process ${proc}, but the script runs line ${r.i} in ${op.proc}`;
  return undefined;
}

/** The script's ops by line. */
export function opsByLine(script: Script): Map<number, Op> {
  return new Map(script.ops.map((op) => [op.line, op]));
}
