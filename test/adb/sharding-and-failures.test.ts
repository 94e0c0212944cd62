/**
 * Many devices and the ways a run breaks, end to end through the real adb server: two loopback
 * devices sharing a queue; a case timed out; the adb server killed (reconnect once) or gone for
 * good; no adb binary at all. Run on this machine's shell and on a vm guest
 * (test/support/adb-backends.ts; there the daemons serve one guest). A device lost between cases
 * or in the middle of one is device-lost.test.ts.
 */
import assert from 'node:assert/strict';
import {
  AdbMissingError,
  AdbServer,
  AdbServerError,
  type AdbTarget,
  runSharded,
  shardRoundRobin,
} from '../../harness/targets/adb/index.js';
import { freeLocalPort } from '../../harness/targets/adb/forward-service.js';
import { adbBackends, numberedCase } from '../support/adb-backends.js';
import { useAdbSuite } from '../support/adb-suite.js';
import type { LoopbackAdbd } from '../support/loopback-adbd/index.js';

for (const backend of adbBackends()) describe(`adb target: sharding, vanishing devices, adb server restarts, on ${backend.title}`, function () {
  this.timeout(120_000);
  const suite = useAdbSuite(backend);
  const caseScript = (n: number): string => numberedCase(backend, n);

  /** A connected device and a target on it. */
  async function device(): Promise<{ daemon: LoopbackAdbd; target: AdbTarget }> {
    const d = await suite.connectedDevice({ abis: ['x86_64'] });
    return { daemon: d.daemon, target: suite.target(d, { timeouts: { deviceMs: 8000 } }) };
  }

  it('splits cases round-robin deterministically', function () {
    assert.deepEqual(shardRoundRobin([1, 2, 3, 4, 5], 2), [[1, 3, 5], [2, 4]]);
    assert.deepEqual(shardRoundRobin([1, 2], 3), [[1], [2], []]);
  });

  it('shards cases over two loopback devices at once, every case run once with its own results', async function () {
    const a = await device();
    const b = await device();
    const cases = Array.from({ length: 12 }, (_, i) => i);
    const run = await runSharded([a.target, b.target], cases, { script: caseScript });
    assert.equal(run.outcomes.length, 12);
    assert.deepEqual(run.notRun, []);
    assert.equal(run.stopped.size, 0);
    const used = new Set(run.outcomes.map((o) => o.target));
    assert.deepEqual([...used].sort(), [a.target.id, b.target.id].sort());
    for (const o of run.outcomes) {
      assert.ok(o.ok);
      if (!o.ok) continue;
      const check = o.outcome.results.find((r) => r.op === 'check');
      assert.deepEqual(check?.rle, [[o.case % 256, 4096]], `case ${o.case} on ${o.target}`);
    }
    // Each device served only its own cases: its daemon saw one shell OPEN per case (+ set-up).
    const perTarget = (id: string): number => run.outcomes.filter((o) => o.target === id).length;
    assert.equal(a.daemon.openCounts().shell, perTarget(a.target.id) + 2);
    assert.equal(b.daemon.openCounts().shell, perTarget(b.target.id) + 2);
  });

  it('records a timed-out case and goes on with the next on the same device', async function () {
    const d = await device();
    const slow = suite.target(d, { timeouts: { caseMs: 500 } });
    const scripts = [caseScript(1), 'open r0\npressure 4 3\n', caseScript(3)];
    const run = await runSharded([slow], scripts, { script: (s) => s });
    assert.deepEqual(run.outcomes.map((o) => o.ok), [true, false, true]);
    assert.equal(run.stopped.size, 0);
    const failed = run.outcomes[1];
    assert.ok(failed !== undefined && !failed.ok && failed.error.name === 'TargetTimeoutError');
    assert.deepEqual(failed.partial.map((r) => r.op), ['open']);
  });

  it('queues concurrent cases on one agent connection', async function () {
    const d = await device();
    const agent = suite.target(d, { mode: 'agent' });
    const outcomes = await Promise.all([1, 2, 3, 4].map((n) => agent.exec(caseScript(n))));
    assert.deepEqual(outcomes.map((o) => o.results.find((r) => r.op === 'check')?.rle), [1, 2, 3, 4].map((n) => [[n, 4096]]));
  });

  it('reconnects once after an adb server restart and goes on', async function () {
    const { target } = await device();
    const first = await target.exec(caseScript(1));
    assert.equal(first.results.length, 6);
    await suite.server.kill();
    assert.equal(await suite.server.reachable(), false);
    const second = await target.exec(caseScript(2));
    assert.deepEqual(second.results.find((r) => r.op === 'check')?.rle, [[2, 4096]]);
    assert.equal(target.reconnects, 1);
  });

  it('restarts the agent after an adb server restart and goes on', async function () {
    const d = await device();
    const agent = suite.target(d, { mode: 'agent', timeouts: { deviceMs: 8000 } });
    assert.equal((await agent.exec(caseScript(4))).results.length, 6);
    await suite.server.kill();
    const after = await agent.exec(caseScript(5));
    assert.deepEqual(after.results.find((r) => r.op === 'check')?.rle, [[5, 4096]]);
    assert.equal(agent.reconnects, 1);
  });

  it('fails clearly when the adb server is gone and cannot be restarted', async function () {
    const d = await device();
    const server = suite.server;
    const noBin = new AdbServer({ port: server.port, bin: '/nonexistent/adb' });
    const target = suite.target(d, { server: noBin, timeouts: { deviceMs: 3000 } });
    await target.facts();
    await server.kill();
    const error = await target.exec(caseScript(3)).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof AdbServerError, String(error));
    assert.match(error.message, /went away.*reconnecting failed/);
    assert.match(error.message, /not found or not runnable/);
    // Bring the shared server back for the tests after this one.
    await server.ensureRunning();
  });

  it('never starts a remote adb server: says to start it there', async function () {
    const port = await freeLocalPort();
    // 127.0.0.2 is loopback on Linux but not "this machine's server" to the target: a lab host.
    const remote = new AdbServer({ host: '127.0.0.2', port, bin: '/nonexistent/adb' });
    assert.equal(remote.local, false);
    await assert.rejects(remote.ensureRunning(), (e: unknown) => e instanceof AdbServerError && /no adb server answers at 127\.0\.0\.2/.test(e.message) && /start it there/.test(e.message));
  });

  it('says how to install adb when the binary is missing', async function () {
    const port = await freeLocalPort();
    const missing = new AdbServer({ port, bin: '/nonexistent/adb' });
    await assert.rejects(missing.ensureRunning(), (e: unknown) => e instanceof AdbMissingError && /apt-get install adb/.test(e.message) && e.message.includes('/nonexistent/adb'));
  });
});
