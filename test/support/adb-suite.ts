/**
 * The set-up every adb suite shares (TEST INFRASTRUCTURE): {@link useAdbSuite} registers, in the
 * calling `describe`, the hooks that prepare a backend (test/support/adb-backends.ts) and a
 * private adb server, close what each test opened (targets first, then the devices they ran on,
 * then its folders), and release the server and the backend at the end; it returns accessors
 * for what the hooks made.
 *
 * ```ts
 * for (const backend of adbBackends()) describe(`… on ${backend.title}`, function () {
 *   const suite = useAdbSuite(backend);
 *   it('…', async () => {
 *     const d = await suite.connectedDevice({ abis: ['x86_64'] });
 *     const t = suite.target(d, { mode: 'agent' });
 *     …
 *   });
 * });
 * ```
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AdbServer } from '../../harness/targets/adb/adb-server.js';
import { AdbTarget, type AdbTargetOptions } from '../../harness/targets/adb/adb-target.js';
import type { AdbBackend, BackendDevice, DeviceOptions } from './adb-backends.js';
import { connectLoopback, startPrivateAdbServer } from './private-adb-server.js';

/** Bound of the suite's `before`: a first vm boot with an empty snapshot cache boots for real (TCG). */
const SETUP_MS = 300_000;

/** Options of {@link useAdbSuite}. */
export interface AdbSuiteOptions {
  /**
   * Devices for the whole suite, one per entry: started and connected in `before`, closed in
   * `after` ({@link AdbSuite.suiteDevices}).
   */
  readonly suiteDevices?: readonly DeviceOptions[];
}

/** What an adb suite's hooks made, and the test's own devices, targets and folders. */
export interface AdbSuite {
  readonly backend: AdbBackend;
  /** The suite's private adb server. */
  readonly server: AdbServer;
  /** Its port. */
  readonly port: number;
  /** The suite-long devices (`suiteDevices`), connected, in order. */
  readonly suiteDevices: readonly BackendDevice[];
  /** The first of them. */
  readonly suiteDevice: BackendDevice;
  /** A started device, closed after the test; not connected (see {@link connectedDevice}). */
  device(options?: DeviceOptions): Promise<BackendDevice>;
  /** A started device connected to the server and ready, closed after the test. */
  connectedDevice(options?: DeviceOptions): Promise<BackendDevice>;
  /** An adb target on a device's daemon (its scratch folder as the device folder), closed after the test. */
  target(device: Pick<BackendDevice, 'daemon'>, options?: Partial<AdbTargetOptions>): AdbTarget;
  /** Targets made elsewhere (`openAdbTargets`), closed after the test like the suite's own. */
  closeAfter(...targets: readonly AdbTarget[]): void;
  /** A fresh folder on this machine, removed after the test. */
  tempDir(prefix: string): string;
}

/** Registers the suite's hooks in the calling `describe` and returns its accessors. */
export function useAdbSuite(backend: AdbBackend, options: AdbSuiteOptions = {}): AdbSuite {
  let started: { server: AdbServer; port: number; stop: () => Promise<void> } | undefined;
  const suiteDevices: BackendDevice[] = [];
  const devices: BackendDevice[] = [];
  const targets: AdbTarget[] = [];
  const folders: string[] = [];

  const server = (): AdbServer => {
    if (started === undefined) throw new Error("the adb suite's server is used before its before hook ran");
    return started.server;
  };

  before(async function () {
    this.timeout(SETUP_MS);
    await backend.setup();
    started = await startPrivateAdbServer();
    for (const deviceOptions of options.suiteDevices ?? []) {
      const d = await backend.device(deviceOptions);
      suiteDevices.push(d);
      await connectLoopback(started.server, d.daemon);
    }
  });

  afterEach(async function () {
    // Targets first: closing one removes its probe through the device it ran on.
    for (const t of targets.splice(0)) await t.close();
    for (const d of devices.splice(0)) await d.close();
    for (const f of folders.splice(0)) fs.rmSync(f, { recursive: true, force: true });
  });

  after(async function () {
    for (const d of suiteDevices.splice(0)) await d.close();
    await started?.stop();
    await backend.teardown();
  });

  const suite: AdbSuite = {
    backend,
    get server() {
      return server();
    },
    get port() {
      return server().port;
    },
    get suiteDevices() {
      return suiteDevices;
    },
    get suiteDevice() {
      const first = suiteDevices[0];
      if (first === undefined) throw new Error('this adb suite has no suite device (useAdbSuite without suiteDevices, or before its before hook ran)');
      return first;
    },
    async device(deviceOptions = {}) {
      const d = await backend.device(deviceOptions);
      devices.push(d);
      return d;
    },
    async connectedDevice(deviceOptions = {}) {
      const d = await suite.device(deviceOptions);
      await connectLoopback(server(), d.daemon);
      return d;
    },
    target(device, targetOptions = {}) {
      const t = new AdbTarget({ server: server(), serial: device.daemon.serial, deviceDir: device.daemon.scratchDir, ...targetOptions });
      targets.push(t);
      return t;
    },
    closeAfter(...made) {
      targets.push(...made);
    },
    tempDir(prefix) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      folders.push(dir);
      return dir;
    },
  };
  return suite;
}
