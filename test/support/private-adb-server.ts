/**
 * A private adb server for tests (TEST INFRASTRUCTURE): the real Debian `adb` on a free port of
 * its own, so tests never touch a developer's server on 5037 and parallel runs do not collide.
 * Without `adb` the tests FAIL with a clear message (CI installs it); they do not skip.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { probeBinaryPath } from '../../harness/targets/adb/probe-binary-path.js';
import { ensureProbesBuilt } from '../probe/support.js';
import { AdbServer } from '../../harness/targets/adb/adb-server.js';
import { freeLocalPort } from '../../harness/targets/adb/forward-service.js';
import type { LoopbackAdbd } from './loopback-adbd/index.js';

/** The adb binary the tests use (`ADB` env var, else `adb` on PATH). */
export const ADB_BIN = process.env['ADB'] ?? 'adb';

/** Fails with a clear message when adb cannot run. */
export function requireAdb(): string {
  try {
    return execFileSync(ADB_BIN, ['version'], { encoding: 'utf8', timeout: 10_000 }).split('\n')[0] ?? '';
  } catch (error) {
    throw new Error(
      `these tests need the real adb (Debian package "adb", 29.x) but ${JSON.stringify(ADB_BIN)} cannot run ` +
        `(${(error as Error).message.split('\n')[0]}). Install it: apt-get install adb (scripts/setup-host does).`,
    );
  }
}

/**
 * The probe the loopback device runs (this machine's x86_64 build, or another ABI), built with
 * scripts/build-probe when missing or stale, as the probe's own tests do.
 */
export function requireProbe(abi = 'x86_64'): string {
  ensureProbesBuilt();
  const file = probeBinaryPath(abi);
  if (!fs.existsSync(file)) throw new Error(`the ${abi} probe is not built (${file}) and scripts/build-probe did not build it`);
  return file;
}

/** Starts a private server; `stop()` kills it. */
export async function startPrivateAdbServer(): Promise<{ server: AdbServer; port: number; stop: () => Promise<void> }> {
  requireAdb();
  const port = await freeLocalPort();
  const server = new AdbServer({ port, bin: ADB_BIN });
  await server.ensureRunning();
  return {
    server,
    port,
    stop: async () => {
      await server.kill();
      try {
        // kill-server through the binary too, in case the host:kill request raced the server's start.
        execFileSync(ADB_BIN, ['-P', String(port), 'kill-server'], { timeout: 10_000, stdio: 'ignore' });
      } catch {
        // Nothing listens any more: that is what we wanted.
      }
    },
  };
}

/** `adb connect` a loopback daemon and wait (bounded) until it is a ready device. */
export async function connectLoopback(server: AdbServer, daemon: LoopbackAdbd): Promise<string> {
  await server.connectDevice('127.0.0.1', daemon.port);
  if (!(await server.waitForDevice(daemon.serial, 10_000))) {
    throw new Error(`loopback device ${daemon.serial} did not become ready: ${JSON.stringify(await server.listDevices())}`);
  }
  return daemon.serial;
}
