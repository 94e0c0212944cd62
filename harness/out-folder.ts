/**
 * `--out`: checked before any target is touched, so a bad path costs nothing, and one rule for a
 * folder that already holds an earlier run: the harness's own files there (the list below) are
 * removed first, so results.jsonl, raw.jsonl and repro/ never mix two runs; a folder that also
 * holds anything else is refused unless `--force` (then only the harness's own files go).
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from './io.js';

/** What `run` and `conform` write into their `--out` folder. */
export const OWN_ENTRIES: readonly string[] = ['results.jsonl', 'raw.jsonl', 'report.json', 'junit.xml', 'report.html', 'repro'];

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? 'error';
}

/** The nearest existing path at or above `p`. */
function nearestExisting(p: string): string {
  let dir = path.resolve(p);
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** Creates `dir` (and its parents) and proves it writable, or says why not in one line. */
function makeWritable(dir: string, flag: string): void {
  const base = nearestExisting(dir);
  if (!fs.statSync(base).isDirectory()) throw new InputError(`${flag} ${dir}: ${base} is a file, so no folder can be made below it; pick another path`);
  try {
    // One level at a time: Node's recursive mkdir spins forever where a parent refuses new
    // entries with ENOENT (below /proc, for one).
    const missing: string[] = [];
    for (let d = path.resolve(dir); d !== base; d = path.dirname(d)) missing.unshift(d);
    for (const d of missing) fs.mkdirSync(d);
    const probe = path.join(dir, `.ashmem-harness-write-test-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (e) {
    throw new InputError(`${flag} ${dir}: cannot write there (${code(e)}); pick a writable folder`);
  }
}

/**
 * Readies the report folder of `run` / `conform` before anything runs.
 * @throws InputError (exit 2) when `dir` is a file, lies below a file, is not writable, or holds
 *   files the harness did not write (without `force`)
 */
export function prepareOutFolder(dir: string, force: boolean): void {
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new InputError(`--out ${dir} is a file, not a folder; pick a folder (it is created if missing)`);
  makeWritable(dir, '--out');
  const entries = fs.readdirSync(dir);
  const foreign = entries.filter((e) => !OWN_ENTRIES.includes(e));
  if (foreign.length > 0 && !force) {
    const shown = foreign.slice(0, 5).map((e) => JSON.stringify(e)).join(', ') + (foreign.length > 5 ? `, and ${foreign.length - 5} more` : '');
    throw new InputError(`--out ${dir} holds files this harness did not write (${shown}); pick a new or empty folder, or add --force to replace only the harness's own files there`);
  }
  for (const e of entries) if (OWN_ENTRIES.includes(e)) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
}

/**
 * Checks a file that `exec --out` appends to: not a folder, its folder exists or can be made,
 * and it can be opened for appending.
 * @throws InputError (exit 2) saying what is wrong
 */
export function checkOutFile(file: string): void {
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new InputError(`--out ${file} is a folder; exec --out appends to a file: name one`);
  makeWritable(path.dirname(path.resolve(file)), '--out');
  try {
    fs.closeSync(fs.openSync(file, 'a'));
  } catch (e) {
    throw new InputError(`--out ${file}: cannot append to it (${code(e)}); pick a writable file`);
  }
}
