/**
 * `sync:` for the loopback ADB daemon (TEST INFRASTRUCTURE): the file service behind `adb push`,
 * `adb pull` and adbkit's `push`/`pull`/`stat`/`readdir`.
 *
 * Requests are an 8-byte header (4-letter id, little-endian length) and the payload; they may
 * straddle WRTE packets, so the service reads from a byte queue. Version 1 only (STAT, LIST,
 * SEND, RECV, QUIT): the daemon does not advertise `stat_v2`, `ls_v2` or `sendrecv_v2`.
 * The files themselves are the served device's ({@link SyncFiles}): this machine's scratch folder
 * (writes confined to it) or a guest's file system.
 */
import type { FileStat, FileWriter, SyncFiles } from './served-device.js';
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

function statWords(st: FileStat | undefined): Buffer {
  const b = Buffer.alloc(12);
  if (st !== undefined) {
    b.writeUInt32LE(st.mode >>> 0, 0);
    b.writeUInt32LE(Math.min(st.size, 0xffffffff), 4);
    b.writeUInt32LE(st.mtime >>> 0, 8);
  }
  return b;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Serves one `sync:` stream until QUIT or close, on the device's files. */
export function startSync(stream: AdbStream, files: SyncFiles, ignoreMode = false): void {
  const queue = new ByteQueue();
  stream.onData = (data) => queue.push(data);
  stream.onClose = () => queue.end();
  stream.accept();
  void serve(stream, queue, files, ignoreMode).catch(() => stream.close());
}

async function serve(stream: AdbStream, queue: ByteQueue, files: SyncFiles, ignoreMode: boolean): Promise<void> {
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
        const st = await files.lstat(name);
        stream.write(Buffer.concat([Buffer.from('STAT', 'ascii'), statWords(st)]));
        break;
      }
      case 'LIST': {
        for (const entry of await files.list(name)) {
          const n = Buffer.from(entry.name, 'utf8');
          const len = Buffer.alloc(4);
          len.writeUInt32LE(n.length, 0);
          stream.write(Buffer.concat([Buffer.from('DENT', 'ascii'), statWords(entry.stat), len, n]));
        }
        stream.write(Buffer.concat([Buffer.from('DONE', 'ascii'), Buffer.alloc(16)]));
        break;
      }
      case 'SEND':
        await receiveFile(stream, queue, files, name, ignoreMode);
        break;
      case 'RECV':
        await sendFile(stream, files, name);
        break;
      default:
        fail(stream, `unknown sync request ${JSON.stringify(id)}`);
        stream.end();
        return;
    }
    await stream.drained();
  }
}

async function receiveFile(stream: AdbStream, queue: ByteQueue, files: SyncFiles, spec: string, ignoreMode: boolean): Promise<void> {
  const comma = spec.lastIndexOf(',');
  const target = comma >= 0 ? spec.slice(0, comma) : spec;
  // Some device file systems (FUSE /sdcard, noexec mounts) do not keep the mode SEND asks for.
  const mode = ignoreMode ? 0o100644 : comma >= 0 ? Number.parseInt(spec.slice(comma + 1), 10) : 0o100644;
  let error: string | undefined;
  let writer: FileWriter | undefined;
  if (Number.isNaN(mode)) error = `bad mode in ${JSON.stringify(spec)}`;
  else {
    try {
      writer = await files.create(target);
    } catch (e) {
      error = message(e);
    }
  }
  // Like adbd, read the whole transfer (DATA... DONE) even after an error, then answer once.
  for (;;) {
    const head = await queue.read(8);
    if (head === undefined) {
      await writer?.abort();
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
      if (data === undefined) {
        await writer?.abort();
        return;
      }
      if (writer !== undefined && error === undefined) {
        try {
          await writer.write(data);
        } catch (e) {
          error = message(e);
        }
      }
    } else if (id === 'DONE') {
      if (writer !== undefined && error === undefined) {
        try {
          await writer.finish(mode, n);
          writer = undefined;
        } catch (e) {
          error = message(e);
        }
      }
      break;
    } else {
      error ??= `unexpected ${JSON.stringify(id)} during SEND`;
      break;
    }
  }
  await writer?.abort();
  if (error !== undefined) fail(stream, error);
  else stream.write(header('OKAY', 0));
}

async function sendFile(stream: AdbStream, files: SyncFiles, name: string): Promise<void> {
  try {
    for await (const data of files.read(name)) {
      for (let off = 0; off < data.length; off += DATA_MAX) {
        const chunk = data.subarray(off, off + DATA_MAX);
        if (!stream.write(Buffer.concat([header('DATA', chunk.length), chunk]))) await stream.drained();
      }
    }
  } catch (e) {
    fail(stream, message(e));
    return;
  }
  stream.write(header('DONE', 0));
}
