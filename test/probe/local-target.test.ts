/**
 * The `local` target (harness/targets/local-target.ts): ids, streaming, bounds, typed errors.
 * It runs the real probe on the real host kernel.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { OpResult } from '../../harness/ops/result.js';
import { LocalTarget, parseLocalTargetId, parseProbeLine } from '../../harness/targets/local-target.js';
import { probeCommand } from '../../harness/targets/probe-binary.js';
import { ProbeMissingError, TargetError, TargetTimeoutError } from '../../harness/targets/target.js';
import { HOST_HAS_ASHMEM, ensureProbesBuilt, skipUnlessRunnable } from './support.js';

before(function () {
  this.timeout(120_000);
  ensureProbesBuilt();
});

describe('local target', function () {
  this.timeout(60_000);

  it('parses local and local:ABI ids and rejects others with a TargetError', () => {
    assert.equal(parseLocalTargetId('local'), 'host');
    assert.equal(parseLocalTargetId('local:armeabi-v7a'), 'armeabi-v7a');
    assert.equal(LocalTarget.fromId('local:x86').id, 'local:x86');
    assert.equal(new LocalTarget().id, 'local');
    assert.throws(() => parseLocalTargetId('local:mips'), TargetError);
    assert.throws(() => parseLocalTargetId('adb:emulator-5554'), /not a local target/);
  });

  it('says in its facts how the probe runs here, as the trial found it', async function () {
    skipUnlessRunnable(this, 'armeabi-v7a');
    const target = LocalTarget.fromId('local:armeabi-v7a');
    const facts = await target.facts();
    assert.equal(facts.runner, probeCommand('armeabi-v7a').runner);
    assert.equal((await new LocalTarget().facts()).runner, 'native');
  });

  it('streams each result to onResult as it arrives, in script order, and returns the same list', async function () {
    skipUnlessRunnable(this, 'armeabi-v7a');
    const target = LocalTarget.fromId('local:armeabi-v7a');
    const seen: OpResult[] = [];
    const outcome = await target.exec('open r0\ntruncate r0 8192\nmmap m0 r0 8192 3 shared 0\nfork p1\np1: fill m0 0 8192 3\ncheck m0 0 8192\nexit p1', (r) => {
      seen.push(r);
    });
    assert.equal(outcome.hello.abi, 'armeabi-v7a');
    assert.equal(outcome.hello.bits, 32);
    assert.deepEqual(seen, outcome.results);
    assert.deepEqual(outcome.results.map((r) => r.i), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(outcome.results[5], { i: 6, op: 'check', ret: 0, rle: [[3, 8192]] });
    assert.deepEqual(outcome.results[4], { i: 5, op: 'fill', proc: 'p1', ret: 0 });
    assert.deepEqual(outcome.exit, { code: 0, signal: null });
  });

  it('delivers a result while the probe is still running (not only at its exit)', async function () {
    skipUnlessRunnable(this, 'x86_64');
    const target = new LocalTarget({ abi: 'x86_64' });
    let firstAt = 0;
    const outcome = await target.exec('open r0\npressure 1 1\nfstat r0', () => {
      if (firstAt === 0) firstAt = Date.now();
    });
    const doneAt = Date.now();
    assert.equal(outcome.results.length, 3);
    assert.ok(doneAt - firstAt >= 500, `first result came ${doneAt - firstAt} ms before the end; expected about 1 s`);
  });

  it('reports facts from the hello line, once', async () => {
    const target = new LocalTarget();
    const facts = await target.facts();
    assert.equal(facts.hello.abi, 'host');
    assert.equal(facts.hello.kernel, os.release());
    assert.equal(facts.android, undefined);
    assert.equal(await target.facts(), facts);
  });

  it('bounds an execution: a probe past its timeout is killed and a TargetTimeoutError names the results so far', async function () {
    skipUnlessRunnable(this, 'x86_64');
    const target = new LocalTarget({ abi: 'x86_64', timeoutMs: 400 });
    const started = Date.now();
    const seen: OpResult[] = [];
    await assert.rejects(target.exec('open r0\npressure 1 30\nfstat r0', (r) => seen.push(r)), (e: unknown) => {
      assert.ok(e instanceof TargetTimeoutError);
      assert.match(e.message, /within 400 ms \(1 result\(s\) so far\)/);
      return true;
    });
    assert.ok(Date.now() - started < 10_000);
    assert.deepEqual(seen, [{ i: 1, op: 'open', ret: 0 }]);
  });

  it('throws ProbeMissingError naming scripts/build-probe when the probe is not built', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'no-probe-'));
    try {
      const target = new LocalTarget({ abi: 'arm64-v8a', root });
      await assert.rejects(target.exec('open r0'), (e: unknown) => e instanceof ProbeMissingError && /scripts\/build-probe/.test(e.message));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('close() kills a running probe: the execution ends with SIGKILL', async function () {
    skipUnlessRunnable(this, 'x86');
    const target = new LocalTarget({ abi: 'x86' });
    const running = target.exec('open r0\npressure 1 30\nfstat r0');
    await new Promise((r) => setTimeout(r, 300));
    await target.close();
    const outcome = await running;
    assert.equal(outcome.exit.signal, 'SIGKILL');
    assert.deepEqual(outcome.results, [{ i: 1, op: 'open', ret: 0 }]);
  });

  it(HOST_HAS_ASHMEM ? 'forced ashmem backend (skipped: this host has an ashmem node)' : 'passes --backend: forced ashmem without a node reports it and open fails with ENOENT', async function () {
    if (HOST_HAS_ASHMEM) this.skip();
    const outcome = await new LocalTarget({ backend: 'ashmem' }).exec('open r0');
    assert.equal(outcome.hello.backend, 'ashmem');
    assert.equal(outcome.hello.node, '/dev/ashmem');
    assert.deepEqual(outcome.results, [{ i: 1, op: 'open', errno: 'ENOENT' }]);
  });

  it('classifies probe lines and rejects malformed hello and end lines', () => {
    assert.equal(parseProbeLine('{"i":3,"op":"pin","ret":0}').kind, 'result');
    assert.equal(parseProbeLine('{"end":{"ops":1,"status":0}}').kind, 'end');
    assert.equal(parseProbeLine('qemu: warning').kind, 'other');
    assert.throws(() => parseProbeLine('{"hello":{"probe":"0.1.0"}}'), TargetError);
    assert.throws(() => parseProbeLine('{"end":{"ops":"x"}}'), TargetError);
  });
});
