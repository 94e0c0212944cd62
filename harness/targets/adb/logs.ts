/**
 * Logs for reports on a divergence or failure: logcat, and dmesg where the shell may read it
 * (Android restricts the kernel log to root on most builds). One round trip each; a log that
 * cannot be read says why instead of failing the run.
 */
import type { ShellService } from './shell-service.js';

/** A captured log, or the reason there is none. */
export type CapturedLog =
  | { readonly available: true; readonly text: string }
  | { readonly available: false; readonly reason: string };

function captured(output: string, status: number | null, what: string): CapturedLog {
  if (status === null) return { available: false, reason: `${what}: the device stopped answering` };
  if (status !== 0) return { available: false, reason: `${what} exited with status ${status}: ${output.trim().split('\n').slice(-3).join(' / ') || 'no output'}` };
  return { available: true, text: output };
}

/** The last `lines` lines of logcat (`logcat -d -t N`: dump and exit, never follow). */
export async function captureLogcat(shell: ShellService, lines: number, ms: number): Promise<CapturedLog> {
  const n = Math.max(1, Math.floor(lines));
  const r = await shell.runWithStatus(`logcat -d -t ${n} 2>&1`, ms);
  return captured(r.output, r.status, 'logcat');
}

/** The last `lines` lines of the kernel log, when readable. */
export async function captureDmesg(shell: ShellService, lines: number, ms: number): Promise<CapturedLog> {
  const n = Math.max(1, Math.floor(lines));
  // dmesg's own status, not tail's: a permission error must read as "not readable".
  const r = await shell.runWithStatus(`out=$(dmesg 2>&1); s=$?; printf '%s\\n' "$out" | tail -n ${n}; (exit $s)`, ms);
  return captured(r.output, r.status, 'dmesg');
}
