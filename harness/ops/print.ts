/**
 * Printer for op scripts: `parseScript(printScript(s))` gives back the same ops
 * (with lines renumbered 1..n, one op per line).
 */
import { MAIN_PROC, type Op, type Script } from './ast.js';
import { SIGNATURES, type ArgSpec } from './signatures.js';

/** Quotes a byte string so that the parser reads back the same bytes. */
export function quote(bytes: string): string {
  let out = '"';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c >= 0x20 && c < 0x7f) out += bytes[i];
    else out += '\\x' + c.toString(16).padStart(2, '0');
  }
  return out + '"';
}

function printArg(spec: ArgSpec, value: unknown): string {
  if (spec.type === 'string') return quote(value as string);
  if (spec.type === 'word' && typeof value === 'bigint') {
    return value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
  }
  return String(value);
}

/** Prints one op as a script line (without a trailing newline). */
export function printOp(op: Op): string {
  const specs: readonly ArgSpec[] = SIGNATURES[op.kind];
  const parts: string[] = op.proc === MAIN_PROC ? [op.kind] : [`${op.proc}:`, op.kind];
  const fields = op as unknown as Record<string, unknown>;
  specs.forEach((spec, k) => {
    const v = fields[spec.field];
    // A trailing argument equal to its default is left out, as a person would write it.
    const trailingDefault = spec.default !== undefined && v === spec.default && k === specs.length - 1;
    if (!trailingDefault) parts.push(printArg(spec, v));
  });
  return parts.join(' ');
}

/** Prints a whole script, one op per line. */
export function printScript(script: Script | readonly Op[]): string {
  const ops = 'ops' in script ? script.ops : script;
  return ops.map(printOp).join('\n') + (ops.length > 0 ? '\n' : '');
}

/** Returns the ops with `line` renumbered to their position (1-based), as printing does. */
export function renumber(ops: readonly Op[]): Op[] {
  return ops.map((op, i) => ({ ...op, line: i + 1 }));
}
