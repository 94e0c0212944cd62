/**
 * The device side of the e2e specs, through the host's adb (the device wdio.conf.ts chose is in
 * ANDROID_SERIAL): facts, the instrumentation door streamed line by line, app_wait triggers.
 */
import { execFile, spawn } from 'node:child_process';
import type { OpResult } from '../../harness/ops/result.js';
import {
  FIXTURE_PACKAGE,
  instrumentCommand,
  InstrumentationStreamParser,
  type InstrumentationRun,
} from '../../harness/targets/instrumentation.js';
import { TargetError, TargetTimeoutError } from '../../harness/targets/target.js';

function serialArgs(): string[] {
  const s = process.env['ANDROID_SERIAL'];
  return s === undefined || s === '' ? [] : ['-s', s];
}

/**
 * `adb shell CMD` with a bound; resolves stdout, rejects with a TargetError on failure.
 * @param cmd - the shell command line
 * @param timeoutMs - bound
 */
export function shell(cmd: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('adb', [...serialArgs(), 'shell', cmd], { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else if (error.killed === true) reject(new TargetTimeoutError(`adb shell ${cmd} did not finish within ${timeoutMs} ms`));
      else reject(new TargetError(`adb shell ${cmd} failed: ${(stderr || error.message).trim()}`));
    });
  });
}

/**
 * `adb ARGS` (not shell) with a bound.
 * @param args - adb arguments after the serial
 */
export function adb(args: readonly string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('adb', [...serialArgs(), ...args], { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new TargetError(`adb ${args.join(' ')} failed: ${(stderr || error.message).trim()}`));
    });
  });
}

/** What the specs need to know about the device. */
export interface DeviceFacts {
  readonly sdk: number;
  readonly abi: string;
  /** `sys.use_memfd`: libcutils' memfd mode, where nothing is ever purged (§7.1). */
  readonly useMemfd: boolean;
}

/** Reads the facts (one round trip). */
export async function deviceFacts(): Promise<DeviceFacts> {
  const out = await shell('getprop ro.build.version.sdk; getprop ro.product.cpu.abi; getprop sys.use_memfd');
  const [sdk = '', abi = '', memfd = ''] = out.split('\n').map((l) => l.trim());
  const level = Number(sdk);
  if (!Number.isInteger(level) || level <= 0) throw new TargetError(`ro.build.version.sdk is not a level: "${sdk}"`);
  return { sdk: level, abi, useMemfd: memfd === 'true' };
}

/**
 * Runs a script through the instrumentation door, streaming: `onResult` is awaited for each
 * result as it arrives (before later results are handed over), so a spec can act on the device
 * while the script waits in an app_wait.
 * @param script - the op script
 * @param onResult - called in order with each op result
 * @param timeoutMs - bound for the whole run
 */
export function runInstrumentation(
  script: string,
  onResult: (r: OpResult) => Promise<void> | void = () => undefined,
  timeoutMs = 180_000,
): Promise<InstrumentationRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('adb', [...serialArgs(), 'shell', instrumentCommand(script)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const parser = new InstrumentationStreamParser();
    let chain: Promise<void> = Promise.resolve();
    let failed: unknown;
    let stderr = '';
    const timer = setTimeout(() => {
      failed = new TargetTimeoutError(`am instrument did not finish within ${timeoutMs} ms`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      try {
        for (const r of parser.push(chunk)) chain = chain.then(() => onResult(r));
        chain = chain.catch((e: unknown) => { failed ??= e; });
      } catch (e) {
        failed ??= e;
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => { stderr += c; });
    child.on('error', (e) => { failed ??= e; });
    child.on('close', () => {
      clearTimeout(timer);
      void chain.then(() => {
        if (failed !== undefined) { reject(failed instanceof Error ? failed : new TargetError(String(failed))); return; }
        try {
          resolve(parser.end());
        } catch (e) {
          reject(e instanceof Error && stderr !== '' ? new TargetError(`${e.message} (adb: ${stderr.trim()})`) : e);
        }
      });
    });
  });
}

/**
 * Ends an app_wait "NAME": creates files/trigger-NAME in the app's data (the APK is debuggable).
 * @param name - the app_wait's name
 */
export async function trigger(name: string): Promise<void> {
  if (!/^[\w.-]+$/.test(name)) throw new TargetError(`trigger name "${name}" must be [A-Za-z0-9_.-]+`);
  await shell(`run-as ${FIXTURE_PACKAGE} touch files/trigger-${name}`);
}

/** Stops the fixture app (a fresh process: no MemoryFile left from an earlier spec). */
export async function forceStop(): Promise<void> {
  await shell(`am force-stop ${FIXTURE_PACKAGE}`);
}
