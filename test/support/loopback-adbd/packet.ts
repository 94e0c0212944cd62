/**
 * ADB wire messages (TEST INFRASTRUCTURE for the loopback ADB daemon, not product code).
 *
 * A message is a 24-byte little-endian header — command, arg0, arg1, data length, data
 * checksum, magic (command XOR 0xffffffff) — followed by the payload. See AOSP
 * `packages/modules/adb/protocol.txt`.
 */

/** Message commands, as the little-endian ASCII of their names. */
export const A = {
  SYNC: 0x434e5953,
  CNXN: 0x4e584e43,
  AUTH: 0x48545541,
  OPEN: 0x4e45504f,
  OKAY: 0x59414b4f,
  CLSE: 0x45534c43,
  WRTE: 0x45545257,
  STLS: 0x534c5453,
} as const satisfies Record<string, number>;

/** The protocol version we speak: checksums may be skipped from this version on. */
export const A_VERSION = 0x01000001;

/** Header size in bytes. */
export const HEADER_SIZE = 24;

/** One decoded message. */
export interface AdbPacket {
  readonly command: number;
  readonly arg0: number;
  readonly arg1: number;
  readonly payload: Buffer;
}

/** The name of a command, for diagnostics. */
export function commandName(command: number): string {
  for (const [name, value] of Object.entries(A)) if (value === command) return name;
  return `0x${command.toString(16)}`;
}

/** Sum of the payload's bytes: the v1 checksum. Always sent, because it costs nothing. */
function checksum(payload: Buffer): number {
  let sum = 0;
  for (const b of payload) sum = (sum + b) >>> 0;
  return sum;
}

/** Encodes one message. */
export function encodePacket(command: number, arg0: number, arg1: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt32LE(command >>> 0, 0);
  header.writeUInt32LE(arg0 >>> 0, 4);
  header.writeUInt32LE(arg1 >>> 0, 8);
  header.writeUInt32LE(payload.length, 12);
  header.writeUInt32LE(checksum(payload), 16);
  header.writeUInt32LE((command ^ 0xffffffff) >>> 0, 20);
  return Buffer.concat([header, payload]);
}

/** Thrown on a malformed stream: the connection is dropped, as adbd does. */
export class PacketError extends Error {
  override readonly name = 'PacketError';
}

/**
 * Splits a TCP byte stream into messages. The checksum is not verified: adb servers from
 * protocol version 0x01000001 on send 0 there.
 */
export class PacketReader {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload: number) {}

  /** Appends bytes and returns every complete message. */
  push(chunk: Buffer): AdbPacket[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: AdbPacket[] = [];
    while (this.buffer.length >= HEADER_SIZE) {
      const command = this.buffer.readUInt32LE(0);
      const length = this.buffer.readUInt32LE(12);
      const magic = this.buffer.readUInt32LE(20);
      if (((command ^ 0xffffffff) >>> 0) !== magic) throw new PacketError(`bad magic for command 0x${command.toString(16)}`);
      if (length > this.maxPayload) throw new PacketError(`payload of ${length} bytes exceeds ${this.maxPayload}`);
      if (this.buffer.length < HEADER_SIZE + length) break;
      out.push({
        command,
        arg0: this.buffer.readUInt32LE(4),
        arg1: this.buffer.readUInt32LE(8),
        payload: Buffer.from(this.buffer.subarray(HEADER_SIZE, HEADER_SIZE + length)),
      });
      this.buffer = this.buffer.subarray(HEADER_SIZE + length);
    }
    return out;
  }
}
