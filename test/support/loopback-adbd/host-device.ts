/**
 * The loopback ADB daemon's default device (TEST INFRASTRUCTURE): THIS machine's shell, in a
 * scratch folder, with the `getprop` shim first in PATH. What runs is the host kernel: there is no
 * /dev/ashmem unless the host has one; the probe meets memfd.
 *
 * The daemon does not pretend to have `/data/local/tmp`: it serves its scratch folder (advertised
 * as `harness.loopback.tmpdir`) and sync writes outside it fail, so a test can never overwrite
 * host files.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { hostAbi, writeGetpropShim } from './properties.js';
import type { FileStat, FileWriter, ServedDevice, SyncFiles } from './served-device.js';
import type { AdbStream } from './stream.js';
import { killGroup, startSubprocess } from './subprocess-service.js';
import { startTcpRelay } from './tcp-service.js';

const READ_CHUNK = 64 * 1024;

function statOf(st: fs.Stats): FileStat {
  return { mode: st.mode, size: st.size, mtime: Math.floor(st.mtimeMs / 1000) };
}

function inside(root: string, target: string): boolean {
  const rel = path.relative(root, path.resolve(target));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Sync files on this machine, writes confined to the scratch folder. */
class HostFiles implements SyncFiles {
  constructor(private readonly scratch: string) {}

  async lstat(file: string): Promise<FileStat | undefined> {
    try {
      return statOf(fs.lstatSync(file));
    } catch {
      return undefined;
    }
  }

  async list(dir: string): Promise<{ name: string; stat: FileStat }[]> {
    let entries: string[];
    try {
      entries = fs.readdirSync(dir);
    } catch {
      return [];
    }
    const out: { name: string; stat: FileStat }[] = [];
    for (const name of ['.', '..', ...entries]) {
      const st = await this.lstat(path.join(dir, name));
      if (st !== undefined) out.push({ name, stat: st });
    }
    return out;
  }

  async create(target: string): Promise<FileWriter> {
    if (!inside(this.scratch, target)) throw new Error(`loopback-adbd: writes are confined to ${this.scratch}, not ${target}`);
    const temp = `${target}.loopback-${process.pid}-${Date.now()}.part`;
    let fd: number | undefined;
    try {
      fs.mkdirSync(path.dirname(target), { recursive: true }); // the `fixed_push_mkdir` feature
      fd = fs.openSync(temp, 'w', 0o600);
    } catch (e) {
      throw new Error(`${target}: ${(e as Error).message}`);
    }
    const close = (): void => {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
    };
    return {
      write: async (data) => {
        if (fd !== undefined) fs.writeSync(fd, data);
      },
      finish: async (mode, mtime) => {
        close();
        try {
          fs.chmodSync(temp, mode & 0o7777);
          fs.utimesSync(temp, mtime, mtime);
          fs.renameSync(temp, target);
        } finally {
          fs.rmSync(temp, { force: true });
        }
      },
      abort: async () => {
        close();
        fs.rmSync(temp, { force: true });
      },
    };
  }

  async *read(file: string): AsyncIterable<Buffer> {
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch (e) {
      throw new Error(`${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    for (let off = 0; off < data.length; off += READ_CHUNK) yield data.subarray(off, off + READ_CHUNK);
  }
}

/** Options of {@link HostDevice}. */
export interface HostDeviceOptions {
  /** Scratch folder; by default a fresh one under the OS temp folder, removed on `close`. */
  readonly scratchDir?: string;
}

/** This machine as the daemon's device. */
export class HostDevice implements ServedDevice {
  readonly tmpDir: string;
  readonly abis: readonly string[] = [hostAbi()];
  readonly files: SyncFiles;
  /** Holds the `getprop` shim; first in the PATH of every shell. */
  readonly shimDir: string;
  private readonly ownsScratch: boolean;
  private readonly children = new Set<ChildProcess>();
  private readonly relays = new Set<net.Socket>();

  constructor(options: HostDeviceOptions = {}) {
    this.ownsScratch = options.scratchDir === undefined;
    const base = options.scratchDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'loopback-adbd-'));
    fs.mkdirSync(base, { recursive: true });
    this.tmpDir = fs.realpathSync(base);
    this.shimDir = path.join(this.tmpDir, '.loopback-bin');
    fs.mkdirSync(this.shimDir, { recursive: true });
    this.files = new HostFiles(this.tmpDir);
  }

  async properties(table: ReadonlyMap<string, string>): Promise<void> {
    writeGetpropShim(this.shimDir, table);
  }

  uid(): number {
    return process.getuid?.() ?? -1;
  }

  subprocess(stream: AdbStream, command: string, mergeStderr: boolean): void {
    startSubprocess(stream, command, mergeStderr, {
      cwd: this.tmpDir,
      env: { ...process.env, PATH: `${this.shimDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, TMPDIR: this.tmpDir },
      children: this.children,
    });
  }

  tcp(stream: AdbStream, port: number): void {
    startTcpRelay(stream, port, this.relays);
  }

  dropAll(): void {
    for (const s of this.relays) s.destroy();
    for (const c of this.children) killGroup(c);
  }

  onGone(): void {
    // This machine does not vanish; `LoopbackAdbd.kill()` stands for an unplugged device.
  }

  async close(): Promise<void> {
    this.dropAll();
    if (this.ownsScratch) fs.rmSync(this.tmpDir, { recursive: true, force: true });
  }
}
