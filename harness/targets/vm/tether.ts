/**
 * A QEMU guest must not outlive the harness that booted it. SIGINT and SIGTERM close it through
 * the harness's own clean-up, but SIGKILL (an OOM kill, a CI runner's job timeout) leaves no
 * chance to run any: the guest would keep a core busy until someone finds it. Linux's
 * parent-death signal does it in the kernel instead: util-linux's `setpriv --pdeathsig KILL`
 * sets PR_SET_PDEATHSIG and execs QEMU (the setting survives execve), so QEMU gets SIGKILL the
 * moment the process that spawned it dies, however it died.
 */
import { findOnPath } from '../probe-binary.js';

/** A command line, and whether it dies with the harness. */
export interface TetheredCommand {
  readonly file: string;
  readonly args: readonly string[];
  /** False when `setpriv` is missing: the command then only ends through the harness's clean-up. */
  readonly tethered: boolean;
}

/**
 * `file args…` wrapped so that it receives SIGKILL when this process dies.
 * @param file - an absolute path (resolve it with {@link findOnPath} first: through `setpriv` a
 *   missing program would be setpriv's error, not a spawn error the caller can name)
 */
export function tethered(file: string, args: readonly string[], envPath: string = process.env['PATH'] ?? ''): TetheredCommand {
  const setpriv = findOnPath('setpriv', envPath);
  if (setpriv === undefined) return { file, args, tethered: false };
  return { file: setpriv, args: ['--pdeathsig', 'KILL', '--', file, ...args], tethered: true };
}
