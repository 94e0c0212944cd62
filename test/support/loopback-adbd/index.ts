/**
 * The loopback ADB daemon — TEST INFRASTRUCTURE (see `daemon.ts` and README.md): the device side
 * of the ADB protocol over TCP, serving this machine's shell or a `vm` guest, for testing the adb
 * target without Android.
 */
export { LoopbackAdbd, TMPDIR_PROPERTY, type LoopbackAdbdOptions, type OpenCounts, type RootBehaviour } from './daemon.js';
export { GuestDevice, type GuestDeviceOptions } from './guest-device.js';
export { GuestUnreachableError, type GuestEndpoint } from './guest-connection.js';
export { HostDevice, type HostDeviceOptions } from './host-device.js';
export { hostAbi } from './properties.js';
export type { ServedDevice } from './served-device.js';
