/**
 * Device tracking and `adb root` through the real adb server and the loopback daemon.
 */
import assert from 'node:assert/strict';
import type { AdbDeviceEntry, AdbServer } from '../../harness/targets/adb/index.js';
import { adbRoot } from '../../harness/targets/adb/root.js';
import { RoundTripCounter } from '../../harness/targets/adb/round-trips.js';
import { readAll } from '../../harness/targets/adb/shell-service.js';
import type { Duplex } from 'node:stream';
import { LoopbackAdbd } from '../support/loopback-adbd/index.js';
import { connectLoopback, startPrivateAdbServer } from '../support/private-adb-server.js';

describe('adb target: device tracking and adb root', function () {
  this.timeout(60_000);
  let stop: () => Promise<void> = async () => undefined;
  let server: AdbServer;
  const daemons: LoopbackAdbd[] = [];

  before(async function () {
    const started = await startPrivateAdbServer();
    stop = started.stop;
    server = started.server;
  });

  afterEach(async function () {
    for (const d of daemons.splice(0)) await d.close();
  });

  after(async function () {
    await stop();
  });

  it('tracks a device appearing and vanishing', async function () {
    const daemon = new LoopbackAdbd();
    daemons.push(daemon);
    await daemon.start();
    const seen: (readonly AdbDeviceEntry[])[] = [];
    const untrack = await server.trackDevices((devices) => seen.push(devices));
    try {
      await connectLoopback(server, daemon);
      const waitFor = async (predicate: (d: readonly AdbDeviceEntry[]) => boolean, what: string): Promise<void> => {
        const deadline = Date.now() + 15_000;
        while (!seen.some(predicate)) {
          if (Date.now() > deadline) throw new Error(`tracker never saw ${what}: ${JSON.stringify(seen)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await waitFor((d) => d.some((e) => e.serial === daemon.serial && e.state === 'device'), 'the device');
      daemon.kill();
      await waitFor((d) => !d.some((e) => e.serial === daemon.serial && e.state === 'device'), 'the device go');
    } finally {
      untrack();
    }
  });

  it('handles adb root on an image whose adbd restarts: waits (bounded) until the device is back', async function () {
    const daemon = new LoopbackAdbd({ root: 'restart' });
    daemons.push(daemon);
    await daemon.start();
    await connectLoopback(server, daemon);
    const device = server.client.getDevice(daemon.serial);
    const counter = new RoundTripCounter();
    const started = Date.now();
    const outcome = await adbRoot(server, device, counter, 20_000);
    assert.equal(outcome, 'restarted');
    assert.ok(Date.now() - started < 20_000);
    assert.equal(counter.snapshot().root, 1);
    assert.equal(await server.state(daemon.serial), 'device');
    const shell = (await device.shell('echo back')) as Duplex;
    assert.equal((await readAll(shell)).trim(), 'back');
  });

  it('reports adb root on a production image as refused (or already root when this user is root)', async function () {
    const daemon = new LoopbackAdbd({ root: 'production' });
    daemons.push(daemon);
    await daemon.start();
    await connectLoopback(server, daemon);
    const outcome = await adbRoot(server, server.client.getDevice(daemon.serial), new RoundTripCounter(), 10_000);
    assert.equal(outcome, process.getuid?.() === 0 ? 'already-root' : 'refused');
  });
});
