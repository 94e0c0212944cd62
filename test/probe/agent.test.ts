/**
 * Agent mode (`ashmem-probe --listen PORT`), the protocol the adb target speaks through
 * `adb forward`: per connection a hello line, then per case the script lines, a line `%%end`,
 * the case's results and `{"end":{"ops":N,"status":S}}`. Each case runs in a fresh worker.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import net from 'node:net';
import readline from 'node:readline';
import { probeCommand } from '../../harness/targets/probe-binary.js';
import { ALL_ABIS, ensureProbesBuilt, skipUnlessRunnable } from './support.js';

before(function () {
  this.timeout(120_000);
  ensureProbesBuilt();
});

/** A started agent and the port it reported. */
async function startAgent(abi: (typeof ALL_ABIS)[number], extra: readonly string[] = []): Promise<{ child: ChildProcessWithoutNullStreams; port: number }> {
  const cmd = probeCommand(abi);
  const child = spawn(cmd.command, [...cmd.args, ...extra, '--listen', '0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = readline.createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`agent exited (${String(code)}) before listening`)));
  });
  lines.close();
  const parsed = JSON.parse(first) as { listening: { port: number } };
  assert.ok(parsed.listening.port > 0);
  return { child, port: parsed.listening.port };
}

/** A connection that reads JSON lines. */
class Connection {
  private readonly lines: Record<string, unknown>[] = [];
  private waiter: (() => void) | undefined;
  private closed = false;

  private constructor(readonly socket: net.Socket) {
    readline.createInterface({ input: socket }).on('line', (l) => {
      this.lines.push(JSON.parse(l) as Record<string, unknown>);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  static open(port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Connection(s)));
      s.once('error', reject);
    });
  }

  async next(): Promise<Record<string, unknown>> {
    for (;;) {
      const l = this.lines.shift();
      if (l !== undefined) return l;
      if (this.closed) throw new Error('connection closed');
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  /** Sends a case and collects its results up to and including the end line. */
  async runCase(text: string): Promise<{ results: Record<string, unknown>[]; end: Record<string, unknown> }> {
    this.socket.write(`${text}%%end\n`);
    const results: Record<string, unknown>[] = [];
    for (;;) {
      const l = await this.next();
      if ('end' in l) return { results, end: l['end'] as Record<string, unknown> };
      results.push(l);
    }
  }
}

for (const abi of ALL_ABIS) {
  describe(`probe ${abi} agent mode over TCP`, function () {
    this.timeout(60_000);
    before(function () {
      skipUnlessRunnable(this, abi);
    });
    let agent: { child: ChildProcessWithoutNullStreams; port: number } | undefined;

    afterEach(() => {
      agent?.child.kill('SIGKILL');
      agent = undefined;
    });

    it('greets each connection and runs two cases on one connection, each in a fresh worker', async () => {
      agent = await startAgent(abi);
      const c = await Connection.open(agent.port);
      const hello = (await c.next())['hello'] as Record<string, unknown>;
      assert.equal(hello['abi'], abi);
      const one = await c.runCase('open r0\ntruncate r0 4096\nmmap m0 r0 4096 3 shared 0\nfill m0 0 4096 7\ncheck m0 0 4096\n');
      assert.deepEqual(one.results, [
        { i: 1, op: 'open', ret: 0 },
        { i: 2, op: 'truncate', ret: 0 },
        { i: 3, op: 'mmap', ret: 0 },
        { i: 4, op: 'fill', ret: 0 },
        { i: 5, op: 'check', ret: 0, rle: [[7, 4096]] },
      ]);
      assert.deepEqual(one.end, { ops: 5, status: 0 });
      // Line numbers restart; nothing of case 1 survives (its worker exited).
      const two = await c.runCase('check m0 0 1\nopen r0\nfstat r0\nfork p1\np1: fstat r0\n# a comment\nbogus\n');
      assert.deepEqual(two.results, [
        { i: 1, op: 'check', error: 'parse', message: 'mapping m0 is not defined in p0 (mmap it first)', col: 1 },
        { i: 2, op: 'open', ret: 0 },
        { i: 3, op: 'fstat', ret: 0, mode: 'reg', size: 0 },
        { i: 4, op: 'fork', ret: 0 },
        { i: 5, op: 'fstat', proc: 'p1', ret: 0, mode: 'reg', size: 0 },
        { i: 7, op: 'bogus', error: 'parse', message: 'unknown op "bogus" (see docs/op-scripts.md for the list)', col: 1 },
      ]);
      assert.deepEqual(two.end, { ops: 6, status: 0 });
      // An empty case is a case too.
      assert.deepEqual(await c.runCase(''), { results: [], end: { ops: 0, status: 0 } });
      c.socket.destroy();
    });

    it('serves a second connection while the first is open, with its own hello', async () => {
      agent = await startAgent(abi);
      const a = await Connection.open(agent.port);
      const b = await Connection.open(agent.port);
      assert.ok('hello' in (await a.next()));
      assert.ok('hello' in (await b.next()));
      const rb = await b.runCase('open r5\nfstat r5\n');
      const ra = await a.runCase('fstat r5\n');
      assert.deepEqual(rb.end, { ops: 2, status: 0 });
      assert.equal(ra.results[0]?.['error'], 'parse');
      a.socket.destroy();
      b.socket.destroy();
    });
  });
}
