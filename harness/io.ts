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

/** Reads and parses an op script; every bad line is listed as FILE:LINE:COL. */
export function readScript(file: string): { text: string; script: Script } {
  const text = readInput(file);
  try {
    return { text, script: parseScript(text) };
  } catch (e) {
    if (e instanceof ScriptErrors) {
      const where = file === '-' ? '<stdin>' : file;
      throw new InputError(e.errors.map((x) => `${where}:${x.line}:${x.col}: ${x.detail}`).join('\n') + '\n(see docs/op-scripts.md)');
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
      throw new InputError(`${file}:${idx + 1}: not a JSON object: ${line.slice(0, 80)}`);
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
