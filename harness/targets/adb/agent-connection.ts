/**
 * One connection to the probe's agent (`ashmem-probe --listen`), the client side of its
 * protocol, whatever carries the bytes: the agent greets each connection with its hello line; a
 * case is the script's lines, then a line `%%end`; the agent answers with that case's result
 * lines, then an `{"end":...}` line. The adb target reaches the agent through the adb transport,
 * the vm target through QEMU's forward into the guest; each says in its own terms what a
 * missing hello or a lost connection means.
 */
import type { Duplex } from 'node:stream';
import type { OpResult } from '../../ops/result.js';
import type { ExecOutcome, ProbeHello } from '../target.js';
import { LineReader } from './lines.js';
import { CaseOutput } from './probe-command.js';
import { bounded } from './timeout.js';

/** A greeted connection to the agent. */
export class AgentConnection {
  private constructor(
    private readonly socket: Duplex,
    private readonly reader: LineReader,
    /** The agent's hello, read when the connection was opened. */
    readonly hello: ProbeHello,
  ) {}

  /**
   * Reads the agent's greeting on `socket` (bounded by `ms`; `what` names the wait in a
   * timeout). A first line that is no hello, or none at all, destroys the socket and throws
   * `noHello(first)`, first undefined when the connection closed.
   */
  static async greet(socket: Duplex, ms: number, what: string, noHello: (first: string | undefined) => Error): Promise<AgentConnection> {
    const reader = new LineReader(socket);
    const first = await bounded(reader.next(), ms, what, () => socket.destroy());
    const parsed = new CaseOutput('');
    if (first !== undefined) parsed.json(first);
    if (parsed.hello === undefined) {
      socket.destroy();
      throw noHello(first);
    }
    return new AgentConnection(socket, reader, parsed.hello);
  }

  /**
   * Runs one case: sends the script, streams its results to `onResult`, and returns its outcome
   * once the `end` line came (bounded by `ms`: the socket is destroyed then). A connection that
   * ends before it throws `await lost(the results so far)`. Callers run one case at a time.
   */
  async runCase(
    script: string,
    onResult: ((r: OpResult) => void) | undefined,
    ms: number,
    what: string,
    lost: (partial: readonly OpResult[]) => Error | Promise<Error>,
  ): Promise<ExecOutcome> {
    const out = new CaseOutput('', onResult);
    this.socket.write(`${script.endsWith('\n') ? script : `${script}\n`}%%end\n`);
    const read = async (): Promise<void> => {
      for (;;) {
        const line = await this.reader.next();
        if (line === undefined) throw await lost(out.results);
        out.json(line);
        if (out.end !== undefined) return;
      }
    };
    await bounded(read(), ms, what, () => this.socket.destroy());
    return out.agentOutcome(this.hello);
  }

  /** Drops the connection. */
  destroy(): void {
    this.socket.destroy();
  }
}
