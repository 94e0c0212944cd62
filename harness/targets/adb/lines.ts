/**
 * Line-at-a-time reading of a byte stream (a shell or agent socket), with an end-of-stream
 * signal, so that results can be handed on as each line arrives.
 */
import type { Duplex, Readable } from 'node:stream';

/** Reads `\n`-terminated lines from a stream. */
export class LineReader {
  private buffer = '';
  private readonly lines: string[] = [];
  private ended = false;
  private error: Error | undefined;
  private waiter: (() => void) | undefined;

  constructor(readonly stream: Readable | Duplex) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl = this.buffer.indexOf('\n');
      while (nl >= 0) {
        this.lines.push(this.buffer.slice(0, nl).replace(/\r$/, ''));
        this.buffer = this.buffer.slice(nl + 1);
        nl = this.buffer.indexOf('\n');
      }
      this.wake();
    });
    const finish = (): void => {
      if (this.ended) return;
      this.ended = true;
      if (this.buffer.length > 0) this.lines.push(this.buffer);
      this.buffer = '';
      this.wake();
    };
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', (e: Error) => {
      this.error = e;
      finish();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next line, or undefined once the stream has ended and every line was read. */
  async next(): Promise<string | undefined> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** The stream error that ended it, if any. */
  get failure(): Error | undefined {
    return this.error;
  }
}
