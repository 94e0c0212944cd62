/**
 * The loopback ADB daemon — TEST INFRASTRUCTURE (see `daemon.ts`): the device side of the ADB
 * protocol over TCP, serving this machine's shell, for testing the adb target without Android.
 */
export { LoopbackAdbd, TMPDIR_PROPERTY, type LoopbackAdbdOptions, type OpenCounts, type RootBehaviour } from './daemon.js';
export { hostAbi } from './properties.js';
