/**
 * A loopback ADB daemon — TEST INFRASTRUCTURE, not a device and not product code.
 *
 * It speaks the device side of the ADB wire protocol over TCP (what `adbd` speaks after
 * `adb tcpip`), so that the real adb server (`adb connect 127.0.0.1:PORT`) and
 * `@devicefarmer/adbkit` can be tested end to end on a machine with no Android. What it serves is
 * a {@link ServedDevice}: by default THIS machine's shell in a scratch folder ({@link HostDevice}),
 * or a QEMU guest of the `vm` target (`GuestDevice`), whose kernel has a real /dev/ashmem.
 * Either way it has a configurable property table (`getprop` shim) and ABI list, so that device
 * facts and profile detection read something real.
 *
 * Protocol: CNXN without AUTH (the banner advertises only `fixed_push_mkdir`, so adb 29 uses the
 * legacy shell protocol and sync v1 that we implement), OPEN / OKAY / WRTE / CLSE with one WRTE
 * in flight per stream. Services: `shell:[CMD]`, `exec:CMD`, `sync:`, `tcp:PORT[:127.0.0.1]`,
 * `root:` / `unroot:` (answers as a production build, or with `root: 'restart'` as a userdebug
 * image whose adbd restarts — every connection drops — while the shells keep the device's uid:
 * root never really appears; a device whose shells already run as uid 0 says so). Anything else
 * is refused (CLSE).
 *
 * Paths: the device's writable folder is advertised as the property `harness.loopback.tmpdir`
 * ({@link LoopbackAdbd.scratchDir}); tests pass that folder to the adb target as its `deviceDir`.
 *
 * `kill()` drops every connection and command at once, like a device unplugged mid-run; a served
 * guest that powers off does the same on its own.
 */
import net from 'node:net';
import { HostDevice } from './host-device.js';
import { A, A_VERSION, PacketReader, encodePacket, type AdbPacket } from './packet.js';
import type { ServedDevice } from './served-device.js';
import { AdbStream, type StreamTransport } from './stream.js';
import { startSync } from './sync-service.js';
import { parseTcpService } from './tcp-service.js';

/** The property that tells tests where the daemon's writable folder is. */
export const TMPDIR_PROPERTY = 'harness.loopback.tmpdir';

/** How `root:` answers. */
export type RootBehaviour = 'production' | 'restart';

/** Options of {@link LoopbackAdbd}. */
export interface LoopbackAdbdOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  readonly port?: number;
  /** Property overrides (merged over the defaults). */
  readonly properties?: Readonly<Record<string, string>>;
  /** ABI list, most preferred first (sets `ro.product.cpu.abilist`); defaults to this machine's. */
  readonly abis?: readonly string[];
  /** Largest payload we accept and advertise in CNXN (adbd 7+ uses 256 KiB). */
  readonly maxPayload?: number;
  /** `root:` behaviour (default `production`). */
  readonly root?: RootBehaviour;
  /** Store pushed files 0644 whatever mode SEND asks for, as some device file systems do. */
  readonly syncIgnoresMode?: boolean;
  /** Scratch folder of the default {@link HostDevice}; by default a fresh one under the OS temp folder, removed on `close`. */
  readonly scratchDir?: string;
  /**
   * The device served (default: a {@link HostDevice}, this machine). The daemon closes it on
   * `close()`; a `GuestDevice` leaves its guest running (the test owns the guest).
   */
  readonly device?: ServedDevice;
}

/** Counts of OPENs seen, by service kind: the round trips the host really made. */
export interface OpenCounts {
  shell: number;
  exec: number;
  sync: number;
  tcp: number;
  other: number;
}

const DEFAULT_MAX_PAYLOAD = 256 * 1024;

/** The device side of ADB over TCP, serving a {@link ServedDevice}. */
export class LoopbackAdbd {
  private server: net.Server | undefined;
  private readonly connections = new Set<net.Socket>();
  private readonly table = new Map<string, string>();
  private propertiesServed: Promise<void>;
  /** `root:` restarted our "adbd" as root (userdebug, `root: 'restart'`). */
  private adbdRoot = false;
  private nextId = 1;
  private boundPort = 0;
  private readonly counts: OpenCounts = { shell: 0, exec: 0, sync: 0, tcp: 0, other: 0 };
  /** Set by {@link refuseNextOpenThenVanish}: how long after the refusal the device vanishes. */
  private vanishAfterRefusalMs: number | undefined;
  /** Every service string opened, in order (capped), for diagnostics. */
  readonly openLog: string[] = [];

  /** What the services run on. */
  readonly device: ServedDevice;
  /**
   * The device's writable folder (its temp dir): on this machine a scratch folder, in a guest
   * `/data/local/tmp`. A path on the DEVICE.
   */
  readonly scratchDir: string;

  constructor(private readonly options: LoopbackAdbdOptions = {}) {
    this.device = options.device ?? new HostDevice(options.scratchDir !== undefined ? { scratchDir: options.scratchDir } : {});
    this.scratchDir = this.device.tmpDir;
    const abis = options.abis ?? this.device.abis;
    const defaults: Record<string, string> = {
      'ro.product.name': 'loopback',
      'ro.product.model': 'Loopback ADB daemon',
      'ro.product.device': 'loopback',
      'ro.product.manufacturer': 'ashmem-harness',
      'ro.product.cpu.abi': abis[0] ?? '',
      'ro.product.cpu.abilist': abis.join(','),
      'ro.build.version.sdk': '34',
      'ro.build.version.release': '14',
      'ro.build.type': options.root === 'restart' ? 'userdebug' : 'user',
      'ro.debuggable': options.root === 'restart' ? '1' : '0',
      'sys.use_memfd': 'false',
      'sys.boot_completed': '1',
      [TMPDIR_PROPERTY]: this.scratchDir,
    };
    for (const [k, v] of Object.entries({ ...defaults, ...(options.properties ?? {}) })) this.table.set(k, v);
    this.propertiesServed = this.device.properties(this.table);
    this.propertiesServed.catch(() => undefined); // start() reports it
    this.device.onGone(() => this.kill());
  }

  /** The port we listen on (after {@link start}). */
  get port(): number {
    return this.boundPort;
  }

  /** `127.0.0.1:PORT`, the serial the adb server will give this device. */
  get serial(): string {
    return `127.0.0.1:${this.boundPort}`;
  }

  /** A copy of the OPEN counts so far. */
  openCounts(): OpenCounts {
    return { ...this.counts };
  }

  /** Total OPENs so far. */
  totalOpens(): number {
    const c = this.counts;
    return c.shell + c.exec + c.sync + c.tcp + c.other;
  }

  /** Sets a property; resolves once `getprop` on the device serves it. */
  async setProperty(key: string, value: string): Promise<void> {
    this.table.set(key, value);
    this.propertiesServed = this.device.properties(this.table);
    await this.propertiesServed;
  }

  /** Reads a property from the table. */
  property(key: string): string | undefined {
    return this.table.get(key);
  }

  /** Starts listening on 127.0.0.1 (once the device serves the property table). */
  async start(): Promise<number> {
    await this.propertiesServed;
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    this.boundPort = address.port;
    return this.boundPort;
  }

  /** Drops every connection (as if adbd restarted) but keeps listening. */
  dropConnections(): void {
    for (const s of this.connections) s.destroy();
    this.device.dropAll();
  }

  /** The device vanishes: stop listening and drop everything at once, no goodbyes. */
  kill(): void {
    this.server?.close();
    this.server = undefined;
    this.dropConnections();
  }

  /**
   * The next service opened is refused (CLSE, as adbd answers a service it cannot start) and the
   * device vanishes `ms` later: a device going away while a service starts, whose loss the adb
   * server learns of only after the refusal (a powered-off guest's daemon may see its command's
   * connection close before its lifeline's).
   */
  refuseNextOpenThenVanish(ms: number): void {
    this.vanishAfterRefusalMs = ms;
  }

  /** Stops, and closes the device (a scratch folder we made is removed). */
  async close(): Promise<void> {
    const server = this.server;
    this.kill();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.device.close();
  }

  private banner(): string {
    const p = (k: string): string => this.table.get(k) ?? '';
    return `device::ro.product.name=${p('ro.product.name')};ro.product.model=${p('ro.product.model')};ro.product.device=${p('ro.product.device')};features=fixed_push_mkdir`;
  }

  private accept(socket: net.Socket): void {
    this.connections.add(socket);
    socket.setNoDelay(true);
    const ours = this.options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    const reader = new PacketReader(Math.max(ours, 1024 * 1024));
    const streams = new Map<number, AdbStream>();
    let peerMax = 4096;
    let online = false;
    const transport: StreamTransport = {
      send: (command, arg0, arg1, payload) => {
        if (!socket.destroyed) socket.write(encodePacket(command, arg0, arg1, payload));
      },
      get maxPayload() {
        return Math.min(peerMax, ours);
      },
      forget: (id) => streams.delete(id),
    };
    const shutdown = (): void => {
      this.connections.delete(socket);
      for (const s of [...streams.values()]) s.handleClose();
      streams.clear();
    };
    socket.on('close', shutdown);
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      let packets: AdbPacket[];
      try {
        packets = reader.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const p of packets) {
        switch (p.command) {
          case A.CNXN:
            peerMax = p.arg1 > 0 ? p.arg1 : 4096;
            online = true;
            transport.send(A.CNXN, A_VERSION, ours, Buffer.from(this.banner(), 'utf8'));
            break;
          case A.OPEN: {
            if (!online) break;
            const service = p.payload.toString('utf8').replace(/\0+$/, '');
            const stream = new AdbStream(transport, this.nextId++, p.arg0, service);
            streams.set(stream.localId, stream);
            this.open(stream);
            break;
          }
          case A.OKAY:
            streams.get(p.arg1)?.handleOkay();
            break;
          case A.WRTE: {
            const s = streams.get(p.arg1);
            if (s !== undefined) s.handleWrite(p.payload);
            else transport.send(A.CLSE, 0, p.arg0); // a write to a stream we no longer have
            break;
          }
          case A.CLSE:
            streams.get(p.arg1)?.handleClose();
            break;
          default:
            // AUTH, STLS, SYNC: not used without authentication or TLS; ignore as adbd would.
            break;
        }
      }
    });
  }

  private open(stream: AdbStream): void {
    const service = stream.service;
    if (this.openLog.length < 10000) this.openLog.push(service);
    const vanishMs = this.vanishAfterRefusalMs;
    if (vanishMs !== undefined) {
      this.vanishAfterRefusalMs = undefined;
      this.counts.other += 1;
      stream.refuse();
      setTimeout(() => this.kill(), vanishMs);
      return;
    }
    if (service.startsWith('shell:')) {
      this.counts.shell += 1;
      this.device.subprocess(stream, service.slice('shell:'.length), true);
    } else if (service.startsWith('exec:')) {
      this.counts.exec += 1;
      this.device.subprocess(stream, service.slice('exec:'.length), false);
    } else if (service === 'sync:') {
      this.counts.sync += 1;
      startSync(stream, this.device.files, this.options.syncIgnoresMode === true);
    } else if (service.startsWith('tcp:')) {
      this.counts.tcp += 1;
      const port = parseTcpService(service);
      if (port === undefined) stream.refuse();
      else this.device.tcp(stream, port);
    } else if (service === 'root:' || service === 'unroot:') {
      this.counts.other += 1;
      this.rootService(stream, service === 'root:');
    } else {
      this.counts.other += 1;
      stream.refuse();
    }
  }

  private rootService(stream: AdbStream, root: boolean): void {
    stream.accept();
    const isRoot = this.adbdRoot || this.device.uid() === 0;
    const restart = (asRoot: boolean): void => {
      // Like a userdebug image: adbd answers, then restarts, so every connection drops and the
      // host has to reconnect. A device that can (a guest) runs later shells as uid 0 (or as
      // the shell user again); this machine keeps its uid: no root is faked.
      this.adbdRoot = asRoot;
      this.device.setRoot?.(asRoot);
      void stream.drained().then(() => setTimeout(() => this.dropConnections(), 50));
    };
    if (!root) {
      stream.write(Buffer.from(isRoot ? 'restarting adbd as non root\n' : 'adbd not running as root\n'));
      stream.end();
      if (this.adbdRoot) restart(false);
      return;
    }
    // A device whose uid is real (a guest) and already 0 has nothing to restart for; this
    // machine's shells keep their uid whatever adbd does, so its "adbd" always restarts once.
    const realRoot = this.device.setRoot !== undefined && this.device.uid() === 0;
    if (this.options.root === 'restart' && !this.adbdRoot && !realRoot) {
      stream.write(Buffer.from('restarting adbd as root\n'));
      stream.end();
      restart(true);
    } else if (isRoot) {
      stream.write(Buffer.from('adbd is already running as root\n'));
      stream.end();
    } else {
      stream.write(Buffer.from('adbd cannot run as root in production builds\n'));
      stream.end();
    }
  }
}
