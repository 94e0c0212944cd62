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
  return Array.isArray(v) && v.every((x) => Array.isArray(x) && x.length === 2 && Number.isInteger(x[0]) && x[0] >= 0 && x[0] <= 255 && Number.isInteger(x[1]) && x[1] > 0);
}

/**
 * What is wrong with a result line's shape, or undefined when it is well formed.
 * @param r - one parsed JSON object with an `i` or an `op` (other objects are metadata)
 */
export function shapeProblem(r: Readonly<Record<string, unknown>>): string | undefined {
  const i = r.i;
  if (typeof i !== 'number' || !Number.isSafeInteger(i) || i < 1) return `"i" must be the op's script line number (a positive integer), got ${show(i)}`;
  const at = `result for line ${i}`;
  if (typeof r.op !== 'string' || r.op === '') return `${at}: "op" must name the op, got ${show(r.op)}`;
  const outcomes = OUTCOMES.filter((f) => r[f] !== undefined);
  if (outcomes.length === 0) return `${at} (${r.op}): no outcome field: a result has exactly one of ${OUTCOMES.join(', ')}`;
  if (outcomes.length > 1) return `${at} (${r.op}): ${outcomes.length} outcome fields (${outcomes.join(' and ')}): a result has exactly one`;
  for (const f of STRINGS) if (r[f] !== undefined && typeof r[f] !== 'string') return `${at} (${r.op}): "${f}" must be a string, got ${show(r[f])}`;
  for (const f of INTEGERS) if (r[f] !== undefined && !Number.isSafeInteger(r[f])) return `${at} (${r.op}): "${f}" must be an integer, got ${show(r[f])}`;
  for (const f of ['rle', 'resident'] as const) if (r[f] !== undefined && !isRuns(r[f])) return `${at} (${r.op}): "${f}" must be byte runs [[byte, count], ...] with counts above 0, got ${show(r[f])}`;
  return undefined;
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
