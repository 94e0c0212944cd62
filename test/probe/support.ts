/**
 * Shared helpers of the probe tests: build the probes when missing, run one raw (bytes in,
 * lines out), and facts about this host that decide which results to expect.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ANDROID_ABIS, ProbeUnrunnableError, probeCommand, probePath, repositoryRoot, type ProbeAbi } from '../../harness/targets/probe-binary.js';

/** Every build the tests exercise. */
export const ALL_ABIS: readonly ProbeAbi[] = [...ANDROID_ABIS, 'host'];

/** Newest modification time of the probe's sources (and its build script). */
function newestSource(): number {
  const dir = path.join(repositoryRoot(), 'apk-fixtures', 'probe');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.c') || f.endsWith('.h')).map((f) => path.join(dir, f));
  files.push(path.join(repositoryRoot(), 'scripts', 'build-probe'));
  return Math.max(...files.map((f) => fs.statSync(f).mtimeMs));
}

/** Runs scripts/build-probe when a probe binary is missing or older than its sources (the Mocha `before` hook). */
export function ensureProbesBuilt(): void {
  const newest = newestSource();
  const fresh = (abi: ProbeAbi): boolean => fs.existsSync(probePath(abi)) && fs.statSync(probePath(abi)).mtimeMs >= newest;
  if (ALL_ABIS.every(fresh)) return;
  execFileSync(path.join(repositoryRoot(), 'scripts', 'build-probe'), { stdio: 'pipe' });
}

/**
 * TEST ONLY build whose SET_NAME/GET_NAME/SET_SIZE/GET_SIZE reach a user-space stand-in of the
 * driver (apk-fixtures/probe/test/fake-ashmem.c); built on demand: `fake-ashmem` for this host,
 * `fake-ashmem-x86` as a 32-bit x86 build. Returns its path.
 */
export function ensureFakeAshmemBuilt(build: 'fake-ashmem' | 'fake-ashmem-x86' = 'fake-ashmem'): string {
  const file = path.join(repositoryRoot(), 'apk-fixtures', 'probe', 'build', build, 'ashmem-probe');
  const fake = path.join(repositoryRoot(), 'apk-fixtures', 'probe', 'test', 'fake-ashmem.c');
  const newest = Math.max(newestSource(), fs.statSync(fake).mtimeMs);
  if (!fs.existsSync(file) || fs.statSync(file).mtimeMs < newest) {
    execFileSync(path.join(repositoryRoot(), 'scripts', 'build-probe'), [build], { stdio: 'pipe' });
  }
  return file;
}

/** The host has an ashmem node: then results of ashmem ioctls differ from the memfd ones. */
export const HOST_HAS_ASHMEM = fs.existsSync('/dev/ashmem') || fs.readdirSync('/dev').some((n) => n.startsWith('ashmem'));

/** The host kernel is an Android kernel (could carry the memfd ashmem shim). */
export const HOST_IS_ANDROID = /android/i.test(os.release());

/**
 * What an ashmem ioctl on a memfd gives here: the kernel's ENOTTY when the probe runs natively;
 * under qemu-user the emulator itself answers ENOSYS, because it forwards only ioctls it knows how
 * to translate and the ashmem numbers are not among them.
 */
export function memfdIoctlErrno(abi: ProbeAbi): string {
  return probeCommand(abi).emulated ? 'ENOSYS' : 'ENOTTY';
}

/** What `uname -m` says inside the probe for an ABI on this x86_64 host (qemu-user reports its guest's machine). */
export function expectedMachine(abi: ProbeAbi): string {
  if (abi === 'arm64-v8a') return 'aarch64';
  if (abi === 'armeabi-v7a') return 'armv7l';
  if (probeCommand(abi).runner === 'qemu-user:qemu-i386-static') return 'i686';
  return os.machine();
}

/**
 * Why the probe for an ABI cannot run on this machine (the harness's own trial: natively, then
 * under qemu-user), or undefined when it can. A missing build is not a reason: that fails.
 */
export function unrunnableReason(abi: ProbeAbi): string | undefined {
  try {
    probeCommand(abi);
    return undefined;
  } catch (e) {
    if (e instanceof ProbeUnrunnableError) return e.message;
    throw e;
  }
}

const announced = new Set<string>();

/**
 * Skips the calling test or hook (its whole describe, from a `before`) when the ABI's probe cannot
 * run here, printing the reason once: such an ABI is neither failed nor silently passed.
 */
export function skipUnlessRunnable(ctx: Mocha.Context, abi: ProbeAbi, what = `${abi} probe`): void {
  const why = unrunnableReason(abi);
  if (why === undefined) return;
  if (!announced.has(what)) {
    announced.add(what);
    process.stderr.write(`\n  skipped ${what}: ${why}\n`);
  }
  ctx.skip();
}

/**
 * Skips the caller unless the ABI's probe runs natively here (a test that needs the kernel to
 * execute it directly: strace, or a loopback device that runs it through its shell).
 */
export function skipUnlessNative(ctx: Mocha.Context, abi: ProbeAbi, what: string): void {
  skipUnlessRunnable(ctx, abi, what);
  const runner = probeCommand(abi).runner;
  if (runner === 'native') return;
  if (!announced.has(what)) {
    announced.add(what);
    process.stderr.write(`\n  skipped ${what}: the ${abi} probe runs only under ${runner} on this machine, and this test needs it to run natively\n`);
  }
  ctx.skip();
}

/** Raw output of one probe run. */
export interface RawRun {
  readonly stdout: Buffer;
  readonly lines: string[];
  readonly json: Record<string, unknown>[];
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Runs the probe for an ABI with `input` as its stdin (bytes exactly as given). */
export function runProbe(abi: ProbeAbi, input: string | Buffer, extraArgs: readonly string[] = [], timeoutMs = 30_000): Promise<RawRun> {
  const cmd = probeCommand(abi);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.command, [...cmd.args, ...extraArgs], { stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(chunks);
      const lines = stdout.toString('latin1').split('\n').filter((l) => l !== '');
      const json = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ stdout, lines, json, code, signal });
    });
  });
}

/** Result lines only (those with a line number `i`). */
export function resultsOf(run: RawRun): Record<string, unknown>[] {
  return run.json.filter((j) => typeof j['i'] === 'number');
}

/** The result for script line `i` (and process), failing loudly when absent. */
export function at(results: readonly Record<string, unknown>[], i: number): Record<string, unknown> {
  const found = results.filter((r) => r['i'] === i);
  if (found.length !== 1) throw new Error(`expected exactly one result for line ${i}, got ${JSON.stringify(found)}`);
  return found[0] as Record<string, unknown>;
}

/** A script from lines (line N of the array is script line N+1). */
export function script(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}
