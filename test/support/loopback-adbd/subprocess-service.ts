/**
 * `shell:` and `exec:` for the loopback ADB daemon (TEST INFRASTRUCTURE).
 *
 * Both run `sh -c CMD` on this machine, in the daemon's scratch folder, with the daemon's shim
 * folder (`getprop`) first in PATH. As in adbd's legacy (non shell_v2) protocol there is no exit
 * status and no way for the host to signal end of stdin: host bytes go to the child's stdin
 * while the stream is open. `shell:` merges stdout and stderr (legacy adbd does the same);
 * `exec:` sends stdout only and discards stderr, so binary output stays clean. `shell:` with no
 * command starts an interactive `sh` on pipes (no PTY: no prompt, no echo).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { AdbStream } from './stream.js';

/** Where and how the daemon's subprocesses run. */
export interface SubprocessEnvironment {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Tracks children so the daemon can kill them (by process group) when it dies. */
  readonly children: Set<ChildProcess>;
}

/**
 * Kills a child's whole process group: the shell and whatever it started, even after the shell
 * itself exited (a background helper may outlive it; Linux keeps the group id from being reused
 * while any member lives, so this never hits a stranger).
 */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Starts `sh -c command` (or an interactive `sh`) and connects it to the stream. */
export function startSubprocess(stream: AdbStream, command: string, mergeStderr: boolean, host: SubprocessEnvironment): void {
  // adbd gives a raw subprocess ONE socket for stdout and stderr, so their order is kept; two
  // pipes would reorder them. `exec 2>&1` before the command does the same in the shell.
  const script = command.length > 0 ? command : 'exec sh';
  const args = ['-c', mergeStderr ? `exec 2>&1\n${script}` : script];
  let child: ChildProcess;
  try {
    // detached: a process group of its own, so that closing the stream kills every descendant.
    child = spawn('sh', args, { cwd: host.cwd, env: host.env, stdio: ['pipe', 'pipe', 'ignore'], detached: true });
  } catch {
    stream.refuse();
    return;
  }
  host.children.add(child);
  stream.accept();
  let open = 1;
  const finish = (): void => {
    open -= 1;
    if (open === 0) stream.end();
  };
  const pipe = (source: NodeJS.ReadableStream): void => {
    source.on('data', (chunk: Buffer) => {
      if (!stream.write(chunk)) {
        source.pause();
        void stream.drained().then(() => source.resume());
      }
    });
    source.on('end', finish);
    source.on('error', finish);
  };
  if (child.stdout === null || child.stdin === null) throw new Error('spawn without pipes');
  pipe(child.stdout);
  const stdin = child.stdin;
  stdin.on('error', () => undefined); // the child may exit before reading everything
  stream.onData = (data) =>
    new Promise<void>((resolve) => {
      if (stdin.destroyed) return resolve();
      stdin.write(data, () => resolve());
    });
  // When the stream closes, for whatever reason, nothing the command started outlives it here
  // (test infrastructure must not leak processes between tests).
  stream.onClose = () => {
    killGroup(child);
    host.children.delete(child);
  };
  child.on('error', () => {
    host.children.delete(child);
    stream.close();
  });
}
