/**
 * Replays repro folders the way their README.txt says (TEST INFRASTRUCTURE): every command line
 * of the README's "Replay:" part runs through `sh` with `ashmem-harness` on PATH, exactly as a
 * user would paste it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN } from './cli-process.js';

/** A folder on PATH holding `ashmem-harness`, this checkout's CLI. */
export function cliOnPath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ashmem-bin-'));
  fs.symlinkSync(BIN, path.join(dir, 'ashmem-harness'));
  return dir;
}

/** The repro folders under `out/repro`. */
export function reproFolders(out: string): string[] {
  const root = path.join(out, 'repro');
  return fs.existsSync(root) ? fs.readdirSync(root).sort().map((d) => path.join(root, d)) : [];
}

/** What a README says: the line of the divergence and the replay commands (comments dropped; the by-hand adb lines included). */
export function readReadme(dir: string): { line: number; commands: string[]; text: string } {
  const text = fs.readFileSync(path.join(dir, 'README.txt'), 'utf8');
  const m = / at line (\d+): /.exec(text.split('\n')[0] ?? '');
  assert.ok(m !== null, `${dir}/README.txt names no line: ${text.split('\n')[0] ?? ''}`);
  const replay = text.split('\nReplay:\n')[1] ?? '';
  return { line: Number(m[1]), commands: replay.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')), text };
}

/**
 * Runs one README command line with `sh -c`, without blocking this process (a loopback device
 * served from this process must go on answering).
 */
export function shell(command: string, bin: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { env: { ...process.env, ...env, PATH: `${bin}:${process.env['PATH'] ?? ''}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out, err });
    });
  });
}

/**
 * Runs every replay command of a folder and checks each `judge` reproduces the divergence at
 * the README's line; returns how many judge commands ran (and how many replayed with `exec`).
 */
export async function replayFolder(dir: string, bin: string, env: NodeJS.ProcessEnv = {}): Promise<{ judged: number; executed: number }> {
  const { line, commands, text } = readReadme(dir);
  // script.ops is exactly what ran: its line N is the op the README names.
  const op = / at line \d+: (.*)$/.exec(text.split('\n')[0] ?? '')?.[1] ?? '';
  assert.equal(fs.readFileSync(path.join(dir, 'script.ops'), 'utf8').split('\n')[line - 1]?.trim(), op.trim(), `${dir}: script.ops line ${line}`);
  assert.doesNotMatch(text, /<abi>|<serial>/, `${dir}: a placeholder is left in README.txt`);
  let judged = 0;
  let executed = 0;
  // The harness's own commands; the by-hand adb lines need a real adbd's shell protocol for stdin.
  for (const c of commands.filter((x) => x.startsWith('ashmem-harness '))) {
    const r = await shell(c, bin, env);
    if (/^ashmem-harness judge /.test(c)) {
      assert.equal(r.code, 1, `${dir}: ${c}\n${r.out}${r.err}`);
      assert.match(r.out, new RegExp(`^diverged at line ${line}: `), `${dir}: ${c}`);
      judged++;
    } else if (/^ashmem-harness exec /.test(c)) {
      assert.equal(r.code, 0, `${dir}: ${c}\n${r.err}`);
      executed++;
    }
  }
  return { judged, executed };
}
