/**
 * `--target adb:SERIAL | adb:SERIAL@HOST:PORT | adb:all` and `--adb-server HOST:PORT`
 * (repeatable): which devices on which servers.
 */
import { AdbServer, defaultServerPort, parseServerAddress } from './adb-server.js';
import { AdbDeviceNotFoundError, AdbError } from './errors.js';

/** A parsed `--target adb:...`. */
export type AdbTargetSpec =
  | { readonly kind: 'all' }
  | { readonly kind: 'serial'; readonly serial: string; readonly server?: { host: string; port: number } };

/** Parses `adb:all`, `adb:SERIAL`, `adb:SERIAL@HOST:PORT`. */
export function parseAdbTargetSpec(spec: string): AdbTargetSpec {
  if (!spec.startsWith('adb:')) throw new AdbError(`not an adb target: ${JSON.stringify(spec)} (expected adb:SERIAL or adb:all)`);
  const rest = spec.slice(4);
  if (rest === 'all') return { kind: 'all' };
  if (rest === '') throw new AdbError('adb: needs a serial (adb:SERIAL) or all (adb:all)');
  const at = rest.lastIndexOf('@');
  if (at > 0) return { kind: 'serial', serial: rest.slice(0, at), server: parseServerAddress(rest.slice(at + 1)) };
  return { kind: 'serial', serial: rest };
}

/** A device found on a server. */
export interface FoundDevice {
  readonly server: AdbServer;
  readonly serial: string;
  /** `adb:SERIAL` on the only server, `adb:SERIAL@HOST:PORT` when several are in use. */
  readonly id: string;
}

/** Options for choosing servers. */
export interface AdbServersOptions {
  /** `--adb-server` values; none = the default local server. */
  readonly servers?: readonly string[];
  /** adb binary to start a local server with. */
  readonly adbBin?: string;
  /** Bound of host queries. */
  readonly hostTimeoutMs?: number;
}

/** The servers selected by `--adb-server` (or the default one). */
export function selectServers(options: AdbServersOptions = {}): AdbServer[] {
  const specs = options.servers ?? [];
  const addresses = specs.length > 0 ? specs.map(parseServerAddress) : [{ host: '127.0.0.1', port: defaultServerPort() }];
  const seen = new Set<string>();
  const servers: AdbServer[] = [];
  for (const a of addresses) {
    const key = `${a.host}:${a.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    servers.push(
      new AdbServer({
        host: a.host,
        port: a.port,
        ...(options.adbBin !== undefined ? { bin: options.adbBin } : {}),
        ...(options.hostTimeoutMs !== undefined ? { timeoutMs: options.hostTimeoutMs } : {}),
        // Only the default server may be started; one named with --adb-server is used as it is.
        mayStart: specs.length === 0,
      }),
    );
  }
  return servers;
}

/**
 * Finds the devices a spec names, ready (state `device`), across servers. Local servers are
 * started if needed; `adb:SERIAL` on several servers at once is ambiguous unless `@HOST:PORT`.
 */
export async function findDevices(spec: AdbTargetSpec, servers: readonly AdbServer[]): Promise<FoundDevice[]> {
  const several = servers.length > 1;
  const idFor = (server: AdbServer, serial: string): string => (several ? `adb:${serial}@${server.address}` : `adb:${serial}`);
  const scoped: AdbServer[] = spec.kind === 'serial' && spec.server !== undefined ? servers.filter((s) => s.host === spec.server?.host && s.port === spec.server.port) : [...servers];
  if (scoped.length === 0 && spec.kind === 'serial' && spec.server !== undefined) {
    scoped.push(new AdbServer({ host: spec.server.host, port: spec.server.port, mayStart: false }));
  }
  const found: FoundDevice[] = [];
  const states: string[] = [];
  for (const server of scoped) {
    await server.ensureRunning();
    for (const d of await server.listDevices()) {
      states.push(`${d.serial} (${d.state}) on ${server.address}`);
      if (d.state !== 'device') continue;
      if (spec.kind === 'all' || d.serial === spec.serial) found.push({ server, serial: d.serial, id: idFor(server, d.serial) });
    }
  }
  if (found.length === 0) {
    const what = spec.kind === 'all' ? 'no device in state "device"' : `device ${spec.serial} not attached and ready`;
    const hints: string[] = [];
    if (states.some((s) => s.includes('(unauthorized)'))) hints.push('accept the USB debugging prompt on the device (unauthorized)');
    if (states.some((s) => s.includes('(offline)'))) hints.push('an offline device needs a reconnect (adb reconnect, or replug)');
    throw new AdbDeviceNotFoundError(
      `${what} on ${scoped.map((s) => s.address).join(', ')}; seen: ${states.join(', ') || 'nothing'}${hints.length > 0 ? `; ${hints.join('; ')}` : ''}`,
    );
  }
  if (spec.kind === 'serial' && found.length > 1) {
    throw new AdbDeviceNotFoundError(`serial ${spec.serial} is on several adb servers (${found.map((f) => f.server.address).join(', ')}): say which with adb:${spec.serial}@HOST:PORT`);
  }
  return found;
}
