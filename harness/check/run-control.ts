/**
 * How `run` and `conform` stop early: an interrupt (SIGINT / SIGTERM, passed in as an
 * AbortSignal) stops handing out cases and gives the cases in flight a bounded time to end; a
 * target that can run nothing more is lost, and the others go on.
 */
import type { TargetError } from '../targets/target.js';

/** How long cases in flight may go on after an interrupt before the reports are written anyway. */
export const DEFAULT_GRACE_MS = 10_000;

/** Target errors in a row (timeouts, a probe that would not start) after which a target is lost. */
export const MAX_CONSECUTIVE_FAILURES = 3;

/** Stop options shared by `run` and `conform`. */
export interface StopOptions {
  /** Aborted on the first SIGINT / SIGTERM; its reason is the signal's name. */
  readonly signal?: AbortSignal;
  /** Bound on the cases in flight after the abort (default {@link DEFAULT_GRACE_MS}). */
  readonly graceMs?: number;
}

/** `interrupted by SIGINT`. */
export function interruptReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return `interrupted by ${typeof r === 'string' ? r : 'an abort'}`;
}

/**
 * Waits for `work`; once `signal` aborts, waits at most `graceMs` more. Resolves true when the
 * work ended, false when the bound ran out first (the work goes on unobserved; its late
 * rejection is swallowed, as its results no longer count).
 */
export function settleWithin(work: Promise<unknown>, signal: AbortSignal | undefined, graceMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      timer = setTimeout(() => resolve(false), graceMs);
    };
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    work.then(
      () => {
        done();
        resolve(true);
      },
      (e: unknown) => {
        done();
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * Wakes workers waiting for work that may come back (a lost target's case in flight is handed to
 * the others), or for the abort.
 */
export class Waker {
  private waiters: (() => void)[] = [];

  /** Resolves at the next {@link notify}. */
  next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Wakes every waiter. */
  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** One target's health: lost at an error that says so, or after too many failures in a row. */
export class TargetHealth {
  private failures = 0;

  constructor(private readonly limit = MAX_CONSECUTIVE_FAILURES) {}

  /** A case ended normally. */
  ok(): void {
    this.failures = 0;
  }

  /** A case failed with `e`; true when the target is lost now. */
  failed(e: TargetError): boolean {
    this.failures += 1;
    return e.lost || this.failures >= this.limit;
  }
}

/** Signals a user or a terminal sends (never a crash of the probe itself). */
const INTERRUPTS: readonly string[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * True when a probe killed by `exitSignal` was killed by the same interrupt that stops the run: a
 * terminal's Ctrl-C reaches the whole process group, probes included, possibly a moment before
 * our own handler runs, so we give the handler that moment.
 */
export async function killedByInterrupt(exitSignal: string | null, signal: AbortSignal | undefined): Promise<boolean> {
  if (exitSignal === null || !INTERRUPTS.includes(exitSignal) || signal === undefined) return false;
  if (!signal.aborted) await new Promise((r) => setTimeout(r, 250));
  return signal.aborted;
}

