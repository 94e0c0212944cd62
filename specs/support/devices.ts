/**
 * Which Android devices `adb devices` shows, asked once with a bound, so that `wdio run` can
 * decide in a second whether there is anything to test (Appium's own device search takes ~20 s
 * and then fails every spec).
 */
import { execFile } from 'node:child_process';

/** One line of `adb devices`. */
export interface AdbDevice {
  readonly serial: string;
  /** `device` when usable; `offline`, `unauthorized`, `recovery`, ... otherwise. */
  readonly state: string;
}

/** What the device check found. */
export interface DeviceCheck {
  /** Usable devices (state `device`), filtered by ANDROID_SERIAL when it is set. */
  readonly usable: readonly AdbDevice[];
  /** Every listed device, usable or not. */
  readonly listed: readonly AdbDevice[];
  /** Why there is nothing usable, in words (for the skip line); undefined when something is. */
  readonly problem: string | undefined;
}

/**
 * Parses `adb devices` output.
 * @param text - the command's stdout
 */
export function parseAdbDevices(text: string): AdbDevice[] {
  const out: AdbDevice[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(device|offline|unauthorized|recovery|sideload|bootloader|host|no permissions.*|authorizing|connecting|unknown)\s*$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined && !line.startsWith('List of devices')) out.push({ serial: m[1], state: m[2] });
  }
  return out;
}

/**
 * Runs `adb devices` (bounded) and says what is usable.
 * @param opts.timeoutMs - bound for adb (its server may have to start: ~1-3 s)
 * @param opts.serial - the one device wanted (ANDROID_SERIAL), if any
 * @param opts.adb - the adb binary
 */
export function checkDevices(opts: { timeoutMs?: number; serial?: string | undefined; adb?: string } = {}): Promise<DeviceCheck> {
  const { timeoutMs = 8000, serial, adb = 'adb' } = opts;
  return new Promise((resolve) => {
    execFile(adb, ['devices'], { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error !== null) {
        const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${adb} is not installed` :
          error.killed === true ? `${adb} devices did not answer within ${timeoutMs} ms` : `${adb} devices failed: ${(stderr || error.message).trim()}`;
        resolve({ usable: [], listed: [], problem: why });
        return;
      }
      const listed = parseAdbDevices(stdout);
      const wanted = listed.filter((d) => serial === undefined || serial === '' || d.serial === serial);
      const usable = wanted.filter((d) => d.state === 'device');
      let problem: string | undefined;
      if (usable.length === 0) {
        if (listed.length === 0) problem = 'the list is empty';
        else if (serial !== undefined && serial !== '' && wanted.length === 0) problem = `ANDROID_SERIAL=${serial} is not among ${listed.map((d) => d.serial).join(', ')}`;
        else problem = `none is ready: ${wanted.map((d) => `${d.serial} ${d.state}`).join(', ')}`;
      }
      resolve({ usable, listed, problem });
    });
  });
}
