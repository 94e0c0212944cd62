/**
 * `adb:SERIAL`: one Android device or emulator through an adb server and adbkit.
 *
 * Set-up (once): device facts (1 shell round trip), `adb root` if asked and the image allows,
 * push of the probe for the device's ABI with mode 755 (1 sync round trip), the probe's hello
 * (1 shell round trip). Then each case is ONE shell round trip (stdin mode), or none at all on
 * the agent's open connection (agent mode). Every call is bounded. A cut stream is diagnosed:
 * adb server gone → restart / reconnect once and retry a case that delivered nothing; device gone
 * → {@link AdbDeviceVanishedError} carrying the partial results.
 */
import type { DeviceClient } from '@devicefarmer/adbkit';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpResult } from '../../ops/result.js';
import { ProbeMissingError, TargetError, TargetTimeoutError, type ExecOutcome, type ProbeHello, type Target, type TargetFacts } from '../target.js';
import { isAdbRequestEnded, type AdbServer } from './adb-server.js';
import { AgentConnectionLost, AgentSession } from './agent.js';
import { readDeviceFacts, type DeviceFacts } from './device-facts.js';
import { AdbCommandError, AdbDeviceVanishedError, AdbError, AdbServerError } from './errors.js';
import { ForwardService, type AgentTransport } from './forward-service.js';
import { LineReader } from './lines.js';
import { captureDmesg, captureLogcat, type CapturedLog } from './logs.js';
import { chooseProbe } from './probe-binary-path.js';
import { CaseOutput, PROBE_NAME, SCRATCH_PREFIX, caseCommand, caseFileCommand, exitFromStatus, type ProbeBackend } from './probe-command.js';
import { adbRoot, rootGate, skipReason, tcpSerial, type AdbRootOutcome, type RootGate } from './root.js';
import { RoundTripCounter, type RoundTripCounts } from './round-trips.js';
import { ShellService, newMarker, shQuote } from './shell-service.js';
import { SyncService } from './sync-service.js';
import { bounded, sleep, timeouts, type AdbTimeouts } from './timeout.js';

/** The device folder Android gives the shell user for scratch files. */
export const DEFAULT_DEVICE_DIR = '/data/local/tmp';

/** Options of {@link AdbTarget}. */
export interface AdbTargetOptions {
  readonly server: AdbServer;
  readonly serial: string;
  /** Target id; default `adb:SERIAL`. */
  readonly id?: string;
  /** Where the probe goes (default `/data/local/tmp`). */
  readonly deviceDir?: string;
  /** `stdin`: one shell per case (default). `agent`: one connection for many cases. */
  readonly mode?: 'stdin' | 'agent';
  /** How agent connections reach the device (default `direct`, which also works through remote servers). */
  readonly agentTransport?: AgentTransport;
  /** The agent's device port (default random). */
  readonly agentPort?: number;
  /** The probe's `--backend` (default: the probe's own choice). */
  readonly backend?: ProbeBackend;
  /** Force one of the device's ABIs (e.g. `armeabi-v7a` on arm64 to test compat ioctls). */
  readonly abi?: string;
  /** Where the built probe for an ABI is (default `apk-fixtures/probe/build/<abi>/ashmem-probe`). */
  readonly probeBinary?: (abi: string) => string;
  /** Leave the pushed probe on the device. */
  readonly keep?: boolean;
  /** Try `adb root` during set-up when the shell is not root and the image is debuggable. */
  readonly tryRoot?: boolean;
  readonly timeouts?: Partial<AdbTimeouts>;
  /**
   * Longest case command sent inline (bytes); longer scripts are pushed first (2 round trips).
   * Default: 60 000 on SDK ≥ 24 (adbd payloads of 256 KiB and more), 3 500 below (4 KiB).
   */
  readonly maxInlineCommandBytes?: number;
}

/** A shell stream ended before the exit marker. */
class StreamCut extends Error {
  override readonly name = 'StreamCut';
  constructor(readonly partial: readonly OpResult[]) {
    super(`the shell stream ended before the exit marker, after ${partial.length} result(s)`);
  }
}

/** What set-up found. */
interface Setup {
  readonly device: DeviceFacts;
  readonly hello: ProbeHello;
  readonly abi: string;
  /** The host file pushed as the probe. */
  readonly probeFile: string;
  readonly root: AdbRootOutcome | 'not-tried';
}

/** One device as a {@link Target}. */
export class AdbTarget implements Target {
  readonly id: string;
  readonly serial: string;
  readonly server: AdbServer;
  readonly deviceDir: string;
  private readonly device: DeviceClient;
  private readonly counter = new RoundTripCounter();
  private readonly shell: ShellService;
  private readonly sync: SyncService;
  private readonly forward: ForwardService;
  private readonly t: AdbTimeouts;
  private setupPromise: Promise<Setup> | undefined;
  /** Set-up's outcome once it succeeded (for the synchronous replay commands). */
  private setupDone: Setup | undefined;
  private agent: AgentSession | undefined;
  private pushed = false;
  /** The device's SDK level once known (0 before). */
  private sdk = 0;
  private closed = false;
  /** How many times the adb server was lost and the target reconnected. */
  reconnects = 0;

  constructor(private readonly options: AdbTargetOptions) {
    this.serial = options.serial;
    this.server = options.server;
    this.id = options.id ?? `adb:${options.serial}`;
    this.deviceDir = (options.deviceDir ?? DEFAULT_DEVICE_DIR).replace(/\/+$/, '');
    this.device = options.server.client.getDevice(options.serial);
    this.shell = new ShellService(this.device, this.counter);
    this.sync = new SyncService(this.device, this.counter);
    this.forward = new ForwardService(options.server, this.device, this.counter);
    this.t = timeouts(options.timeouts);
  }

  /** Round trips so far (device service opens by kind, and host queries). */
  roundTrips(): RoundTripCounts {
    return this.counter.snapshot();
  }

  /** The probe's path on the device. */
  get probePath(): string {
    return `${this.deviceDir}/${PROBE_NAME}`;
  }

  /** Runs set-up once (facts, root, push, hello). */
  private ready(): Promise<Setup> {
    if (this.closed) return Promise.reject(new AdbError(`${this.id} is closed`));
    this.setupPromise ??= this.setup();
    return this.setupPromise;
  }

  private async setup(): Promise<Setup> {
    return this.guard('set-up', async () => {
      let device = await readDeviceFacts(this.serial, this.shell, this.t.commandMs);
      this.sdk = device.sdk;
      let root: Setup['root'] = 'not-tried';
      if (this.options.tryRoot === true && device.uid !== 0 && device.debuggable) {
        root = await adbRoot(this.server, this.device, this.counter, this.t.rootMs);
        if (root === 'restarted') device = await readDeviceFacts(this.serial, this.shell, this.t.commandMs);
      }
      const probe = chooseProbe(this.serial, device.abis, this.options.abi, this.options.probeBinary);
      await this.sync.pushFile(probe.file, this.probePath, 0o755, this.t.pushMs);
      this.pushed = true;
      // chmod again in the hello's round trip: some file systems ignore the mode sync sends.
      const hello = await this.execStdin('', undefined, `chmod 755 ${shQuote(this.probePath)}`);
      if (this.options.mode === 'agent') await this.startAgent();
      const done: Setup = { device, hello: hello.hello, abi: probe.abi, probeFile: probe.file, root };
      this.setupDone = done;
      return done;
    }, () => true, () => []);
  }

  private async startAgent(): Promise<void> {
    const agent = new AgentSession(this.shell, this.forward, {
      dir: this.deviceDir,
      backend: this.options.backend,
      transport: this.options.agentTransport ?? 'direct',
      ...(this.options.agentPort !== undefined ? { port: this.options.agentPort } : {}),
      commandMs: this.t.commandMs,
    });
    this.agent = agent;
    await agent.start();
  }

  /** Device facts as read at set-up (properties, uid, kernel...). */
  async deviceFacts(): Promise<DeviceFacts> {
    return (await this.ready()).device;
  }

  /** The ABI whose probe was pushed. */
  async abi(): Promise<string> {
    return (await this.ready()).abi;
  }

  /** What `adb root` did at set-up. */
  async rootOutcome(): Promise<Setup['root']> {
    return (await this.ready()).root;
  }

  /** @inheritdoc */
  async facts(): Promise<TargetFacts> {
    const { device, hello } = await this.ready();
    return {
      hello,
      android: {
        sdk: device.sdk,
        release: device.release,
        abis: device.abis,
        selinux: device.selinux,
        root: hello.uid === 0,
        useMemfd: device.useMemfd,
        bootId: device.bootId,
        ashmemNodes: device.ashmemNodes,
      },
    };
  }

  /** Root-only triggers on this target: purge_all expectation, drop_caches skip reason. */
  async rootGate(): Promise<RootGate> {
    return rootGate(await this.facts());
  }

  /** Why a script cannot run here (drop_caches without root), or undefined. */
  async skipReason(script: string): Promise<string | undefined> {
    return skipReason(script, await this.rootGate());
  }

  /** @inheritdoc */
  async exec(script: string, onResult?: (result: OpResult) => void): Promise<ExecOutcome> {
    await this.ready();
    const delivered: OpResult[] = [];
    const forward = (r: OpResult): void => {
      delivered.push(r);
      onResult?.(r);
    };
    return this.guard(
      'a case',
      () => {
        const agent = this.agent;
        if (agent !== undefined) return agent.runCase(script, forward, this.t.caseMs);
        return this.execStdin(script, forward);
      },
      () => delivered.length === 0,
      () => delivered,
    );
  }

  /** One case through `shell:` (1 round trip; 2 when the script is too long to inline). */
  private async execStdin(script: string, onResult: ((r: OpResult) => void) | undefined, prelude?: string): Promise<ExecOutcome> {
    const marker = newMarker();
    let command = caseCommand(this.deviceDir, script, marker, this.options.backend);
    if (Buffer.byteLength(command) > this.inlineLimit()) {
      const file = `${this.deviceDir}/${SCRATCH_PREFIX}${marker.slice(2)}.script`;
      await this.pushText(script, file);
      command = caseFileCommand(this.deviceDir, file, marker, this.options.backend);
    }
    if (prelude !== undefined) command = `${prelude}; ${command}`;
    const stream = await this.shell.open(command, this.t.commandMs);
    const out = new CaseOutput(marker, onResult);
    const reader = new LineReader(stream);
    const read = async (): Promise<void> => {
      for (;;) {
        const line = await reader.next();
        if (line === undefined) return;
        out.line(line);
      }
    };
    try {
      await bounded(read(), this.t.caseMs, `${this.id}: case`, () => stream.destroy());
    } catch (error) {
      if (error instanceof TargetTimeoutError && out.pid !== undefined) await this.killQuietly(out.pid);
      throw error;
    }
    if (out.status === undefined) throw new StreamCut(out.results);
    if (out.hello === undefined) {
      throw new AdbCommandError(`the probe on ${this.id} did not start (shell status ${out.status}): ${out.other.join(' / ').slice(0, 500) || 'no output'}`);
    }
    return { hello: out.hello, results: out.results, exit: exitFromStatus(out.status), stderr: out.other.join('\n') };
  }

  private inlineLimit(): number {
    if (this.options.maxInlineCommandBytes !== undefined) return this.options.maxInlineCommandBytes;
    // Before Android 7 adbd took 4 KiB payloads, and the command travels in one OPEN packet.
    return this.sdk !== 0 && this.sdk < 24 ? 3_500 : 60_000;
  }

  private async pushText(text: string, remote: string): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'ashmem-script-'));
    try {
      const file = join(dir, 'script');
      writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
      await this.sync.pushFile(file, remote, 0o644, this.t.pushMs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private async killQuietly(pid: number): Promise<void> {
    try {
      // Its children first (a pressure helper, forked cases), then the probe, by pid only.
      await this.shell.run(`pkill -9 -P ${pid} 2>/dev/null; kill -9 ${pid} 2>/dev/null; true`, this.t.commandMs);
    } catch {
      // The device may be gone.
    }
  }

  /** @inheritdoc */
  replayArgs(): readonly string[] {
    return [
      '--target', `adb:${this.serial}`,
      '--adb-server', this.server.address,
      '--device-dir', this.deviceDir,
      ...(this.options.backend !== undefined ? ['--backend', this.options.backend] : []),
    ];
  }

  /** @inheritdoc */
  byHand(script: string): readonly string[] {
    const s = this.setupDone;
    if (s === undefined) return [];
    const adb = ['adb', '-H', this.server.host, '-P', String(this.server.port), '-s', this.serial].map(shQuote).join(' ');
    const backend = this.options.backend !== undefined ? ` --backend ${this.options.backend}` : '';
    return [
      `${adb} push ${shQuote(s.probeFile)} ${shQuote(this.probePath)}`,
      `${adb} shell ${shQuote(`${shQuote(this.probePath)}${backend}`)} < ${shQuote(script)}`,
    ];
  }

  /** The last lines of logcat, for a report. */
  captureLogcat(lines = 500): Promise<CapturedLog> {
    return captureLogcat(this.shell, lines, this.t.commandMs);
  }

  /** The last lines of the kernel log, where readable. */
  captureDmesg(lines = 300): Promise<CapturedLog> {
    return captureDmesg(this.shell, lines, this.t.commandMs);
  }

  /** @inheritdoc */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.setupPromise !== undefined) await this.setupPromise.catch(() => undefined);
    await this.agent?.stop();
    this.agent = undefined;
    if (this.pushed && this.options.keep !== true) {
      try {
        const dir = shQuote(this.deviceDir);
        await this.shell.run(`cd ${dir} && rm -f ./${PROBE_NAME} ./${SCRATCH_PREFIX}*; true`, this.t.commandMs);
      } catch {
        // Best effort: a vanished device keeps its files.
      }
    }
  }

  /**
   * Runs `fn`; on failure tells a lost adb server from a vanished device. A lost server is
   * restarted (local) or awaited (remote) and the device reconnected ONCE, and `fn` retried if
   * `retryable()`; a second loss fails with {@link AdbServerError}.
   */
  private async guard<T>(what: string, fn: () => Promise<T>, retryable: () => boolean, partial: () => readonly OpResult[]): Promise<T> {
    try {
      return await fn();
    } catch (first) {
      const verdict = await this.classify(first, partial());
      if (verdict !== 'server') throw verdict;
      if (!retryable()) {
        throw new AdbServerError(
          `adb server ${this.server.address} went away during ${what} on ${this.serial} after ${partial().length} result(s) had arrived; the case is not re-run`,
          { cause: first },
        );
      }
      await this.recoverServer(what, first);
      try {
        return await fn();
      } catch (second) {
        const again = await this.classify(second, partial());
        if (again === 'server') {
          throw new AdbServerError(`adb server ${this.server.address} went away during ${what} on ${this.serial}, was reconnected once, and went away again: giving up`, { cause: second });
        }
        throw again;
      }
    }
  }

  private async classify(error: unknown, partial: readonly OpResult[]): Promise<'server' | Error> {
    if (error instanceof ProbeMissingError || error instanceof AdbDeviceVanishedError || error instanceof AdbServerError) return error;
    if (!(await this.server.reachable())) return 'server';
    // A device that goes away cuts the streams it was serving, or refuses the service being
    // opened as it goes (FAIL "closed"), and the server needs a moment to notice the dropped
    // transport: poll briefly before concluding that the device is still there.
    const cut = error instanceof StreamCut || error instanceof AgentConnectionLost || isAdbRequestEnded(error);
    const deadline = Date.now() + (cut ? 3000 : 0);
    for (;;) {
      let state: string;
      try {
        state = await this.server.state(this.serial);
      } catch {
        return (await this.server.reachable()) ? new AdbServerError(`adb server ${this.server.address} stopped answering`, { cause: error }) : 'server';
      }
      if (state !== 'device') {
        const detail = `adb server ${this.server.address} reports it ${state === 'absent' ? 'gone' : state}`;
        return new AdbDeviceVanishedError(this.serial, partial, detail);
      }
      if (Date.now() >= deadline) break;
      await sleep(200);
    }
    if (error instanceof StreamCut) return new AdbCommandError(`the shell on ${this.id} ended without the exit marker although the device is still attached (${error.message})`);
    if (error instanceof AgentConnectionLost) return new AdbCommandError(`the probe agent on ${this.id} closed its connection (${error.message})`);
    // Anything else from adbkit (a FAIL answer, a refused push) is still a target failure:
    // callers branch on TargetError, so it must not surface as an internal error.
    if (error instanceof TargetError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new AdbCommandError(`${this.id}: ${message}`, { cause: error });
  }

  private async recoverServer(what: string, cause: unknown): Promise<void> {
    try {
      if (this.server.local) await this.server.ensureRunning();
      else if (!(await this.server.reachable(this.t.deviceMs))) throw new AdbServerError(`remote adb server ${this.server.address} is unreachable`);
      const tcp = tcpSerial(this.serial);
      if (tcp !== undefined && (await this.server.state(this.serial)) !== 'device') await this.server.connectDevice(tcp.host, tcp.port);
      if (!(await this.server.waitForDevice(this.serial, this.t.deviceMs))) {
        throw new AdbServerError(`device ${this.serial} did not come back within ${this.t.deviceMs} ms`);
      }
      this.reconnects += 1;
      if (this.agent !== undefined) {
        await this.agent.stop();
        await this.startAgent();
      }
    } catch (error) {
      throw new AdbServerError(
        `adb server ${this.server.address} went away during ${what} on ${this.serial} and reconnecting failed: ${(error as Error).message}`,
        { cause: error instanceof Error ? error : cause },
      );
    }
  }
}
