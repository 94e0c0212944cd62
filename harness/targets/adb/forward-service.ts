/**
 * `tcp:PORT` connections to the device: either direct (adbkit's `openTcp`, which opens the
 * `tcp:` service through the transport and works through remote adb servers too) or through
 * `adb forward tcp:LOCAL tcp:PORT` on the adb server's host. Each connection is one device
 * round trip (the server opens `tcp:PORT` on the device for it).
 */
import type { DeviceClient } from '@devicefarmer/adbkit';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { AdbServer } from './adb-server.js';
import { AdbCommandError } from './errors.js';
import type { RoundTripCounter } from './round-trips.js';
import { bounded } from './timeout.js';

/** How agent connections reach the device. */
export type AgentTransport = 'direct' | 'forward';

/** A free TCP port on this machine (for a forward on a local adb server). */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = address !== null && typeof address !== 'string' ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sends one host service request on a fresh server connection; resolves on OKAY. */
function hostRequest(server: AdbServer, request: string, ms: number): Promise<void> {
  return bounded(
    new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: server.host, port: server.port });
      let reply = Buffer.alloc(0);
      socket.on('connect', () => socket.write(`${Buffer.byteLength(request).toString(16).padStart(4, '0')}${request}`));
      socket.on('data', (chunk: Buffer) => {
        reply = Buffer.concat([reply, chunk]);
        if (reply.length < 4) return;
        const status = reply.toString('ascii', 0, 4);
        if (status === 'OKAY') {
          socket.destroy();
          resolve();
        } else if (status === 'FAIL' && reply.length >= 8) {
          const n = Number.parseInt(reply.toString('ascii', 4, 8), 16);
          if (reply.length >= 8 + n) {
            socket.destroy();
            reject(new AdbCommandError(`${request}: ${reply.toString('utf8', 8, 8 + n)}`));
          }
        } else if (status !== 'FAIL') {
          socket.destroy();
          reject(new AdbCommandError(`${request}: unexpected reply ${JSON.stringify(status)}`));
        }
      });
      socket.on('error', reject);
      socket.on('close', () => reject(new AdbCommandError(`${request}: connection closed without an answer`)));
    }),
    ms,
    `adb server ${server.address}: ${request}`,
  );
}

/** Opens device TCP connections for one device. */
export class ForwardService {
  private readonly forwards = new Set<number>();

  constructor(
    private readonly server: AdbServer,
    private readonly device: DeviceClient,
    private readonly counter: RoundTripCounter,
  ) {}

  /** A direct connection to device port `port` (no host port involved). */
  async openDirect(port: number, ms: number): Promise<Duplex> {
    this.counter.device('tcp');
    return bounded<Duplex>(this.device.openTcp(port), ms, `adb ${this.device.serial}: tcp:${port}`);
  }

  /** `adb forward tcp:LOCAL tcp:PORT`; returns LOCAL (a free port on a local server's host). */
  async forward(port: number, ms: number): Promise<number> {
    const local = await freeLocalPort();
    this.counter.host();
    await bounded<boolean>(this.device.forward(`tcp:${local}`, `tcp:${port}`), ms, `adb ${this.device.serial}: forward tcp:${local} tcp:${port}`);
    this.forwards.add(local);
    return local;
  }

  /** Connects to a forwarded port on the adb server's host (one device round trip). */
  async connectForwarded(local: number, ms: number): Promise<net.Socket> {
    this.counter.device('tcp');
    return bounded(
      new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect({ host: this.server.host, port: local });
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
      }),
      ms,
      `connect to forwarded port ${this.server.host}:${local}`,
    );
  }

  /** Removes one forward (`killforward`); adbkit has no call for it. */
  async removeForward(local: number, ms: number): Promise<void> {
    this.counter.host();
    this.forwards.delete(local);
    await hostRequest(this.server, `host-serial:${this.device.serial}:killforward:tcp:${local}`, ms);
  }

  /** Removes every forward this service made. */
  async removeAll(ms: number): Promise<void> {
    for (const local of [...this.forwards]) {
      try {
        await this.removeForward(local, ms);
      } catch {
        // Best effort: the device or server may already be gone.
      }
    }
  }
}
