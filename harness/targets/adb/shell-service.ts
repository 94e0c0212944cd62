/**
 * The `shell:` service: one device round trip per call. adbkit uses the legacy service (no exit
 * status, stderr merged into stdout), so a command whose status matters gets an exit-status
 * marker line appended; a stream that ends without it was cut (device or server gone).
 */
import type { DeviceClient } from '@devicefarmer/adbkit';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { RoundTripCounter } from './round-trips.js';
import { bounded } from './timeout.js';

/** A command's output and status. `status` is null when the marker never came (stream cut). */
export interface ShellResult {
  readonly output: string;
  readonly status: number | null;
}

/** A fresh marker, unlikely to appear in any output. */
export function newMarker(): string {
  return `@@ah-${randomBytes(6).toString('hex')}`;
}

/** Single-quotes a string for the device's sh (mksh, toybox, dash all agree on this). */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Runs shell commands on one device. */
export class ShellService {
  constructor(
    private readonly device: DeviceClient,
    private readonly counter: RoundTripCounter,
  ) {}

  /** Opens `shell:COMMAND` and returns its stream (one round trip). */
  async open(command: string, ms: number): Promise<Duplex> {
    this.counter.device('shell');
    return bounded<Duplex>(this.device.shell(command), ms, `adb ${this.device.serial}: shell open`);
  }

  /** Runs a command and returns everything it printed (stdout and stderr, merged). */
  async run(command: string, ms: number): Promise<string> {
    const stream = await this.open(command, ms);
    return bounded(readAll(stream), ms, `adb ${this.device.serial}: shell ${JSON.stringify(command.slice(0, 60))}`, () => stream.destroy());
  }

  /** Runs a command with an exit-status marker. */
  async runWithStatus(command: string, ms: number): Promise<ShellResult> {
    const marker = newMarker();
    // Save $? before the bare `echo` (which starts the marker on a fresh line) overwrites it.
    const text = await this.run(`${command}; s=$?; echo; echo "${marker} $s"`, ms);
    const at = text.lastIndexOf(`${marker} `);
    if (at < 0) return { output: text, status: null };
    const status = Number.parseInt(text.slice(at + marker.length + 1), 10);
    // Drop the newline our bare `echo` added before the marker.
    const output = text.slice(0, at).replace(/\r?\n$/, '');
    return { output, status: Number.isNaN(status) ? null : status };
  }
}

/** Reads a stream to its end. */
export function readAll(stream: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}
