/**
 * One ADB stream on the device side (TEST INFRASTRUCTURE for the loopback ADB daemon).
 *
 * Flow control follows protocol.txt: the sender may have one WRTE in flight per stream and waits
 * for the peer's OKAY before sending the next; a received WRTE is acknowledged with OKAY once the
 * service has taken the bytes (so a slow child process slows the host down instead of buffering).
 */
import { A } from './packet.js';

/** What a stream needs from its connection. */
export interface StreamTransport {
  send(command: number, arg0: number, arg1: number, payload?: Buffer): void;
  /** The largest WRTE payload the peer accepts. */
  readonly maxPayload: number;
  /** Called when the stream is finished, so the connection can forget it. */
  forget(localId: number): void;
}

/** A device-side stream, handed to a service. */
export class AdbStream {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private inFlight = false;
  private accepted = false;
  private ending = false;
  private closed = false;
  private drainWaiters: (() => void)[] = [];

  /** Bytes from the host; the OKAY is sent when the returned promise settles. */
  onData: (data: Buffer) => void | Promise<void> = () => undefined;
  /** The host closed the stream, or the connection dropped. */
  onClose: () => void = () => undefined;

  constructor(
    private readonly transport: StreamTransport,
    /** Our id for this stream. */
    readonly localId: number,
    /** The host's id for this stream. */
    readonly remoteId: number,
    /** The service name the host opened. */
    readonly service: string,
  ) {}

  /** Bytes queued but not yet acknowledged by the host. */
  get pending(): number {
    return this.queued;
  }

  /** Accepts the OPEN (sends OKAY); output written before this waits. */
  accept(): void {
    if (this.accepted || this.closed) return;
    this.accepted = true;
    this.transport.send(A.OKAY, this.localId, this.remoteId);
    this.pump();
  }

  /** Refuses the OPEN: CLSE with local id 0, as adbd does for an unknown or failed service. */
  refuse(): void {
    if (this.closed) return;
    this.closed = true;
    this.transport.send(A.CLSE, 0, this.remoteId);
    this.transport.forget(this.localId);
  }

  /**
   * Queues bytes for the host.
   * @returns false when the caller should wait for {@link drained} before writing more
   */
  write(data: Buffer): boolean {
    if (this.closed || this.ending || data.length === 0) return !this.closed;
    this.queue.push(data);
    this.queued += data.length;
    this.pump();
    return this.queued < 4 * this.transport.maxPayload;
  }

  /** Resolves when the queue is empty (or the stream closed). */
  drained(): Promise<void> {
    if (this.queued === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Closes after everything queued has been acknowledged. */
  end(): void {
    if (this.closed) return;
    this.ending = true;
    this.pump();
  }

  /** The host acknowledged our last WRTE. */
  handleOkay(): void {
    this.inFlight = false;
    this.pump();
  }

  /** The host wrote to us: hand the bytes over, acknowledge when taken. */
  handleWrite(data: Buffer): void {
    const ack = (): void => {
      if (!this.closed) this.transport.send(A.OKAY, this.localId, this.remoteId);
    };
    let taken: void | Promise<void>;
    try {
      taken = this.onData(data);
    } catch {
      this.close();
      return;
    }
    if (taken instanceof Promise) taken.then(ack, () => this.close());
    else ack();
  }

  /** The host closed the stream (or the connection went): no CLSE back, the id is gone. */
  handleClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
    this.transport.forget(this.localId);
    this.onClose();
  }

  /** Closes now, dropping anything unsent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
    if (this.accepted) this.transport.send(A.CLSE, this.localId, this.remoteId);
    else this.transport.send(A.CLSE, 0, this.remoteId);
    this.transport.forget(this.localId);
    this.onClose();
  }

  private release(): void {
    this.queue.length = 0;
    this.queued = 0;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private pump(): void {
    if (!this.accepted || this.closed || this.inFlight) return;
    const head = this.queue[0];
    if (head === undefined) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
      if (this.ending) {
        this.closed = true;
        this.transport.send(A.CLSE, this.localId, this.remoteId);
        this.transport.forget(this.localId);
        this.onClose();
      }
      return;
    }
    const max = this.transport.maxPayload;
    let chunk: Buffer;
    if (head.length <= max) {
      chunk = head;
      this.queue.shift();
    } else {
      chunk = head.subarray(0, max);
      this.queue[0] = head.subarray(max);
    }
    this.queued -= chunk.length;
    this.inFlight = true;
    this.transport.send(A.WRTE, this.localId, this.remoteId, chunk);
  }
}
