/**
 * The `sync:` service: pushes (with the file mode, so no separate chmod round trip) and stats.
 * One device round trip per call.
 */
import type { DeviceClient } from '@devicefarmer/adbkit';
import type { EventEmitter } from 'node:events';
import { TargetError } from '../target.js';
import { AdbCommandError } from './errors.js';
import type { RoundTripCounter } from './round-trips.js';
import { bounded } from './timeout.js';

/** What adbkit's Sync object offers that we use. */
interface SyncSession {
  pushFile(file: string, path: string, mode?: number): EventEmitter;
  stat(path: string): PromiseLike<{ mode: number; size: number; mtime: Date }>;
  end(): unknown;
}

/** File transfer to one device. */
export class SyncService {
  constructor(
    private readonly device: DeviceClient,
    private readonly counter: RoundTripCounter,
  ) {}

  private async session(ms: number): Promise<SyncSession> {
    this.counter.device('sync');
    return bounded<SyncSession>(this.device.syncService(), ms, `adb ${this.device.serial}: sync open`);
  }

  /** Pushes a local file to `remote` with `mode` (e.g. 0o755). */
  async pushFile(local: string, remote: string, mode: number, ms: number): Promise<void> {
    const sync = await this.session(ms);
    try {
      const transfer = sync.pushFile(local, remote, mode);
      await bounded(
        new Promise<void>((resolve, reject) => {
          transfer.on('end', () => resolve());
          transfer.on('error', (e: Error) => reject(e));
        }),
        ms,
        `adb ${this.device.serial}: push ${remote}`,
      );
    } catch (error) {
      if (error instanceof TargetError) throw error;
      // The device answered FAIL (read-only or missing folder, full disk...): say where and why.
      const reason = error instanceof Error ? error.message : String(error);
      throw new AdbCommandError(`push of ${local} to ${this.device.serial}:${remote} failed: ${reason} (is the device folder writable? it is the target option deviceDir)`, { cause: error });
    } finally {
      sync.end();
    }
  }

  /** Size and mtime of a device file, or undefined when it does not exist. */
  async stat(remote: string, ms: number): Promise<{ size: number; mtime: number; mode: number } | undefined> {
    const sync = await this.session(ms);
    try {
      const st = await bounded(sync.stat(remote), ms, `adb ${this.device.serial}: stat ${remote}`);
      return { size: st.size, mtime: st.mtime.getTime() / 1000, mode: st.mode };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    } finally {
      sync.end();
    }
  }
}
