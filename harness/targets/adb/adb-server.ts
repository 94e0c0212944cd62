/**
 * One adb server (local or remote, as device labs and DeviceFarmer STF expose them), through
 * `@devicefarmer/adbkit`: host queries (version, devices, state, track), `connect` for
 * network devices, and starting a local server.
 *
 * adbkit starts a server on its own when a connection is refused, unbounded and on whatever host
 * it was given. We turn that off (its `bin` is `false`) and start local servers ourselves,
 * bounded, with a clear error when `adb` is missing; remote servers, and servers the user named
 * explicitly, are never started.
 *
 * adbkit's promises are typed as Bluebird, whose types are not installed here, so every result
 * is given its type explicitly where it crosses into our code.
 */
import type * as AdbkitModule from '@devicefarmer/adbkit';
import type { Client, Device } from '@devicefarmer/adbkit';
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { AdbError, AdbMissingError, AdbServerError } from './errors.js';
import { bounded, sleep } from './timeout.js';

/**
 * adbkit is CommonJS and defines its exports as getters, which Node's ESM loader cannot see as
 * named exports (`import { Adb }` fails under plain Node/tsx ESM); require() sees them all.
 */
const adbkit = createRequire(import.meta.url)('@devicefarmer/adbkit') as typeof AdbkitModule;

/**
 * Whether adbkit reports that the server or the device ended a request: a FAIL answer (a service
 * the device refused to open comes back as FAIL "closed") or a connection that ended early. A
 * device going away often shows first this way, before the server has noticed the lost transport.
 */
export function isAdbRequestEnded(error: unknown): boolean {
  return error instanceof adbkit.Parser.FailError || error instanceof adbkit.Parser.PrematureEOFError;
}

/** A device as the server lists it. */
export interface AdbDeviceEntry {
  readonly serial: string;
  /** `device`, `offline`, `unauthorized`, `emulator`... as adbkit reports it. */
  readonly state: string;
}

/** Options of {@link AdbServer}. */
export interface AdbServerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default `ANDROID_ADB_SERVER_PORT` or 5037. */
  readonly port?: number;
  /** The adb binary used to start a local server (default `adb`). */
  readonly bin?: string;
  /** Bound of one host query, ms (default 10 000). */
  readonly timeoutMs?: number;
  /**
   * Whether a local server that does not answer may be started (default true). False for a
   * server the user named (`--adb-server`, `adb:SERIAL@HOST:PORT`): that one is used, never
   * started, so a typo does not leave an adb server running on some port.
   */
  readonly mayStart?: boolean;
}

/** The port of the default server: `ANDROID_ADB_SERVER_PORT`, else 5037. */
export function defaultServerPort(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['ANDROID_ADB_SERVER_PORT'];
  const port = raw === undefined ? 5037 : Number(raw);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : 5037;
}

/** Parses `--adb-server` values: `HOST:PORT`, `HOST` (port 5037) or `PORT` (on 127.0.0.1). */
export function parseServerAddress(spec: string): { host: string; port: number } {
  const trimmed = spec.trim();
  let host = '127.0.0.1';
  let portText = '5037';
  if (/^\d+$/.test(trimmed)) portText = trimmed;
  else {
    const m = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(trimmed);
    if (m === null || m[1] === undefined || m[1] === '') throw new AdbError(`bad adb server address ${JSON.stringify(spec)}: expected HOST:PORT`);
    host = m[1];
    portText = m[2] ?? '5037';
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new AdbError(`bad port in adb server address ${JSON.stringify(spec)}`);
  return { host, port };
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}

/** One adb server. */
export class AdbServer {
  /** The adbkit client. */
  readonly client: Client;
  readonly host: string;
  readonly port: number;
  readonly bin: string;
  readonly timeoutMs: number;
  /** See {@link AdbServerOptions.mayStart}. */
  readonly mayStart: boolean;

  constructor(options: AdbServerOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? defaultServerPort();
    this.bin = options.bin ?? 'adb';
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.mayStart = options.mayStart ?? true;
    this.client = adbkit.Adb.createClient({ host: this.host, port: this.port, bin: 'false' });
  }

  /** `HOST:PORT`. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** True for a server on this machine (which we may start). */
  get local(): boolean {
    return isLoopback(this.host);
  }

  /** Whether something accepts TCP connections at the server's address (bounded). */
  reachable(ms = 2000): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: this.host, port: this.port });
      const done = (ok: boolean): void => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(ms, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
  }

  /** Runs the adb binary with `-P PORT` (bounded); AdbMissingError when it cannot run. */
  runAdb(args: readonly string[], ms = this.timeoutMs): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.bin, ['-P', String(this.port), ...args], { timeout: ms, encoding: 'utf8' }, (error, stdout, stderr) => {
        const code = (error as NodeJS.ErrnoException | null)?.code;
        if (code === 'ENOENT' || code === 'EACCES') reject(new AdbMissingError(this.bin, error));
        else if (error !== null) reject(new AdbServerError(`${this.bin} ${args.join(' ')} failed: ${(stderr || error.message).trim()}`, { cause: error }));
        else resolve(stdout + stderr);
      });
    });
  }

  /**
   * Makes sure the server answers: the default local one is started (`adb -P PORT start-server`)
   * if nothing listens; a remote one, or one the user named, must already run.
   */
  async ensureRunning(): Promise<void> {
    if (await this.reachable()) return;
    if (this.local && !this.mayStart) {
      throw new AdbServerError(`no adb server answers at ${this.address}, and a server given explicitly is used, never started: start it (adb -P ${this.port} start-server) or fix --adb-server`);
    }
    if (!this.local) throw new AdbServerError(`no adb server answers at ${this.address}: start it there (adb -a -P ${this.port} server nodaemon) or fix --adb-server`);
    await this.runAdb(['start-server'], Math.max(this.timeoutMs, 20_000));
    for (let i = 0; i < 50; i++) {
      if (await this.reachable()) return;
      await sleep(100);
    }
    throw new AdbServerError(`adb server at ${this.address} did not come up after start-server`);
  }

  /** The server's protocol version. */
  async version(): Promise<number> {
    return bounded<number>(this.client.version(), this.timeoutMs, `adb server ${this.address}: version`);
  }

  /** Devices attached to this server, in any state. */
  async listDevices(): Promise<AdbDeviceEntry[]> {
    const devices = await bounded<Device[]>(this.client.listDevices(), this.timeoutMs, `adb server ${this.address}: devices`);
    return devices.map((d) => ({ serial: d.id, state: d.type }));
  }

  /** A device's state, or `absent`. */
  async state(serial: string): Promise<string> {
    const found = (await this.listDevices()).find((d) => d.serial === serial);
    return found?.state ?? 'absent';
  }

  /** Polls until the device is in state `device` (bounded); false on timeout. */
  async waitForDevice(serial: string, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      try {
        if ((await this.state(serial)) === 'device') return true;
      } catch {
        // The server may be restarting; keep polling until the deadline.
      }
      await sleep(150);
    }
    return false;
  }

  /**
   * `adb connect HOST:PORT` through the server. The answer text is parsed, because adb 29
   * reports a refused connection in text while succeeding as a command.
   */
  async connectDevice(host: string, port: number): Promise<string> {
    try {
      const id = await bounded<string>(this.client.connect(host, port), Math.max(this.timeoutMs, 15_000), `adb connect ${host}:${port}`);
      return String(id);
    } catch (error) {
      throw new AdbServerError(`adb connect ${host}:${port} via ${this.address} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /** `adb disconnect HOST:PORT`. */
  async disconnectDevice(host: string, port: number): Promise<void> {
    await bounded<unknown>(this.client.disconnect(host, port), this.timeoutMs, `adb disconnect ${host}:${port}`);
  }

  /**
   * Tracks devices: `onChange` gets the full list on every change. Returns a stop function.
   */
  async trackDevices(onChange: (devices: readonly AdbDeviceEntry[]) => void): Promise<() => void> {
    const tracker = await bounded<EventEmitter & { end(): unknown }>(this.client.trackDevices(), this.timeoutMs, `adb server ${this.address}: track-devices`);
    let current = new Map<string, string>();
    const emit = (): void => onChange([...current].map(([serial, state]) => ({ serial, state })));
    tracker.on('add', (d: { id: string; type: string }) => {
      current = new Map(current).set(d.id, d.type);
      emit();
    });
    tracker.on('change', (d: { id: string; type: string }) => {
      current = new Map(current).set(d.id, d.type);
      emit();
    });
    tracker.on('remove', (d: { id: string }) => {
      current = new Map(current);
      current.delete(d.id);
      emit();
    });
    tracker.on('error', () => undefined);
    return () => {
      tracker.end();
    };
  }

  /** Stops the server (`host:kill`) and waits (bounded) until its port is closed. */
  async kill(): Promise<void> {
    try {
      await bounded<unknown>(this.client.kill(), this.timeoutMs, `adb server ${this.address}: kill`);
    } catch {
      // Already gone.
    }
    // The server answers host:kill before it closes its listening socket.
    const deadline = Date.now() + this.timeoutMs;
    while (Date.now() < deadline && (await this.reachable(500))) await sleep(50);
  }
}
