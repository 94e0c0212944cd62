/**
 * What the loopback ADB daemon serves (TEST INFRASTRUCTURE): the device behind its services.
 *
 * The daemon (`daemon.ts`) speaks the ADB protocol; a served device runs what the services ask
 * for. Two exist: `HostDevice` (`host-device.ts`: this machine's shell in a scratch folder)
 * and `GuestDevice` (`guest-device.ts`: a QEMU guest of the `vm` target, reached through its
 * control shell, so the commands meet the guest's kernel and its real /dev/ashmem).
 */
import type { AdbStream } from './stream.js';

/** `lstat` words of the sync protocol (v1). */
export interface FileStat {
  /** st_mode (type and permission bits). */
  readonly mode: number;
  readonly size: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
}

/** A file being written by `SEND`; nothing appears under the target name before {@link finish}. */
export interface FileWriter {
  /** Appends bytes; rejects with the reason when the device cannot take them. */
  write(data: Buffer): Promise<void>;
  /** Sets the mode and mtime and moves the file into place; rejects with the reason. */
  finish(mode: number, mtime: number): Promise<void>;
  /** Drops the partial file (the transfer failed or was cut). */
  abort(): Promise<void>;
}

/** The file operations behind `sync:`. Errors are Error objects whose message the host sees. */
export interface SyncFiles {
  /** lstat, or undefined when the path does not exist. */
  lstat(file: string): Promise<FileStat | undefined>;
  /** A folder's entries, `.` and `..` first; empty when it cannot be read. */
  list(dir: string): Promise<{ readonly name: string; readonly stat: FileStat }[]>;
  /** Starts writing `target` (creating its folder, the `fixed_push_mkdir` feature). */
  create(target: string): Promise<FileWriter>;
  /** The file's bytes, in chunks. */
  read(file: string): AsyncIterable<Buffer>;
}

/** The device side of the daemon's services. */
export interface ServedDevice {
  /** The device's writable folder, advertised as the property `harness.loopback.tmpdir`. */
  readonly tmpDir: string;
  /** ABIs the device can run, most preferred first (the default `ro.product.cpu.abilist`). */
  readonly abis: readonly string[];
  /** Serves the property table through `getprop` (again after every change); resolves when in place. */
  properties(table: ReadonlyMap<string, string>): Promise<void>;
  /** The uid shells run as (`root:` answers from it). */
  uid(): number;
  /**
   * `root:` / `unroot:` restarted "adbd": a device that can, runs later shells as uid 0 (or as
   * its shell user again). One that cannot (this machine) keeps its uid: no root is faked.
   */
  setRoot?(root: boolean): void;
  /** `shell:` (stderr merged) and `exec:` (stderr dropped): the command's stdio on the stream. */
  subprocess(stream: AdbStream, command: string, mergeStderr: boolean): void;
  /** `tcp:PORT` on the device's loopback; a refused connection refuses the OPEN. */
  tcp(stream: AdbStream, port: number): void;
  /** Files for `sync:`. */
  readonly files: SyncFiles;
  /** Ends every command and relay started for a stream (adbd restarting, or the device gone). */
  dropAll(): void;
  /** Called (once) when the device itself disappears (a guest powered off). */
  onGone(listener: () => void): void;
  /** Releases what the device holds on this machine (scratch folder, connections). */
  close(): Promise<void>;
}
