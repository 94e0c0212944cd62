/**
 * A `vm` guest as the loopback ADB daemon's device (TEST INFRASTRUCTURE): the daemon's services
 * run INSIDE the guest, through its control shell (`guest-connection.ts`), so the adb target's
 * probe meets the guest's kernel and its real /dev/ashmem:
 * adbkit → the real adb server → the daemon → a shell in the guest → the probe → the driver.
 *
 * * `shell:` / `exec:` — a control connection that `exec`s `setsid sh -c CMD` (as the shell user
 *   when the device is not root): the command's stdin and stdout are the connection, stderr is
 *   merged (`shell:`) or dropped (`exec:`), as adbd's legacy protocol does. A stream the host
 *   closes while the command runs kills its process group in the guest.
 * * `sync:` — STAT/LIST through busybox `stat -c` and `find`; SEND writes the bytes through a
 *   connection running `cat > TEMP` (binary-safe: see the handshake in `guest-connection.ts`),
 *   then chmod, touch and mv in place; RECV is `cat FILE`.
 * * `tcp:PORT` — a connection that `exec`s `nc 127.0.0.1 PORT` in the guest, refused (as adbd
 *   refuses) when nothing listens on PORT there (read from /proc/net/tcp{,6}).
 *
 * The guest is made to look like an Android device where the harness needs it: a writable
 * `/data/local/tmp` (0771, owned by the shell user 2000), a `getprop` serving the daemon's
 * property table (in a folder of each daemon's, first in PATH), `/dev/ashmem` 0666 (ueventd.rc's
 * mode) and an `/etc/passwd` naming `shell`. Busybox has no `pkill`: the adb target's
 * `pkill -P` of a timed-out case's children fails quietly there, and the probe's children die
 * with it anyway (PR_SET_PDEATHSIG).
 *
 * Root: by default the shells run as uid 0, as everything in the guest does (an eng image, or an
 * emulator after `adb root`). With `shellUid: 2000` they run as Android's shell user (through
 * busybox `su`) until the daemon's `root:` service restarts "adbd" as root: then as uid 0 for
 * real, until `unroot:`.
 *
 * The guest powering off (or its kernel crashing) is seen on a "lifeline" connection kept open
 * to it: the device is then gone, and the daemon drops off the adb server like an unplugged
 * device.
 */
import path from 'node:path/posix';
import type net from 'node:net';
import { GuestUnreachableError, q, runInGuest, startGuestCommand, type GuestCommand, type GuestEndpoint } from './guest-connection.js';
import { getpropScript } from './properties.js';
import type { FileStat, FileWriter, ServedDevice, SyncFiles } from './served-device.js';
import type { AdbStream } from './stream.js';

/** Bound of one control command or handshake (a busy 2-core machine under TCG is slow). */
const GUEST_MS = 30_000;

/** Android's shell user. */
const SHELL_UID = 2000;

/** Android's command folder (in every shell's PATH; empty here). */
const BIN = '/system/bin';

/** Devices made in this process, for the folder of each one's own `getprop`. */
let devices = 0;

/** Options of {@link GuestDevice}. */
export interface GuestDeviceOptions {
  /** The host end of the guest's control shell (`VmTarget.controlAddress()`). */
  readonly control: GuestEndpoint;
  /** ABIs the guest runs, most preferred first (for an x86_64 guest: `x86_64`, `x86`). */
  readonly abis: readonly string[];
  /** The device's writable folder (default `/data/local/tmp`). */
  readonly tmpDir?: string;
  /** The shells' uid until `adb root`: 0 (default) or Android's shell user 2000. */
  readonly shellUid?: 0 | 2000;
}

function statFrom(words: readonly string[]): FileStat | undefined {
  const [mode, size, mtime] = words;
  if (mode === undefined || size === undefined || mtime === undefined) return undefined;
  const m = Number.parseInt(mode, 16);
  return Number.isNaN(m) ? undefined : { mode: m, size: Number(size), mtime: Number(mtime) };
}

/** A QEMU guest as the daemon's device. */
export class GuestDevice implements ServedDevice {
  readonly tmpDir: string;
  readonly abis: readonly string[];
  readonly files: SyncFiles;
  private shellUid: number;
  private prepared: Promise<void> | undefined;
  private served: Promise<void> = Promise.resolve();
  private lifeline: net.Socket | undefined;
  private readonly goneListeners: (() => void)[] = [];
  private gone = false;
  private closed = false;
  /** Open command connections, with the pid of their process group in the guest. */
  private readonly running = new Map<net.Socket, number>();
  private temps = 0;
  /**
   * This device's own `getprop` folder, first in PATH: several daemons may serve one guest,
   * each with its own property table.
   */
  private readonly propDir = `/system/loopback-${process.pid}-${++devices}`;

  constructor(private readonly options: GuestDeviceOptions) {
    this.tmpDir = (options.tmpDir ?? '/data/local/tmp').replace(/\/+$/, '');
    this.abis = options.abis;
    this.shellUid = options.shellUid ?? 0;
    this.files = new GuestFiles(this);
  }

  /** The guest's control shell. */
  get control(): GuestEndpoint {
    return this.options.control;
  }

  /** Runs a script as root in the guest (the device's own set-up; tests). */
  run(script: string): Promise<{ output: string; status: number }> {
    return runInGuest(this.options.control, script, GUEST_MS);
  }

  /** Makes the guest look like a device (idempotent: several daemons may serve one guest). */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      const r = await this.run([
        `mkdir -p ${BIN} ${this.propDir} /etc ${q(this.tmpDir)}`,
        `grep -q '^shell:' /etc/passwd 2>/dev/null || printf 'root:x:0:0::/:/bin/sh\\nshell:x:${SHELL_UID}:${SHELL_UID}::/:/bin/sh\\n' >> /etc/passwd`,
        `grep -q '^shell:' /etc/group 2>/dev/null || printf 'root:x:0:\\nshell:x:${SHELL_UID}:\\n' >> /etc/group`,
        `chown ${SHELL_UID}:${SHELL_UID} ${q(this.tmpDir)} && chmod 0771 ${q(this.tmpDir)}`,
        'for n in /dev/ashmem*; do [ -c "$n" ] && chmod 0666 "$n"; done',
      ].join(' && '));
      if (r.status !== 0) throw new Error(`could not prepare the guest as a device: ${r.output.trim()}`);
      await this.openLifeline();
    })();
    return this.prepared;
  }

  /** A heredoc that writes `text` to `file` (mode 755) atomically. */
  private writeScript(file: string, text: string): string {
    const end = `LOOPBACK_EOF_${Date.now().toString(36)}`;
    return `{ cat > ${q(`${file}.tmp`)} <<'${end}'\n${text}\n${end}\n} && chmod 755 ${q(`${file}.tmp`)} && mv -f ${q(`${file}.tmp`)} ${q(file)}`;
  }

  private async openLifeline(): Promise<void> {
    const c = await startGuestCommand(this.options.control, (m) => `echo "${m} ok $$"; exec cat >/dev/null`, GUEST_MS);
    this.lifeline = c.socket;
    c.socket.on('error', () => undefined);
    c.socket.on('close', () => {
      if (this.closed || this.gone) return;
      this.gone = true;
      for (const l of this.goneListeners.splice(0)) l();
    });
    c.socket.resume();
  }

  async properties(table: ReadonlyMap<string, string>): Promise<void> {
    const script = getpropScript(table);
    const next = this.served.then(async () => {
      await this.prepare();
      const r = await this.run(this.writeScript(`${this.propDir}/getprop`, script));
      if (r.status !== 0) throw new Error(`could not write getprop in the guest: ${r.output.trim()}`);
    });
    this.served = next.catch(() => undefined);
    return next;
  }

  uid(): number {
    return this.shellUid;
  }

  /** `adb root` / `adb unroot` restarted "adbd": later shells run as uid 0, or as the shell user again. */
  setRoot(root: boolean): void {
    this.shellUid = root ? 0 : (this.options.shellUid ?? 0);
  }

  /** The line that runs `inner` (an sh script) as the current shell user, in a session of its own. */
  private line(inner: string, uid = this.shellUid): string {
    const env = `cd / && export PATH=${this.propDir}:${BIN}:/bin TMPDIR=${q(this.tmpDir)} && exec 2>&1 && exec setsid`;
    return uid === 0 ? `${env} sh -c ${q(inner)}` : `${env} su -s /bin/sh -c ${q(inner)} shell`;
  }

  /** Starts a command after the property table is in place; undefined when the guest is gone. */
  async start(inner: (marker: string) => string, uid = this.shellUid): Promise<GuestCommand | undefined> {
    await this.served;
    if (this.gone) return undefined;
    try {
      await this.prepare();
      const c = await startGuestCommand(this.options.control, (m) => this.line(inner(m), uid), GUEST_MS);
      this.running.set(c.socket, c.pid);
      c.socket.on('close', () => this.running.delete(c.socket));
      return c;
    } catch (e) {
      if (e instanceof GuestUnreachableError) return undefined;
      throw e;
    }
  }

  /** Kills a command's process group in the guest (best effort) and drops its connection. */
  private stop(socket: net.Socket): void {
    const pid = this.running.get(socket);
    this.running.delete(socket);
    socket.destroy();
    if (pid !== undefined && !Number.isNaN(pid) && !this.gone) void this.run(`kill -9 -${pid} 2>/dev/null; true`).catch(() => undefined);
  }

  /** Connects a started command to a stream both ways, with flow control. */
  private relay(stream: AdbStream, c: GuestCommand): void {
    const socket = c.socket;
    let guestDone = false;
    stream.accept();
    if (c.head.length > 0) stream.write(c.head);
    socket.on('data', (chunk: Buffer) => {
      if (!stream.write(chunk)) {
        socket.pause();
        void stream.drained().then(() => socket.resume());
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      guestDone = true;
      stream.end();
    });
    stream.onData = (data) =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.write(data, () => resolve());
      });
    // The host closed the stream: nothing the command started outlives it in the guest.
    stream.onClose = () => {
      if (!guestDone) this.stop(socket);
    };
    socket.resume();
  }

  subprocess(stream: AdbStream, command: string, mergeStderr: boolean): void {
    let hostClosed = false;
    stream.onClose = () => {
      hostClosed = true;
    };
    const script = command.length > 0 ? command : 'exec sh';
    void this.start((m) => `echo "${m} ok $$"; exec sh -c ${q(script)}${mergeStderr ? '' : ' 2>/dev/null'}`).then(
      (c) => {
        if (c === undefined) stream.refuse();
        else if (hostClosed) this.stop(c.socket);
        else this.relay(stream, c);
      },
      () => stream.refuse(),
    );
  }

  tcp(stream: AdbStream, port: number): void {
    let hostClosed = false;
    stream.onClose = () => {
      hostClosed = true;
    };
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    // Listening sockets (state 0A) on PORT, on any local address: 127.0.0.1 reaches them.
    const listening = `grep -qE ':${hex} 0+:0000 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null`;
    void this.start((m) => `if ${listening}; then echo "${m} ok $$"; exec nc 127.0.0.1 ${port} 2>/dev/null; else echo "${m} refused $$"; fi`, 0).then(
      (c) => {
        if (c === undefined || c.word !== 'ok') {
          if (c !== undefined) c.socket.destroy();
          stream.refuse();
        } else if (hostClosed) this.stop(c.socket);
        else this.relay(stream, c);
      },
      () => stream.refuse(),
    );
  }

  dropAll(): void {
    for (const socket of [...this.running.keys()]) this.stop(socket);
  }

  onGone(listener: () => void): void {
    if (this.gone) listener();
    else this.goneListeners.push(listener);
  }

  /** A fresh temp name next to a file being pushed. */
  tempFor(target: string): string {
    this.temps += 1;
    return `${target}.loopback-${Date.now().toString(36)}-${this.temps}.part`;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.dropAll();
    this.lifeline?.destroy();
    this.lifeline = undefined;
  }
}

/** Sync files in the guest, each operation on a control connection of its own. */
class GuestFiles implements SyncFiles {
  constructor(private readonly device: GuestDevice) {}

  /** Runs a script as the current shell user; output and status. */
  private async sh(script: string): Promise<{ output: string; status: number }> {
    const c = await this.device.start((m) => `echo "${m} ok $$"; ${script}`);
    if (c === undefined) throw new Error('the guest is gone');
    return new Promise<{ output: string; status: number }>((resolve) => {
      const chunks: Buffer[] = [c.head];
      const marker = `@@status-${c.pid} `;
      c.socket.on('data', (d: Buffer) => chunks.push(d));
      c.socket.on('error', () => undefined);
      c.socket.on('close', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const at = text.lastIndexOf(marker);
        resolve(at < 0 ? { output: text, status: -1 } : { output: text.slice(0, at), status: Number.parseInt(text.slice(at + marker.length), 10) });
      });
      c.socket.resume();
    });
  }

  /** `script` followed by a status line this class can find. */
  private withStatus(script: string): string {
    return `{ ${script}\n}; echo "@@status-$$ $?"`;
  }

  async lstat(file: string): Promise<FileStat | undefined> {
    const r = await this.sh(this.withStatus(`stat -c '%f %s %Y' -- ${q(file)} 2>/dev/null`));
    return r.status === 0 ? statFrom(r.output.trim().split(' ')) : undefined;
  }

  async list(dir: string): Promise<{ name: string; stat: FileStat }[]> {
    const d = q(dir);
    const r = await this.sh(this.withStatus(`[ -d ${d} ] && stat -c '%f %s %Y %n' -- ${d}/. ${d}/.. && find ${d} -mindepth 1 -maxdepth 1 -exec stat -c '%f %s %Y %n' -- {} +`));
    if (r.status !== 0) return [];
    const out: { name: string; stat: FileStat }[] = [];
    for (const line of r.output.split('\n')) {
      const words = line.split(' ');
      const st = statFrom(words);
      const name = words.slice(3).join(' ');
      if (st !== undefined && name !== '') out.push({ name: path.basename(name), stat: st });
    }
    return out;
  }

  async create(target: string): Promise<FileWriter> {
    const temp = this.device.tempFor(target);
    const dir = path.dirname(target);
    const c = await this.device.start((m) =>
      `if out=$( { mkdir -p ${q(dir)} && : > ${q(temp)}; } 2>&1 ); then echo "${m} ok $$"; cat > ${q(temp)}; echo "${m} written $?"; else echo "${m} fail $$ $(echo $out)"; fi`);
    if (c === undefined) throw new Error(`${target}: the guest is gone`);
    const socket = c.socket;
    if (c.word !== 'ok') {
      socket.destroy();
      throw new Error(`${target}: ${c.detail || c.word}`);
    }
    // What `cat` said when its input ended: "MARKER written STATUS", then the connection closes.
    const chunks: Buffer[] = [c.head];
    const ended = new Promise<string>((resolve) => {
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    socket.resume();
    const cleanup = async (): Promise<void> => {
      await this.sh(`rm -f ${q(temp)}`).catch(() => undefined);
    };
    return {
      write: (data) =>
        new Promise<void>((resolve, reject) => {
          if (socket.destroyed) return reject(new Error(`${target}: the guest closed the transfer`));
          socket.write(data, (e) => (e === undefined || e === null ? resolve() : reject(new Error(`${target}: ${e.message}`))));
        }),
      finish: async (mode, mtime) => {
        socket.end();
        const said = await ended;
        const m = / written (\d+)/.exec(said);
        if (m?.[1] !== '0') {
          await cleanup();
          throw new Error(`${target}: writing failed in the guest${m === null ? ' (the transfer was cut)' : `: ${said.trim().slice(0, 200)}`}`);
        }
        const r = await this.sh(this.withStatus(`chmod ${(mode & 0o7777).toString(8)} ${q(temp)} && touch -d @${mtime} ${q(temp)} && mv -f ${q(temp)} ${q(target)}`));
        if (r.status !== 0) {
          await cleanup();
          throw new Error(`${target}: ${r.output.trim() || `status ${r.status}`}`);
        }
      },
      abort: async () => {
        socket.destroy();
        await cleanup();
      },
    };
  }

  async *read(file: string): AsyncIterable<Buffer> {
    const f = q(file);
    const c = await this.device.start((m) => `if [ -f ${f} ] && [ -r ${f} ]; then echo "${m} ok $$"; exec cat ${f}; elif [ -e ${f} ]; then echo "${m} fail $$ EACCES"; else echo "${m} fail $$ ENOENT"; fi`);
    if (c === undefined) throw new Error(`${file}: the guest is gone`);
    if (c.word !== 'ok') {
      c.socket.destroy();
      throw new Error(`${file}: ${c.detail}`);
    }
    if (c.head.length > 0) yield c.head;
    for await (const chunk of c.socket) yield chunk as Buffer;
  }
}
