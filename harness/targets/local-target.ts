/**
 * The `local` target: op scripts run on this machine's kernel through the native probe.
 * `local` uses the host build of the probe; `local:arm64-v8a`, `local:armeabi-v7a`,
 * `local:x86_64` and `local:x86` use that ABI's static build (natively when this kernel runs it,
 * else under qemu-user: found by trying, see probe-binary.ts), so
 * every ABI's probe can be exercised against the host kernel. Here the kernel has no ashmem, so
 * the probe meets memfd (`backend: "memfd"` in its hello).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import type { OpResult } from '../ops/result.js';
import { probeCommand, isProbeAbi, hostAndroidAbi, probePath, type ProbeAbi, type ProbeCommand } from './probe-binary.js';
import { TargetError, TargetTimeoutError, type ExecOutcome, type ProbeHello, type Target, type TargetFacts } from './target.js';
import fs from 'node:fs';

/** Backends the probe can be told to use (`auto`: ashmem when a node opens, else memfd). */
export type LocalBackend = 'ashmem' | 'memfd' | 'auto';

/** Default bound of one script's execution. */
export const DEFAULT_LOCAL_TIMEOUT_MS = 120_000;

/** Most stderr kept per execution (the probe writes little; a runaway one is cut). */
const MAX_STDERR_CHARS = 1 << 20;

/** Options of a {@link LocalTarget}. */
export interface LocalTargetOptions {
  /** The probe build to run; default: the host build (or the host's own Android ABI build). */
  readonly abi?: ProbeAbi;
  /** Passed to the probe as `--backend`; default: the probe's own (`auto`). */
  readonly backend?: LocalBackend;
  /** Bound of one `exec` (and of `facts`), in milliseconds. */
  readonly timeoutMs?: number;
  /** Repository root holding `apk-fixtures/probe/build/` (default: this checkout). */
  readonly root?: string;
}

/** The probe's closing line: how many result lines it wrote and its status. */
export interface ProbeEnd {
  readonly ops: number;
  readonly status: number;
  readonly signal?: string;
  readonly error?: string;
}

/** One line of probe output, classified. */
export type ProbeLine =
  | { readonly kind: 'hello'; readonly hello: ProbeHello }
  | { readonly kind: 'result'; readonly result: OpResult }
  | { readonly kind: 'end'; readonly end: ProbeEnd }
  | { readonly kind: 'other'; readonly line: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the fields of a hello object; returns why it is malformed, or undefined. */
function helloProblem(h: Record<string, unknown>): string | undefined {
  for (const key of ['probe', 'kernel', 'machine', 'abi'] as const) {
    if (typeof h[key] !== 'string') return `"${key}" is not a string`;
  }
  if (h['bits'] !== 32 && h['bits'] !== 64) return '"bits" is not 32 or 64';
  if (h['backend'] !== 'ashmem' && h['backend'] !== 'memfd') return '"backend" is not ashmem or memfd';
  if (h['node'] !== undefined && typeof h['node'] !== 'string') return '"node" is not a string';
  if (typeof h['uid'] !== 'number' || typeof h['page_size'] !== 'number') return '"uid" or "page_size" is not a number';
  const features = h['features'];
  if (!Array.isArray(features) || !features.every((f) => typeof f === 'string')) return '"features" is not a list of strings';
  return undefined;
}

/**
 * Classifies one line the probe wrote.
 * @throws TargetError when a hello or end line is malformed
 */
export function parseProbeLine(line: string): ProbeLine {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  let value: unknown;
  try {
    value = text.startsWith('{') ? JSON.parse(text) : undefined;
  } catch {
    value = undefined;
  }
  if (!isRecord(value)) return { kind: 'other', line: text };
  const hello = value['hello'];
  if (hello !== undefined) {
    if (!isRecord(hello)) throw new TargetError(`malformed hello line from the probe: ${text}`);
    const problem = helloProblem(hello);
    if (problem !== undefined) throw new TargetError(`malformed hello line from the probe (${problem}): ${text}`);
    return { kind: 'hello', hello: hello as unknown as ProbeHello };
  }
  const end = value['end'];
  if (end !== undefined) {
    if (!isRecord(end) || typeof end['ops'] !== 'number' || typeof end['status'] !== 'number') {
      throw new TargetError(`malformed end line from the probe: ${text}`);
    }
    return { kind: 'end', end: end as unknown as ProbeEnd };
  }
  if (typeof value['i'] === 'number' && typeof value['op'] === 'string') {
    return { kind: 'result', result: value as unknown as OpResult };
  }
  return { kind: 'other', line: text };
}

/**
 * Parses a target id: `local` (the host build) or `local:ABI`.
 * @throws TargetError for anything else
 */
export function parseLocalTargetId(id: string): ProbeAbi {
  if (id === 'local') return 'host';
  if (id.startsWith('local:')) {
    const abi = id.slice('local:'.length);
    if (isProbeAbi(abi)) return abi;
    throw new TargetError(`unknown ABI in ${JSON.stringify(id)}: use local, local:arm64-v8a, local:armeabi-v7a, local:x86_64 or local:x86`);
  }
  throw new TargetError(`not a local target: ${JSON.stringify(id)} (expected local or local:ABI)`);
}

/** What one execution collected so far. */
interface Collected {
  hello: ProbeHello | undefined;
  end: ProbeEnd | undefined;
  readonly results: OpResult[];
  readonly other: string[];
  stderr: string;
  failure: Error | undefined;
}

/** Runs op scripts on this machine's kernel through the native probe. */
export class LocalTarget implements Target {
  readonly id: string;
  private readonly abi: ProbeAbi;
  private readonly options: LocalTargetOptions;
  private readonly running = new Set<ChildProcess>();
  private cachedFacts: TargetFacts | undefined;

  constructor(options: LocalTargetOptions = {}) {
    this.options = options;
    this.abi = options.abi ?? 'host';
    this.id = this.abi === 'host' ? 'local' : `local:${this.abi}`;
  }

  /** A target from an id such as `local` or `local:armeabi-v7a`. */
  static fromId(id: string, options: Omit<LocalTargetOptions, 'abi'> = {}): LocalTarget {
    return new LocalTarget({ ...options, abi: parseLocalTargetId(id) });
  }

  /**
   * How the probe is started (resolved on each call, so a build made meanwhile is found).
   * `local` falls back to the host's own Android ABI build when there is no host build.
   */
  command(): ProbeCommand {
    const root = this.options.root;
    const opts = root !== undefined ? { root } : {};
    if (this.abi === 'host' && !fs.existsSync(probePath('host', root))) {
      const own = hostAndroidAbi();
      if (own !== undefined && fs.existsSync(probePath(own, root))) return probeCommand(own, opts);
    }
    return probeCommand(this.abi, opts);
  }

  /** Facts from the probe's hello (runs an empty script once), and how the probe runs here. */
  async facts(): Promise<TargetFacts> {
    if (this.cachedFacts === undefined) {
      const outcome = await this.exec('');
      this.cachedFacts = { hello: outcome.hello, runner: this.command().runner };
    }
    return this.cachedFacts;
  }

  /**
   * Runs one script: the probe reads it on stdin and streams one result line per op.
   * @throws ProbeMissingError when the probe for this ABI is not built
   * @throws TargetTimeoutError when the probe does not finish within the bound (it is killed)
   * @throws TargetError when the probe cannot start or writes no hello line
   */
  async exec(script: string, onResult?: (result: OpResult) => void): Promise<ExecOutcome> {
    const cmd = this.command();
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_LOCAL_TIMEOUT_MS;
    const args = [...cmd.args, ...(this.options.backend !== undefined ? ['--backend', this.options.backend] : [])];
    return new Promise<ExecOutcome>((resolve, reject) => {
      const child = spawn(cmd.command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      this.running.add(child);
      const got: Collected = { hello: undefined, end: undefined, results: [], other: [], stderr: '', failure: undefined };
      let spawnError: Error | undefined;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
      lines.on('line', (line) => this.onLine(line, got, child, onResult));
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        if (got.stderr.length < MAX_STDERR_CHARS) got.stderr += chunk.slice(0, MAX_STDERR_CHARS - got.stderr.length);
      });
      child.on('error', (e) => {
        spawnError = e;
      });
      // The probe may exit before reading everything (EPIPE): its results say what happened.
      child.stdin.on('error', () => undefined);
      child.stdin.end(script.length === 0 || script.endsWith('\n') ? script : `${script}\n`);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        this.running.delete(child);
        if (spawnError !== undefined) {
          reject(new TargetError(`could not start the ${this.abi} probe (${cmd.command}): ${spawnError.message}`));
        } else if (timedOut) {
          reject(new TargetTimeoutError(`the ${this.abi} probe did not finish within ${timeoutMs} ms (${got.results.length} result(s) so far); it was killed`));
        } else if (got.failure !== undefined) {
          reject(got.failure);
        } else if (got.hello === undefined) {
          const how = signal !== null ? `killed by ${signal}` : `exit code ${String(code)}`;
          reject(new TargetError(`the ${this.abi} probe wrote no hello line (${how}); stderr: ${got.stderr.trim() || '(empty)'}`));
        } else {
          const stderr = [...got.other, got.stderr].filter((s) => s !== '').join('\n');
          resolve({ hello: got.hello, results: got.results, exit: { code, signal }, stderr });
        }
      });
    });
  }

  private onLine(line: string, got: Collected, child: ChildProcess, onResult: ((r: OpResult) => void) | undefined): void {
    if (got.failure !== undefined || line === '') return;
    try {
      const parsed = parseProbeLine(line);
      switch (parsed.kind) {
        case 'hello':
          got.hello = parsed.hello;
          break;
        case 'end':
          got.end = parsed.end;
          break;
        case 'result':
          if (got.hello === undefined) throw new TargetError(`the probe wrote a result before its hello line: ${line}`);
          got.results.push(parsed.result);
          onResult?.(parsed.result);
          break;
        case 'other':
          got.other.push(parsed.line);
          break;
      }
    } catch (e) {
      got.failure = e instanceof Error ? e : new TargetError(String(e));
      child.kill('SIGKILL');
    }
  }

  /** @inheritdoc */
  replayArgs(): readonly string[] {
    return ['--target', this.id, ...(this.options.backend !== undefined ? ['--backend', this.options.backend] : [])];
  }

  /** Kills any probe still running (an `exec` in flight then rejects). */
  async close(): Promise<void> {
    const waits = [...this.running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    );
    await Promise.all(waits);
  }
}
