/**
 * Agent mode: the probe runs as a small server on the device (`ashmem-probe --listen PORT` on
 * 127.0.0.1) and one TCP connection, through the adb transport, carries many cases: the script's
 * lines, then a line `%%end`; the probe streams that case's results and an `{"end":...}` line
 * (agent-connection.ts, shared with the vm target). After set-up a case costs no new service
 * open at all.
 */
import type { Duplex } from 'node:stream';
import type { OpResult } from '../../ops/result.js';
import type { ExecOutcome, ProbeHello } from '../target.js';
import { AgentConnection } from './agent-connection.js';
import { AdbCommandError } from './errors.js';
import type { AgentTransport, ForwardService } from './forward-service.js';
import { LineReader } from './lines.js';
import { PROBE_NAME, probeArgs, type ProbeBackend } from './probe-command.js';
import { newMarker, shQuote, type ShellService } from './shell-service.js';
import { bounded } from './timeout.js';

/** Thrown inside the agent when its connection ended before a case's `end` line. */
export class AgentConnectionLost extends Error {
  override readonly name = 'AgentConnectionLost';
  constructor(readonly partial: readonly OpResult[]) {
    super(`agent connection ended after ${partial.length} result(s) of the case in flight`);
  }
}

/** Options of an agent session. */
export interface AgentOptions {
  readonly dir: string;
  readonly backend: ProbeBackend | undefined;
  readonly transport: AgentTransport;
  /** Device port; 0 (the default) lets the probe choose a free one. */
  readonly port?: number;
  readonly commandMs: number;
}

/** One running agent and its connection. */
export class AgentSession {
  private shellStream: Duplex | undefined;
  private connection: AgentConnection | undefined;
  private localForward: number | undefined;
  private agentPid: number | undefined;
  hello: ProbeHello | undefined;
  /** Cases share one connection: they run one after another. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The device port the agent listens on. */
  port = 0;

  constructor(
    private readonly shell: ShellService,
    private readonly forward: ForwardService,
    private readonly options: AgentOptions,
  ) {}

  /** Starts the agent and connects (bounded). */
  async start(): Promise<ProbeHello> {
    const marker = newMarker();
    // `exec` keeps the pid we print, so stop() can kill exactly this process. Port 0 lets the
    // probe pick a free device port and tell us (`{"listening":{"port":P}}`), so no guessing.
    const command = `cd ${shQuote(this.options.dir)} && echo "${marker} pid $$" && exec ./${PROBE_NAME}${probeArgs(this.options.backend)} --listen ${this.options.port ?? 0} 2>&1`;
    const stream = await this.shell.open(command, this.options.commandMs);
    this.shellStream = stream;
    const startup = new LineReader(stream);
    const seen: string[] = [];
    const waitListening = async (): Promise<number> => {
      for (;;) {
        const line = await startup.next();
        if (line === undefined) throw new AdbCommandError(`the probe agent did not start: ${JSON.stringify(seen.join(' / ').slice(0, 400) || '(no output)')}`);
        if (line.startsWith(`${marker} pid `)) {
          this.agentPid = Number.parseInt(line.slice(marker.length + 5), 10);
          continue;
        }
        const m = /^\{"listening":\{"port":(\d+)\}\}/.exec(line);
        if (m?.[1] !== undefined) return Number(m[1]);
        seen.push(line);
      }
    };
    this.port = await bounded(waitListening(), this.options.commandMs, 'probe agent start', () => stream.destroy());
    if (this.options.transport === 'forward') this.localForward = await this.forward.forward(this.port, this.options.commandMs);
    const connection =
      this.localForward !== undefined
        ? await this.forward.connectForwarded(this.localForward, this.options.commandMs)
        : await this.forward.openDirect(this.port, this.options.commandMs);
    const agent = await AgentConnection.greet(connection, this.options.commandMs, 'probe agent hello', (first) =>
      new AdbCommandError(`the probe agent on device port ${this.port} greeted with ${JSON.stringify(first ?? '(connection closed)')} instead of a hello line`));
    this.connection = agent;
    this.hello = agent.hello;
    return agent.hello;
  }

  /** Runs one case on the open connection (queued behind any case in flight). */
  runCase(script: string, onResult: ((r: OpResult) => void) | undefined, ms: number): Promise<ExecOutcome> {
    const run = this.queue.then(() => this.runNow(script, onResult, ms));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async runNow(script: string, onResult: ((r: OpResult) => void) | undefined, ms: number): Promise<ExecOutcome> {
    const connection = this.connection;
    if (connection === undefined) throw new AdbCommandError('the probe agent is not running');
    return connection.runCase(script, onResult, ms, 'agent case', (partial) => new AgentConnectionLost(partial));
  }

  /** Disconnects, kills the agent by pid and removes the forward (best effort, bounded). */
  async stop(): Promise<void> {
    this.connection?.destroy();
    this.connection = undefined;
    if (this.agentPid !== undefined) {
      try {
        await this.shell.run(`kill ${this.agentPid} 2>/dev/null; true`, this.options.commandMs);
      } catch {
        // The device may be gone; nothing left to kill then.
      }
      this.agentPid = undefined;
    }
    this.shellStream?.destroy();
    this.shellStream = undefined;
    await this.forward.removeAll(this.options.commandMs);
  }
}
