/**
 * WebdriverIO + Appium (3, UiAutomator2) for the fixture APK: specs/*.e2e.ts drive its Activity
 * as a user would and run op scripts through its instrumentation, comparing every step with the
 * model (specs/support/model-adapter.ts).
 *
 * Environment:
 *   ANDROID_SERIAL     the device to use (else the first ready one `adb devices` lists)
 *   WDIO_AVD           an emulator AVD for Appium to boot (then no device needs to be up yet)
 *   WDIO_APP           the APK (default: apk-fixtures/memoryfile-app/build/memoryfile-app.apk,
 *                      what scripts/build-apk writes)
 *   APPIUM_PORT        Appium's port (default 4723)
 *   WDIO_REQUIRE_DEVICE=1  no device is an error (exit 1) instead of a skip (exit 0)
 *   ANDROID_HOME       defaults to /usr/lib/android-sdk (Debian's adb satisfies Appium's check)
 *
 * No device: the config itself prints ONE line ("no device visible to `adb devices`: ...") and
 * ends the run before Appium starts (exit 0, or 1 with WDIO_REQUIRE_DEVICE=1) — instead of
 * Appium searching ~20 s and failing every spec.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { browser } from '@wdio/globals';
import type {} from 'webdriverio';
import type { Capabilities, Options } from '@wdio/types';
import { checkDevices } from './specs/support/devices.js';

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const REPORTS = path.join(ROOT, 'reports/wdio');
const APP = path.resolve(ROOT, process.env['WDIO_APP'] ?? 'apk-fixtures/memoryfile-app/build/memoryfile-app.apk');
const AVD = process.env['WDIO_AVD'];
const PORT = Number(process.env['APPIUM_PORT'] ?? 4723);
process.env['ANDROID_HOME'] ??= '/usr/lib/android-sdk';

// The launcher decides (workers load this file again: they reuse its choice in ANDROID_SERIAL).
const IN_WORKER = process.env['WDIO_WORKER_ID'] !== undefined;
const devices = IN_WORKER
  ? { usable: [{ serial: process.env['ANDROID_SERIAL'] ?? '', state: 'device' }], problem: undefined }
  : await checkDevices({ serial: process.env['ANDROID_SERIAL'], timeoutMs: 8000 });
if (devices.problem !== undefined && (AVD === undefined || AVD === '')) {
  const required = process.env['WDIO_REQUIRE_DEVICE'] === '1';
  console.log(`no device visible to \`adb devices\`: ${devices.problem}; ${required ? 'failing (WDIO_REQUIRE_DEVICE=1)' : 'skipping the WebdriverIO specs'} — connect one, or set ANDROID_SERIAL or WDIO_AVD`);
  process.exit(required ? 1 : 0);
}
if (!fs.existsSync(APP)) {
  console.log(`the fixture APK is missing: ${APP} — build it with scripts/build-apk (or set WDIO_APP)`);
  process.exit(1);
}
const UDID = devices.usable[0]?.serial || undefined;
if (UDID !== undefined) process.env['ANDROID_SERIAL'] = UDID; // specs/support/device.ts uses the same device
fs.mkdirSync(REPORTS, { recursive: true });

/** `adb -s UDID ARGS` with a bound; never throws (logcat on failure is best effort). */
function adb(args: readonly string[], timeoutMs = 20_000): Promise<string> {
  const serial = process.env['ANDROID_SERIAL'];
  return new Promise((resolve) => {
    execFile('adb', [...(serial === undefined ? [] : ['-s', serial]), ...args], { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 64 << 20 },
      (_error, stdout, stderr) => resolve(stdout + stderr));
  });
}

/** The Android capabilities: UiAutomator2 on the chosen device (or AVD) with the fixture APK. */
const capabilities = {
  platformName: 'Android',
  'appium:automationName': 'UiAutomator2',
  ...(UDID === undefined ? {} : { 'appium:udid': UDID }),
  ...(AVD === undefined || AVD === '' ? {} : { 'appium:avd': AVD, 'appium:avdLaunchTimeout': 300_000, 'appium:avdReadyTimeout': 300_000 }),
  'appium:app': APP,
  'appium:appPackage': 'dev.ashmemharness.fixture',
  'appium:appActivity': '.MainActivity',
  'appium:appWaitActivity': '.MainActivity',
  'appium:noReset': false,
  'appium:newCommandTimeout': 300,
  'appium:adbExecTimeout': 60_000,
  'appium:androidInstallTimeout': 180_000,
  'appium:uiautomator2ServerLaunchTimeout': 120_000,
  'appium:uiautomator2ServerInstallTimeout': 120_000,
  'appium:disableWindowAnimation': true,
};

export const config: Options.Testrunner & Capabilities.WithRequestedTestrunnerCapabilities = {
  runner: 'local',
  tsConfigPath: path.join(ROOT, 'tsconfig.json'),
  specs: ['./specs/**/*.e2e.ts'],
  maxInstances: 1, // one device, one session: the specs share its ashmem and its LRU
  capabilities: [capabilities],
  hostname: '127.0.0.1',
  port: PORT,
  path: '/',
  logLevel: 'warn',
  outputDir: REPORTS,
  bail: 0,
  // Emulators without hardware acceleration are slow: generous bounds everywhere.
  waitforTimeout: 30_000,
  connectionRetryTimeout: 240_000,
  connectionRetryCount: 2,
  services: [
    ['appium', {
      logPath: REPORTS,
      appiumStartTimeout: 60_000,
      args: { address: '127.0.0.1', port: PORT, relaxedSecurity: false },
    }],
  ],
  framework: 'mocha',
  mochaOpts: { ui: 'bdd', timeout: 300_000 },
  reporters: [
    'spec',
    ['junit', { outputDir: REPORTS, outputFileFormat: (o: { cid: string }) => `wdio-${o.cid}.xml` }],
  ],

  /** A clean log per test, so a failure's logcat shows only that test. */
  beforeTest: async () => {
    await adb(['logcat', '-c']);
  },

  /** Saves logcat (and a screenshot) of a failed test into reports/wdio/. */
  afterTest: async (test, _context, result) => {
    if (result.passed) return;
    const name = `${test.parent} ${test.title}`.replace(/[^\w.-]+/g, '_').slice(0, 120);
    fs.writeFileSync(path.join(REPORTS, `logcat-${name}.txt`), await adb(['logcat', '-d', '-v', 'threadtime'], 30_000));
    try {
      await browser.saveScreenshot(path.join(REPORTS, `screen-${name}.png`));
    } catch {
      // no session (it may be what failed): the logcat is what matters
    }
  },
};
