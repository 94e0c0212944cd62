/**
 * `sync:` for the loopback ADB daemon (TEST INFRASTRUCTURE): the file service behind `adb push`,
 * `adb pull` and adbkit's `push`/`pull`/`stat`/`readdir`.
 *
 * Requests are an 8-byte header (4-letter id, little-endian length) and the payload; they may
 * straddle WRTE packets, so the service reads from a byte queue. Version 1 only (STAT, LIST,
 * SEND, RECV, QUIT): the daemon does not advertise `stat_v2`, `ls_v2` or `sendrecv_v2`.
 * Writes (SEND) are confined to the scratch folder, so a test can never overwrite host files.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AdbStream } from './stream.js';

const DATA_MAX = 64 * 1024;

/** Reads exact byte counts from a stream's incoming data. */
class ByteQueue {
  private chunks: Buffer[] = [];
  private size = 0;
  private waiter: (() => void) | undefined;
  private ended = false;

  push(data: Buffer): void {
    this.chunks.push(data);
    this.size += data.length;
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Resolves with exactly n bytes, or undefined if the stream ended first. */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.size < n) {
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    const all = Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.size -= n;
    return all.subarray(0, n);
  }
}

function header(id: string, n: number): Buffer {
  const b = Buffer.alloc(8);
  b.write(id, 0, 'ascii');
  b.writeUInt32LE(n >>> 0, 4);
  return b;
}

function fail(stream: AdbStream, message: string): void {
  const text = Buffer.from(message, 'utf8');
  stream.write(Buffer.concat([header('FAIL', text.length), text]));
}

function statWords(st: fs.Stats | undefined): Buffer {
  const b = Buffer.alloc(12);
  if (st !== undefined) {
    b.writeUInt32LE(st.mode >>> 0, 0);
    b.writeUInt32LE(Math.min(st.size, 0xffffffff), 4);
    b.writeUInt32LE(Math.floor(st.mtimeMs / 1000) >>> 0, 8);
  }
  return b;
}

function inside(root: string, target: string): boolean {
  const rel = path.relative(root, path.resolve(target));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Serves one `sync:` stream until QUIT or close. */
export function startSync(stream: AdbStream, scratch: string, ignoreMode = false): void {
  const queue = new ByteQueue();
  stream.onData = (data) => queue.push(data);
  stream.onClose = () => queue.end();
  stream.accept();
  void serve(stream, queue, scratch, ignoreMode).catch(() => stream.close());
}

async function serve(stream: AdbStream, queue: ByteQueue, scratch: string, ignoreMode: boolean): Promise<void> {
  for (;;) {
    const head = await queue.read(8);
    if (head === undefined) return;
    const id = head.toString('ascii', 0, 4);
    const length = head.readUInt32LE(4);
    if (id === 'QUIT') {
      stream.end();
      return;
    }
    if (length > 4096) {
      fail(stream, `request ${id} too long (${length})`);
      stream.end();
      return;
    }
    const arg = await queue.read(length);
    if (arg === undefined) return;
    const name = arg.toString('utf8');
    switch (id) {
      case 'STAT': {
        let st: fs.Stats | undefined;
        try {
          st = fs.lstatSync(name);
        } catch {
          st = undefined;
        }
        stream.write(Buffer.concat([Buffer.from('STAT', 'ascii'), statWords(st)]));
        break;
      }
      case 'LIST': {
        let entries: string[] = [];
        try {
          entries = fs.readdirSync(name);
        } catch {
          entries = [];
        }
        for (const entry of ['.', '..', ...entries]) {
          let st: fs.Stats | undefined;
          try {
            st = fs.lstatSync(path.join(name, entry));
          } catch {
            continue;
          }
          const n = Buffer.from(entry, 'utf8');
          const words = statWords(st);
          const len = Buffer.alloc(4);
          len.writeUInt32LE(n.length, 0);
          stream.write(Buffer.concat([Buffer.from('DENT', 'ascii'), words, len, n]));
        }
        stream.write(Buffer.concat([Buffer.from('DONE', 'ascii'), Buffer.alloc(16)]));
        break;
      }
      case 'SEND':
        await receiveFile(stream, queue, scratch, name, ignoreMode);
        break;
      case 'RECV':
        await sendFile(stream, name);
        break;
      default:
        fail(stream, `unknown sync request ${JSON.stringify(id)}`);
        stream.end();
        return;
    }
    await stream.drained();
  }
}

async function receiveFile(stream: AdbStream, queue: ByteQueue, scratch: string, spec: string, ignoreMode: boolean): Promise<void> {
  const comma = spec.lastIndexOf(',');
  const target = comma >= 0 ? spec.slice(0, comma) : spec;
  // Some device file systems (FUSE /sdcard, noexec mounts) do not keep the mode SEND asks for.
  const mode = ignoreMode ? 0o100644 : comma >= 0 ? Number.parseInt(spec.slice(comma + 1), 10) : 0o100644;
  let error: string | undefined;
  if (!inside(scratch, target)) error = `loopback-adbd: writes are confined to ${scratch}, not ${target}`;
  else if (Number.isNaN(mode)) error = `bad mode in ${JSON.stringify(spec)}`;
  const temp = `${target}.loopback-${process.pid}-${Date.now()}.part`;
  let fd: number | undefined;
  if (error === undefined) {
    try {
      fs.mkdirSync(path.dirname(target), { recursive: true }); // the `fixed_push_mkdir` feature
      fd = fs.openSync(temp, 'w', 0o600);
    } catch (e) {
      error = `${target}: ${(e as Error).message}`;
    }
  }
  // Like adbd, read the whole transfer (DATA... DONE) even after an error, then answer once.
  for (;;) {
    const head = await queue.read(8);
    if (head === undefined) {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(temp, { force: true });
      return;
    }
    const id = head.toString('ascii', 0, 4);
    const n = head.readUInt32LE(4);
    if (id === 'DATA') {
      if (n > DATA_MAX) {
        error ??= `DATA chunk of ${n} bytes exceeds ${DATA_MAX}`;
        break;
      }
      const data = await queue.read(n);
      if (data === undefined) return;
      if (fd !== undefined && error === undefined) {
        try {
          fs.writeSync(fd, data);
        } catch (e) {
          error = (e as Error).message;
        }
      }
    } else if (id === 'DONE') {
      if (fd !== undefined) {
        fs.closeSync(fd);
        fd = undefined;
        if (error === undefined) {
          try {
            fs.chmodSync(temp, mode & 0o7777);
            fs.utimesSync(temp, n, n);
            fs.renameSync(temp, target);
          } catch (e) {
            error = (e as Error).message;
          }
        }
      }
      break;
    } else {
      error ??= `unexpected ${JSON.stringify(id)} during SEND`;
      break;
    }
  }
  if (fd !== undefined) fs.closeSync(fd);
  fs.rmSync(temp, { force: true });
  if (error !== undefined) fail(stream, error);
  else stream.write(header('OKAY', 0));
}

async function sendFile(stream: AdbStream, name: string): Promise<void> {
  let data: Buffer;
  try {
    data = fs.readFileSync(name);
  } catch (e) {
    fail(stream, `${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return;
  }
  for (let off = 0; off < data.length; off += DATA_MAX) {
    const chunk = data.subarray(off, off + DATA_MAX);
    if (!stream.write(Buffer.concat([header('DATA', chunk.length), chunk]))) await stream.drained();
  }
  stream.write(header('DONE', 0));
}
