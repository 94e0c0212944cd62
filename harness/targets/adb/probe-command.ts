/**
 * One case in ONE round trip: the script travels inside the shell command itself
 * (`printf '%s' 'SCRIPT' | ./ashmem-probe`), so no push and no heredoc. The probe's stderr goes
 * to a file printed after an exit-status marker, so the merged legacy shell stream stays
 * parseable: result lines, then `@@marker exit STATUS`, then stderr. The probe runs in the
 * background with its pid printed first, so a case that overruns its bound can be killed.
 */
import os from 'node:os';
import type { OpResult } from '../../ops/result.js';
import type { ExecOutcome, ProbeHello } from '../target.js';
import { shQuote } from './shell-service.js';

/** The probe's file name on the device. */
export const PROBE_NAME = 'ashmem-probe';

/** Prefix of files the harness leaves in the device dir (removed on close). */
export const SCRATCH_PREFIX = '.ashmem-harness-';

/** Backends the probe accepts. */
export type ProbeBackend = 'ashmem' | 'memfd' | 'auto';

/** The probe's options as command-line words. */
export function probeArgs(backend: ProbeBackend | undefined): string {
  return backend === undefined ? '' : ` --backend ${backend}`;
}

/** Ensures the script ends with a newline (the probe reads lines). */
function terminated(script: string): string {
  return script.endsWith('\n') ? script : `${script}\n`;
}

/** The command that runs one case from the script text. */
export function caseCommand(dir: string, script: string, marker: string, backend: ProbeBackend | undefined): string {
  const err = `${SCRATCH_PREFIX}${marker.slice(2)}.err`;
  return [
    `cd ${shQuote(dir)} || exit 1`,
    // The pid line comes from the process that then execs the probe: nothing else writes to the
    // stream while the probe does (a concurrent echo could land inside a result line).
    `printf '%s' ${shQuote(terminated(script))} | sh -c 'echo "${marker} pid $$"; exec ./${PROBE_NAME}${probeArgs(backend)}' 2>${err} & p=$!`,
    'wait $p; s=$?',
    'echo',
    `echo "${marker} exit $s"`,
    `cat ${err} 2>/dev/null; rm -f ${err}`,
  ].join('; ');
}

/** The command for a case whose script was pushed to a file (scripts too long for a command). */
export function caseFileCommand(dir: string, scriptFile: string, marker: string, backend: ProbeBackend | undefined): string {
  const err = `${SCRATCH_PREFIX}${marker.slice(2)}.err`;
  return [
    `cd ${shQuote(dir)} || exit 1`,
    `sh -c 'echo "${marker} pid $$"; exec ./${PROBE_NAME}${probeArgs(backend)}' <${shQuote(scriptFile)} 2>${err} & p=$!`,
    'wait $p; s=$?',
    'echo',
    `echo "${marker} exit $s"`,
    `cat ${err} 2>/dev/null; rm -f ${err} ${shQuote(scriptFile)}`,
  ].join('; ');
}

/** A shell exit status as the probe's exit: 128+N is signal N. */
export function exitFromStatus(status: number): { code: number | null; signal: string | null } {
  if (status > 128 && status < 128 + 65) {
    const n = status - 128;
    const name = Object.entries(os.constants.signals).find(([, v]) => v === n)?.[0];
    if (name !== undefined) return { code: null, signal: name };
  }
  return { code: status, signal: null };
}

/** The probe's last line of a case: op count, exit status, and in agent mode a signal or error. */
export interface ProbeEnd {
  readonly ops: number;
  readonly status: number;
  readonly signal?: string;
  readonly error?: string;
}

/** Parses a case's output line by line. */
export class CaseOutput {
  hello: ProbeHello | undefined;
  end: ProbeEnd | undefined;
  pid: number | undefined;
  status: number | undefined;
  readonly results: OpResult[] = [];
  /** Lines that were neither results nor markers (shell errors), then the probe's stderr. */
  readonly other: string[] = [];

  constructor(
    private readonly marker: string,
    private readonly onResult?: (result: OpResult) => void,
  ) {}

  /** Handles one line; returns true once the exit marker has been seen. */
  line(line: string): void {
    if (this.status !== undefined) {
      this.other.push(line);
      return;
    }
    if (line.startsWith(`${this.marker} `)) {
      const [kind, value] = line.slice(this.marker.length + 1).split(' ');
      const n = Number.parseInt(value ?? '', 10);
      if (kind === 'pid' && !Number.isNaN(n)) this.pid = n;
      else if (kind === 'exit' && !Number.isNaN(n)) this.status = n;
      return;
    }
    this.json(line);
  }

  /**
   * An agent case's outcome once its `end` line (or the end of its lines) was read: the agent
   * reports a killed worker as status 128+N with the signal's name, and a refused case's error.
   */
  agentOutcome(hello: ProbeHello): ExecOutcome {
    const end = this.end ?? { ops: this.results.length, status: 0 };
    const exit = end.signal !== undefined ? { code: null, signal: end.signal } : { code: end.status, signal: null };
    return { hello, results: this.results, exit, stderr: [...this.other, ...(end.error !== undefined ? [end.error] : [])].join('\n') };
  }

  /** Handles a line that may be a probe JSON line (also used by the agent). */
  json(line: string): void {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = line.startsWith('{') ? JSON.parse(line) : undefined;
    } catch {
      value = undefined;
    }
    if (typeof value !== 'object' || value === null) {
      this.other.push(line);
      return;
    }
    const record = value as Record<string, unknown>;
    if ('hello' in record) this.hello = record['hello'] as ProbeHello;
    else if ('end' in record) this.end = record['end'] as ProbeEnd;
    else if (typeof record['i'] === 'number' && typeof record['op'] === 'string') {
      const result = record as unknown as OpResult;
      this.results.push(result);
      this.onResult?.(result);
    } else this.other.push(line);
  }
}
