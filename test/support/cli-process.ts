/**
 * The CLI as a child process the test can signal (TEST INFRASTRUCTURE): output collected, exit
 * awaited with a bound, and files polled until the run has visibly started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

/** The CLI's entry point. */
export const BIN = path.join(ROOT, 'bin', 'ashmem-harness.js');

/** A running CLI. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Output so far. */
  readonly out: () => string;
  readonly err: () => string;
  /** Resolves with the exit code (a signal death gives 128 + its number) and when it exited. */
  readonly exited: Promise<{ code: number; at: number }>;
}

/**
 * Starts `ashmem-harness ARGS`. `detached` puts it in a process group of its own, so a test can
 * signal the whole group as a terminal's Ctrl-C does (probes included). `input` is its standard
 * input (none by default).
 */
export function startCli(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; detached?: boolean; input?: string } = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...opts.env }, detached: opts.detached === true, stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number; at: number }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : signal === 'SIGINT' ? 2 : 0), at: Date.now() }));
  });
  return { child, out: () => out, err: () => err, exited };
}

/** Waits for the exit, killing the process (group) with SIGKILL after `ms`. */
export async function exitWithin(p: CliProcess, ms: number): Promise<{ code: number; at: number }> {
  const timer = setTimeout(() => {
    try {
      p.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }, ms);
  try {
    return await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Non-empty lines of a file, or [] when it does not exist yet. */
export function fileLines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
}

/** Polls until `pred()` holds; fails after `ms` with `what`. */
export async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
