/**
 * Typed errors of the adb target. Callers branch on the class, never on message text.
 */
import type { OpResult } from '../../ops/result.js';
import { DeviceVanishedError, TargetError } from '../target.js';

/** Something about adb itself (binary, server, protocol) went wrong. */
export class AdbError extends TargetError {
  override readonly name: string = 'AdbError';
}

/** The `adb` binary could not be run. */
export class AdbMissingError extends AdbError {
  override readonly name = 'AdbMissingError';
  override readonly lost = true;
  constructor(readonly bin: string, cause?: unknown) {
    super(
      `adb binary ${JSON.stringify(bin)} not found or not runnable: install it (Debian/Ubuntu: apt-get install adb; ` +
        'or Android platform-tools) and put it on PATH, or pass its path (adbBin / --adb-bin)',
      { cause },
    );
  }
}

/** The adb server cannot be reached, or came back and still failed. */
export class AdbServerError extends AdbError {
  override readonly name = 'AdbServerError';
  override readonly lost = true;
}

/** The requested device is not attached to any selected adb server. */
export class AdbDeviceNotFoundError extends AdbError {
  override readonly name = 'AdbDeviceNotFoundError';
}

/** A device-side command failed (non-zero status) or answered something unreadable. */
export class AdbCommandError extends AdbError {
  override readonly name = 'AdbCommandError';
}

/**
 * The device went away mid-run. Carries the results that did arrive for the case in flight
 * (they were also passed to `onResult`, so callers streaming to disk already have them).
 */
export class AdbDeviceVanishedError extends DeviceVanishedError {
  override readonly name = 'AdbDeviceVanishedError';
  constructor(
    readonly serial: string,
    readonly partial: readonly OpResult[],
    detail: string,
  ) {
    super(
      `device ${serial} vanished mid-run (${detail}); ${partial.length} result(s) of the case in flight were kept. ` +
        'Check the cable / emulator / network, then re-run the remaining cases.',
    );
  }
}
