/**
 * Bounds on every wait: adb calls that hang (a device that stopped answering, `wait-for-device`
 * without a device) must become a {@link TargetTimeoutError}, never a stuck run.
 */
import { TargetTimeoutError } from '../target.js';

/** Default bounds, in milliseconds. */
export const DEFAULT_TIMEOUTS = {
  /** One host query (devices, version, state). */
  hostMs: 10_000,
  /** One short device command (facts, chmod, rm, kill). */
  commandMs: 20_000,
  /** One case (script round trip). */
  caseMs: 120_000,
  /** One push. */
  pushMs: 60_000,
  /** `adb root` and the adbd restart that follows. */
  rootMs: 30_000,
  /** Waiting for a device to (re)appear. */
  deviceMs: 15_000,
} as const satisfies Record<string, number>;

/** Bounds of one target; any subset may be overridden. */
export type AdbTimeouts = { -readonly [K in keyof typeof DEFAULT_TIMEOUTS]: number };

/** Merges overrides over the defaults. */
export function timeouts(overrides: Partial<AdbTimeouts> = {}): AdbTimeouts {
  return { ...DEFAULT_TIMEOUTS, ...overrides };
}

/**
 * Resolves with the promise, or rejects with TargetTimeoutError after `ms`.
 * @param onTimeout - called once on timeout, to release what the promise holds (a socket)
 */
export function bounded<T>(promise: PromiseLike<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout?.();
      reject(new TargetTimeoutError(`${what}: no answer within ${ms} ms`));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** A promise that resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
