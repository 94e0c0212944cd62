/**
 * `tcp:PORT` for the loopback ADB daemon (TEST INFRASTRUCTURE): what `adb forward tcp:X tcp:PORT`
 * and adbkit's `openTcp` open on the device. Connects to 127.0.0.1:PORT and relays both ways; a
 * refused connection refuses the OPEN (CLSE), as adbd does. Only loopback is served.
 */
import net from 'node:net';
import type { AdbStream } from './stream.js';

/** Parses `tcp:PORT` or `tcp:PORT:HOST`; only 127.0.0.1 / localhost hosts are allowed. */
export function parseTcpService(service: string): number | undefined {
  const m = /^tcp:(\d+)(?::(.+))?$/.exec(service);
  if (m === null) return undefined;
  const host = m[2];
  if (host !== undefined && host !== '127.0.0.1' && host !== 'localhost') return undefined;
  const port = Number(m[1]);
  return port > 0 && port < 65536 ? port : undefined;
}

/** Connects and relays; the OPEN is answered once the connection succeeded or failed. */
export function startTcpRelay(stream: AdbStream, port: number, sockets: Set<net.Socket>): void {
  const socket = net.connect({ host: '127.0.0.1', port });
  // adbd's relay writes at once too; Nagle here would add ~40 ms to every small agent reply.
  socket.setNoDelay(true);
  sockets.add(socket);
  let connected = false;
  socket.on('connect', () => {
    connected = true;
    stream.accept();
  });
  socket.on('data', (chunk) => {
    if (!stream.write(chunk)) {
      socket.pause();
      void stream.drained().then(() => socket.resume());
    }
  });
  socket.on('end', () => stream.end());
  socket.on('error', () => {
    if (connected) stream.close();
    else stream.refuse();
  });
  socket.on('close', () => {
    sockets.delete(socket);
    stream.end();
  });
  stream.onData = (data) =>
    new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      socket.write(data, () => resolve());
    });
  stream.onClose = () => socket.destroy();
}
