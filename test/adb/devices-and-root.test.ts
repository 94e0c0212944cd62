/**
 * Device tracking and `adb root` through the real adb server and the loopback daemon, on this
 * machine's shell and on a vm guest (test/support/adb-backends.ts). In the guest root is real:
 * a userdebug-like daemon starts its shells as Android's shell user (uid 2000), where the real
 * driver refuses PURGE_ALL_CACHES (EPERM), and `adb root` restarts it so that the next shells —
 * and the probe the adb target runs — are uid 0 and purge.
 */
import assert from 'node:assert/strict';
import type { AdbDeviceEntry } from '../../harness/targets/adb/index.js';
import { adbRoot } from '../../harness/targets/adb/root.js';
import { RoundTripCounter } from '../../harness/targets/adb/round-trips.js';
import { readAll } from '../../harness/targets/adb/shell-service.js';
import type { Duplex } from 'node:stream';
import { adbBackends } from '../support/adb-backends.js';
import { useAdbSuite } from '../support/adb-suite.js';
import { connectLoopback } from '../support/private-adb-server.js';

for (const backend of adbBackends()) describe(`adb target: device tracking and adb root, on ${backend.title}`, function () {
  this.timeout(60_000);
  const suite = useAdbSuite(backend);

  async function shellOf(serial: string, command: string): Promise<string> {
    return (await readAll((await suite.server.client.getDevice(serial).shell(command)) as Duplex)).trim();
  }

  it('tracks a device appearing and vanishing (the vm guest powered off)', async function () {
    this.timeout(300_000); // a guest of its own: see device-lost.test.ts
    const server = suite.server;
    const d = await suite.device({ own: true });
    const seen: (readonly AdbDeviceEntry[])[] = [];
    const untrack = await server.trackDevices((list) => seen.push(list));
    try {
      await connectLoopback(server, d.daemon);
      const waitFor = async (predicate: (list: readonly AdbDeviceEntry[]) => boolean, what: string): Promise<void> => {
        const deadline = Date.now() + 15_000;
        while (!seen.some(predicate)) {
          if (Date.now() > deadline) throw new Error(`tracker never saw ${what}: ${JSON.stringify(seen)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await waitFor((list) => list.some((e) => e.serial === d.daemon.serial && e.state === 'device'), 'the device');
      await d.lose();
      await waitFor((list) => !list.some((e) => e.serial === d.daemon.serial && e.state === 'device'), 'the device go');
    } finally {
      untrack();
    }
  });

  it('handles adb root on an image whose adbd restarts: waits (bounded) until the device is back', async function () {
    // In the guest the shells start as the shell user, so that root has something to change.
    const server = suite.server;
    const d = await suite.connectedDevice({ root: 'restart', shellUid: 2000 });
    const serial = d.daemon.serial;
    const uidBefore = await shellOf(serial, 'id -u');
    const device_ = server.client.getDevice(serial);
    const counter = new RoundTripCounter();
    const started = Date.now();
    const outcome = await adbRoot(server, device_, counter, 20_000);
    assert.equal(outcome, 'restarted');
    assert.ok(Date.now() - started < 20_000);
    assert.equal(counter.snapshot().root, 1);
    assert.equal(await server.state(serial), 'device');
    assert.equal(await shellOf(serial, 'echo back'), 'back');
    if (backend.name === 'vm') {
      // Root is real in the guest: the shell user before, uid 0 after; a second `adb root` has
      // nothing to do.
      assert.equal(uidBefore, '2000');
      assert.equal(await shellOf(serial, 'id -u'), '0');
      assert.equal(await adbRoot(server, device_, counter, 20_000), 'already-root');
    } else {
      // This machine's shells keep this user's uid: no root is faked.
      assert.equal(await shellOf(serial, 'id -u'), uidBefore);
    }
  });

  it('reports adb root on a production image as refused (or already root when the shell is root)', async function () {
    const server = suite.server;
    const d = await suite.connectedDevice({ root: 'production', shellUid: 2000 });
    const uid = await shellOf(d.daemon.serial, 'id -u');
    const outcome = await adbRoot(server, server.client.getDevice(d.daemon.serial), new RoundTripCounter(), 10_000);
    assert.equal(outcome, uid === '0' ? 'already-root' : 'refused');
    if (backend.name === 'vm') assert.equal(outcome, 'refused');
  });

  it('gates purge_all on the probe uid, and lifts the gate with adb root at set-up (tryRoot) on a debuggable image', async function () {
    const d = await suite.connectedDevice({ root: 'restart', shellUid: 2000 });
    const script = 'open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared 0\nfill m0 0 8192 7\nunpin r0 0 0\npurge_all r0\nclose r0\n';
    const plain = suite.target(d);
    const device0 = await plain.deviceFacts();
    assert.equal(device0.debuggable, true);
    const gate = await plain.rootGate();
    assert.equal(gate.root, device0.uid === 0);
    const before = await plain.exec(script);
    const purge = (o: typeof before): unknown => o.results.find((r) => r.op === 'purge_all');
    if (backend.name === 'vm') {
      // Without root the real driver refuses the purge, and the gate expects just that.
      assert.equal(device0.uid, 2000);
      assert.deepEqual(gate.purgeAll, { expect: 'EPERM' });
      assert.equal(gate.dropCaches.run, false);
      assert.equal(await plain.skipReason('open r0\ndrop_caches 3\n'), gate.dropCaches.run ? undefined : gate.dropCaches.reason);
      assert.equal((purge(before) as { errno?: string }).errno, 'EPERM');
    }
    await plain.close();
    const rooted = suite.target(d, { tryRoot: true });
    const outcome = await rooted.rootOutcome();
    assert.equal(outcome, device0.uid === 0 ? 'not-tried' : 'restarted');
    const facts = await rooted.facts();
    if (backend.name === 'vm') {
      assert.equal(facts.hello.uid, 0);
      assert.equal(facts.android?.root, true);
      assert.deepEqual((await rooted.rootGate()).purgeAll, { expect: 'purge' });
      // As root the driver purges the unpinned pages and counts them.
      assert.equal((purge(await rooted.exec(script)) as { ret?: number }).ret, 2);
    }
  });
});
