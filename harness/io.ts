/**
 * Reading the CLI's inputs (scripts, result files) with errors that say what to fix, and
 * writing JSON Lines that survive a crash (one line written per result, as it arrives).
 */
import fs from 'node:fs';
import type { Script } from './ops/ast.js';
import { ScriptErrors } from './ops/errors.js';
import { parseScript } from './ops/parse.js';
import type { OpResult } from './ops/result.js';

/** Bad input: a file that is missing, unreadable or malformed. Exit code 2. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** Reads a file, or standard input for `-`. */
export function readInput(file: string): string {
  try {
    return fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new InputError(`cannot read ${file === '-' ? 'standard input' : file} (${code}): check the path`);
  }
}

/** Most parse errors printed; the rest are counted ("and N more"). */
export const MAX_SHOWN_ERRORS = 20;

/** Longest run of non-blank characters shown from a script in a message (a token, mostly). */
const MAX_SHOWN_TOKEN = 60;

/** Every character outside printable ASCII escaped (`\x1b`, `\u{e9}`): no terminal control sequence gets through. */
export function escapedText(text: string): string {
  return text.replace(/[^\x20-\x7e]/gu, (c) => {
    const n = c.codePointAt(0) ?? 0;
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
  });
}

/**
 * Text from a script made safe for a terminal: every character outside printable ASCII is
 * escaped (`\x1b`, `\u{e9}`), and any run of non-blank characters is cut to a readable length.
 */
export function shownText(text: string): string {
  return escapedText(text).replace(new RegExp(`\\S{${MAX_SHOWN_TOKEN + 1},}`, 'g'), (run) => `${run.slice(0, MAX_SHOWN_TOKEN)}...(${run.length} characters)`);
}

/** Reads and parses an op script; bad lines are listed as FILE:LINE:COL (the first {@link MAX_SHOWN_ERRORS}). */
export function readScript(file: string): { text: string; script: Script } {
  const text = readInput(file);
  try {
    return { text, script: parseScript(text) };
  } catch (e) {
    if (e instanceof ScriptErrors) {
      const where = escapedText(file === '-' ? '<stdin>' : file);
      const shown = e.errors.slice(0, MAX_SHOWN_ERRORS).map((x) => `${where}:${x.line}:${x.col}: ${shownText(x.detail)}`);
      const more = e.errors.length - shown.length;
      if (more > 0) shown.push(`... and ${more} more error line(s)`);
      throw new InputError(shown.join('\n') + '\n(see docs/op-scripts.md)');
    }
    throw e;
  }
}

/**
 * Reads a JSON Lines results file: result objects (those with an `i` or an `op`, checked by the
 * judge) and metadata lines (hello, end), with each result's line number in the file.
 */
export function readResults(file: string): { results: OpResult[]; meta: unknown[]; fileLines: number[] } {
  const text = readInput(file);
  const results: OpResult[] = [];
  const meta: unknown[] = [];
  const fileLines: number[] = [];
  text.split('\n').forEach((line, idx) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new InputError(`${escapedText(file)}:${idx + 1}: not a JSON object: ${shownText(line.slice(0, 80))}`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(`${file}:${idx + 1}: expected a JSON object per line`);
    if ('i' in v || 'op' in v) {
      results.push(v as OpResult);
      fileLines.push(idx + 1);
    } else meta.push(v);
  });
  return { results, meta, fileLines };
}

/** Appends JSON lines to a file, synchronously, so nothing is lost if the run dies. */
export class JsonlSink {
  private readonly fd: number;
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a');
  }
  write(value: unknown): void {
    fs.writeSync(this.fd, JSON.stringify(value) + '\n');
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}
