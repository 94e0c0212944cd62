/**
 * The adb target: Android devices and emulators through adb servers and adbkit.
 *
 * For the CLI: `openAdbTargets('adb:all', { servers: ['lab:5037'], deviceDir, keep, ... })`
 * returns one {@link AdbTarget} per device; `runSharded` spreads cases over them.
 */
import { AdbTarget, type AdbTargetOptions } from './adb-target.js';
import { findDevices, parseAdbTargetSpec, selectServers, type AdbServersOptions } from './target-spec.js';

export { AdbServer, defaultServerPort, parseServerAddress, type AdbDeviceEntry, type AdbServerOptions } from './adb-server.js';
export { AdbTarget, DEFAULT_DEVICE_DIR, type AdbTargetOptions } from './adb-target.js';
export { AgentSession } from './agent.js';
export { type DeviceFacts } from './device-facts.js';
export { AdbCommandError, AdbDeviceNotFoundError, AdbDeviceVanishedError, AdbError, AdbMissingError, AdbServerError } from './errors.js';
export { type AgentTransport } from './forward-service.js';
export { type CapturedLog } from './logs.js';
export { measureCases, type CaseThroughput } from './measure.js';
export { chooseProbe, probeBinaryPath } from './probe-binary-path.js';
export { type ProbeBackend } from './probe-command.js';
export { adbRoot, opsInScript, rootGate, skipReason, type AdbRootOutcome, type RootGate } from './root.js';
export { RoundTripCounter, roundTripsBetween, type RoundTripCounts } from './round-trips.js';
export { runSharded, shardRoundRobin, type ShardedOutcome, type ShardedRun, type ShardOptions } from './shard.js';
export { findDevices, parseAdbTargetSpec, selectServers, type AdbServersOptions, type AdbTargetSpec, type FoundDevice } from './target-spec.js';
export { DEFAULT_TIMEOUTS, type AdbTimeouts } from './timeout.js';

/** Options of {@link openAdbTargets}: servers plus everything per target but server and serial. */
export type OpenAdbTargetsOptions = AdbServersOptions & Omit<AdbTargetOptions, 'server' | 'serial' | 'id'>;

/**
 * Resolves `--target adb:SERIAL | adb:SERIAL@HOST:PORT | adb:all` over the `--adb-server`s into
 * targets (not yet set up: set-up happens on the first `facts()` or `exec()`).
 */
export async function openAdbTargets(spec: string, options: OpenAdbTargetsOptions = {}): Promise<AdbTarget[]> {
  // The server options ride along unused: AdbTarget reads only its own fields.
  const perTarget: Omit<AdbTargetOptions, 'server' | 'serial' | 'id'> = options;
  const found = await findDevices(parseAdbTargetSpec(spec), selectServers(options));
  return found.map((d) => new AdbTarget({ ...perTarget, server: d.server, serial: d.serial, id: d.id }));
}
