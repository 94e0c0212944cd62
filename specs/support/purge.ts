/**
 * Purging every unpinned ashmem range of the device from outside the app, as root:
 * ASHMEM_PURGE_ALL_CACHES through the native probe when it is built for the device's ABI
 * (exact: the whole global LRU, §3.7), else `drop_caches` (an unknown prefix of the LRU, §5.3).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adb, shell, type DeviceFacts } from './device.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEVICE_PROBE = '/data/local/tmp/ashmem-probe';

/** The device gives no root shell, so nothing outside the app can purge. */
export class PurgeUnavailableError extends Error {
  override readonly name = 'PurgeUnavailableError';
}

/** How a purge was done: `exact` purges every unpinned range; `prefix` an unknown prefix of the LRU. */
export interface PurgeDone {
  readonly exact: boolean;
  readonly how: string;
}

async function rootShell(): Promise<(cmd: string) => Promise<string>> {
  if ((await shell('id -u')).trim() === '0') return (cmd) => shell(cmd);
  const viaSu = await shell('su 0 id -u 2>/dev/null || true');
  if (viaSu.trim() === '0') return (cmd) => shell(`su 0 sh -c '${cmd.replaceAll("'", "'\\''")}'`);
  throw new PurgeUnavailableError('purging from outside needs root: run `adb root` (emulator or userdebug image) and retry');
}

/**
 * Purges every unpinned ashmem range of the device.
 * @param facts - the device's ABI picks the probe build
 */
export async function purgeAll(facts: DeviceFacts): Promise<PurgeDone> {
  const root = await rootShell();
  const probe = path.join(ROOT, 'apk-fixtures/probe/build', facts.abi, 'ashmem-probe');
  if (fs.existsSync(probe)) {
    await adb(['push', probe, DEVICE_PROBE]);
    await root(`chmod 755 ${DEVICE_PROBE}`);
    const out = await root(`printf 'open r0\\npurge_all r0\\n' | ${DEVICE_PROBE}`);
    const line = out.split('\n').find((l) => l.includes('"op":"purge_all"'));
    const result = line === undefined ? undefined : (JSON.parse(line) as { ret?: number; errno?: string });
    if (result?.ret === undefined) throw new PurgeUnavailableError(`the probe's purge_all failed: ${line ?? out.trim()}`);
    return { exact: true, how: `ASHMEM_PURGE_ALL_CACHES through the probe (${result.ret} pages)` };
  }
  // drop_caches: the first pass may only defer work on a modern kernel (§5.3); two passes.
  await root('echo 2 > /proc/sys/vm/drop_caches; echo 2 > /proc/sys/vm/drop_caches');
  return { exact: false, how: 'drop_caches x2 (the probe is not built for this ABI: scripts/build-probe)' };
}
