/**
 * The bench's adb-loopback measurement: its round trips per case are what the daemon served.
 */
import assert from 'node:assert/strict';
import { benchAdbLoopback, formatAdbLoopback } from '../support/adb-loopback-bench.js';

const SCRIPT = 'open r0\ntruncate r0 8192\nmmap m0 r0 8192 3 shared 0\nfill m0 0 8192 0x5A\ncheck m0 0 8192\nclose r0\n';

describe('adb-loopback bench measurement', function () {
  this.timeout(60_000);

  it('measures one round trip per case in stdin mode', async function () {
    const b = await benchAdbLoopback({ cases: 5, script: SCRIPT });
    assert.equal(b.roundTripsPerCase, 1);
    assert.equal(b.daemonOpensPerCase, 1);
    assert.equal(b.setupRoundTrips, 3); // facts, push, hello
    assert.ok(b.casesPerSecond > 0);
    assert.match(formatAdbLoopback(b), /^adb-loopback \(stdin\): [\d.]+ cases\/s, 1 round trips\/case/);
  });

  it('measures one round trip per case through adb to a vm guest, where the probe meets ashmem', async function () {
    this.timeout(300_000); // the guest boots from the snapshot; a first real boot takes minutes
    const b = await benchAdbLoopback({ cases: 5, script: SCRIPT.replace('truncate', 'set_size'), backend: 'vm' });
    assert.equal(b.backend, 'vm');
    assert.equal(b.roundTripsPerCase, 1);
    assert.equal(b.daemonOpensPerCase, 1);
    assert.match(formatAdbLoopback(b), /^adb-loopback-vm \(stdin\): [\d.]+ cases\/s, 1 round trips\/case/);
  });

  it('measures zero round trips per case over the agent connection', async function () {
    const b = await benchAdbLoopback({ cases: 5, script: SCRIPT, mode: 'agent' });
    assert.equal(b.roundTripsPerCase, 0);
    assert.equal(b.daemonOpensPerCase, 0);
    assert.equal(b.setupRoundTrips, 5); // facts, push, hello, agent shell, agent connection
  });
});
