/**
 * Device facts in ONE round trip: a single shell command prints every fact in a marked section
 * (properties, uid, kernel, SELinux, ashmem nodes, boot id, page size). Commands a device may
 * lack (`getenforce`, `getconf`) print nothing and the fact reads `unknown`.
 */
import { AdbCommandError } from './errors.js';
import { newMarker, type ShellService } from './shell-service.js';

/** What a device told us about itself, before the probe ran. */
export interface DeviceFacts {
  readonly serial: string;
  readonly model: string;
  /** ABIs, most preferred first (`ro.product.cpu.abilist`, else `ro.product.cpu.abi`). */
  readonly abis: readonly string[];
  readonly sdk: number;
  readonly release: string;
  /** `uname -r`. */
  readonly kernel: string;
  /** `Enforcing`, `Permissive`, `Disabled` or `unknown`. */
  readonly selinux: string;
  /** The shell's uid (0 after a successful `adb root`). */
  readonly uid: number;
  /** `sys.use_memfd`, empty when unset. */
  readonly useMemfd: string;
  readonly bootId: string;
  /** `/dev/ashmem` and `/dev/ashmem<boot id>` style nodes present. */
  readonly ashmemNodes: readonly string[];
  /** From `getconf PAGESIZE`; 0 when unknown (the probe's hello has it too). */
  readonly pageSize: number;
  /** `ro.debuggable` is 1: `adb root` may work. */
  readonly debuggable: boolean;
  /** Every property read. */
  readonly properties: Readonly<Record<string, string>>;
}

const PROPERTIES = [
  'ro.product.model',
  'ro.product.cpu.abilist',
  'ro.product.cpu.abi',
  'ro.build.version.sdk',
  'ro.build.version.release',
  'ro.debuggable',
  'ro.build.type',
  'sys.use_memfd',
] as const satisfies readonly string[];

const SECTIONS = {
  uid: 'id -u',
  kernel: 'uname -r',
  selinux: 'getenforce 2>/dev/null',
  nodes: 'ls -d /dev/ashmem* 2>/dev/null',
  bootid: 'cat /proc/sys/kernel/random/boot_id 2>/dev/null',
  pagesize: 'getconf PAGESIZE 2>/dev/null',
} as const satisfies Record<string, string>;

/** The one command that prints every fact. */
export function factsCommand(marker: string): string {
  const parts: string[] = [];
  for (const p of PROPERTIES) parts.push(`echo "${marker} prop ${p}"; getprop ${p}`);
  for (const [name, cmd] of Object.entries(SECTIONS)) parts.push(`echo "${marker} ${name}"; ${cmd}`);
  parts.push(`echo "${marker} end"`);
  return parts.join('; ');
}

/** Splits the command's output into sections. */
export function parseFactsOutput(serial: string, marker: string, output: string): DeviceFacts {
  if (!output.includes(`${marker} end`)) throw new AdbCommandError(`device ${serial}: facts command was cut short: ${JSON.stringify(output.slice(-200))}`);
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const raw of output.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith(`${marker} `)) {
      current = [];
      sections.set(line.slice(marker.length + 1), current);
    } else if (current !== undefined && line.trim() !== '') current.push(line.trim());
  }
  const one = (key: string): string => sections.get(key)?.[0] ?? '';
  const prop = (key: string): string => one(`prop ${key}`);
  const properties: Record<string, string> = {};
  for (const p of PROPERTIES) properties[p] = prop(p);
  const abilist = prop('ro.product.cpu.abilist');
  const abis = (abilist !== '' ? abilist : prop('ro.product.cpu.abi')).split(',').map((a) => a.trim()).filter((a) => a !== '');
  const uid = Number.parseInt(one('uid'), 10);
  if (Number.isNaN(uid)) throw new AdbCommandError(`device ${serial}: could not read the shell uid (id -u printed ${JSON.stringify(one('uid'))})`);
  const pageSize = Number.parseInt(one('pagesize'), 10);
  return {
    serial,
    model: prop('ro.product.model'),
    abis,
    sdk: Number.parseInt(prop('ro.build.version.sdk'), 10) || 0,
    release: prop('ro.build.version.release'),
    kernel: one('kernel'),
    selinux: one('selinux') || 'unknown',
    uid,
    useMemfd: prop('sys.use_memfd'),
    bootId: one('bootid'),
    ashmemNodes: (sections.get('nodes') ?? []).filter((n) => n.startsWith('/dev/ashmem')),
    pageSize: Number.isNaN(pageSize) ? 0 : pageSize,
    debuggable: prop('ro.debuggable') === '1',
    properties,
  };
}

/** Reads the facts of a device (one round trip). */
export async function readDeviceFacts(serial: string, shell: ShellService, ms: number): Promise<DeviceFacts> {
  const marker = newMarker();
  const output = await shell.run(factsCommand(marker), ms);
  return parseFactsOutput(serial, marker, output);
}
