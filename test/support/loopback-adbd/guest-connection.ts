/**
 * Connections to a `vm` guest's control shell (TEST INFRASTRUCTURE for the loopback ADB daemon
 * serving a guest): the guest's init runs `nc -ll -p 5001 -e /bin/sh`, so every TCP connection
 * to the host end of that forward (`VmTarget.controlAddress()`) is a fresh busybox `sh` whose
 * stdin and stdout ARE the socket (its stderr is the guest's console: commands redirect it).
 *
 * A command that then carries data — a file's bytes, a shell's stdin, a relayed TCP connection —
 * is started with a handshake: we send ONE line that prints a marker line and then `exec`s the
 * command, and send nothing more until the marker comes back. sh has read no further than that
 * line (it reads what has arrived, and nothing else had), so every later byte goes to the
 * command untouched: a socket, not a terminal, so binary-safe both ways.
 *
 * Connections to one guest are opened one at a time (each waits for the previous one's
 * handshake): busybox `nc` listens with a backlog of one, and a burst of connections (eight
 * cases at once) would have the guest drop SYNs and the host wait out TCP's retransmissions.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';

/** The host end of a guest's control shell forward. */
export interface GuestEndpoint {
  readonly host: string;
  readonly port: number;
}

/** The control shell could not be reached, or closed before answering: the guest is gone or broken. */
export class GuestUnreachableError extends Error {
  override readonly name = 'GuestUnreachableError';
}

/** Single-quotes a word for the guest's sh. */
export function q(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A fresh marker, not in any output. */
export function guestMarker(): string {
  return `@@lb-${randomBytes(5).toString('hex')}`;
}

/** A command started on its own control connection, past its handshake. */
export interface GuestCommand {
  /** Paused: attach a `data` listener, then `resume()`. */
  readonly socket: net.Socket;
  /** The word the handshake line said (`ok`, or what went wrong). */
  readonly word: string;
  /** The pid the handshake line printed. */
  readonly pid: number;
  /** The rest of the handshake line (an error's text). */
  readonly detail: string;
  /** Bytes that came after the handshake line in the same read. */
  readonly head: Buffer;
}

/** The handshake in progress per guest endpoint: the next connection waits for it. */
const opening = new Map<string, Promise<unknown>>();

/**
 * Opens a control connection and sends `line(marker)` (one line). The line must print
 * `MARKER WORD PID [DETAIL]` on a line of its own before anything else reads the socket.
 */
export function startGuestCommand(endpoint: GuestEndpoint, line: (marker: string) => string, ms: number): Promise<GuestCommand> {
  const key = `${endpoint.host}:${endpoint.port}`;
  const previous = opening.get(key) ?? Promise.resolve();
  const started = previous.then(() => handshake(endpoint, line, ms));
  const settled = started.catch(() => undefined);
  opening.set(key, settled);
  void settled.then(() => {
    if (opening.get(key) === settled) opening.delete(key);
  });
  return started;
}

function handshake(endpoint: GuestEndpoint, line: (marker: string) => string, ms: number): Promise<GuestCommand> {
  const marker = guestMarker();
  return new Promise((resolve, reject) => {
    const socket = net.connect(endpoint.port, endpoint.host);
    socket.setNoDelay(true);
    let got = Buffer.alloc(0);
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(new GuestUnreachableError(why));
    };
    const timer = setTimeout(() => fail(`the guest's control shell ${endpoint.host}:${endpoint.port} did not answer within ${ms} ms`), ms);
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      const at = got.indexOf(`${marker} `);
      if (at < 0) return;
      const nl = got.indexOf('\n', at);
      if (nl < 0) return;
      const [word = '', pid = '', ...detail] = got.subarray(at + marker.length + 1, nl).toString('utf8').split(' ');
      settled = true;
      clearTimeout(timer);
      socket.pause();
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve({ socket, word, pid: Number.parseInt(pid, 10), detail: detail.join(' '), head: got.subarray(nl + 1) });
    };
    const onClose = (): void => fail(`the guest's control shell ${endpoint.host}:${endpoint.port} closed before the command started${got.length > 0 ? `: ${got.toString('utf8').trim().slice(0, 300)}` : ''}`);
    socket.on('connect', () => socket.write(`${line(marker)}\n`));
    socket.on('data', onData);
    socket.on('error', (e) => fail(`the guest's control shell ${endpoint.host}:${endpoint.port}: ${e.message}`));
    socket.on('close', onClose);
  });
}

/** Runs a script in a fresh control shell (stderr merged) and returns its output and status. */
export async function runInGuest(endpoint: GuestEndpoint, script: string, ms: number): Promise<{ output: string; status: number }> {
  const c = await startGuestCommand(endpoint, (m) => `echo "${m} ok $$"`, ms);
  const marker = guestMarker();
  const socket = c.socket;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [c.head];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new GuestUnreachableError(`a command in the guest did not finish within ${ms} ms: ${script.slice(0, 80)}`));
    }, ms);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const at = text.lastIndexOf(`${marker} `);
      if (at < 0) reject(new GuestUnreachableError(`the guest's control shell closed without an answer${text !== '' ? `: ${text.trim().slice(0, 300)}` : ''}`));
      else resolve({ output: text.slice(0, at), status: Number.parseInt(text.slice(at + marker.length + 1), 10) });
    });
    socket.write(`exec 2>&1\n${script}\necho "${marker} $?"\nexit\n`);
    socket.resume();
  });
}
