/**
 * A QEMU guest must not outlive the harness that booted it. SIGINT and SIGTERM close it through
 * the harness's own clean-up, but SIGKILL (an OOM kill, a CI runner's job timeout) leaves no
 * chance to run any: the guest would keep a core busy until someone finds it. Linux's
 * parent-death signal does it in the kernel instead: util-linux's `setpriv --pdeathsig KILL`
 * sets PR_SET_PDEATHSIG and execs QEMU (the setting survives execve), so QEMU gets SIGKILL the
 * moment the process that spawned it dies, however it died.
 */
import fs from 'node:fs';
import path from 'node:path';

/** A command line, and whether it dies with the harness. */
export interface TetheredCommand {
  readonly file: string;
  readonly args: readonly string[];
  /** False when `setpriv` is missing: the command then only ends through the harness's clean-up. */
  readonly tethered: boolean;
}

/** The absolute path of an executable found on `PATH` (as `env` would find it), or undefined. */
export function onPath(name: string, envPath: string | undefined = process.env['PATH']): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * `file args…` wrapped so that it receives SIGKILL when this process dies.
 * @param file - an absolute path (resolve it with {@link onPath} first: through `setpriv` a
 *   missing program would be setpriv's error, not a spawn error the caller can name)
 */
export function tethered(file: string, args: readonly string[], envPath: string | undefined = process.env['PATH']): TetheredCommand {
  const setpriv = onPath('setpriv', envPath);
  if (setpriv === undefined) return { file, args, tethered: false };
  return { file: setpriv, args: ['--pdeathsig', 'KILL', '--', file, ...args], tethered: true };
}
