/**
 * Runs a loopback ADB daemon by hand (TEST INFRASTRUCTURE):
 * `npx tsx test/support/loopback-adbd/cli.ts [--port N] [--abi ABI]... [--prop k=v]... [--root restart] [--vm [--shell-uid 2000]]`
 * then `adb connect 127.0.0.1:N`. Prints the port and the device's folder; Ctrl-C stops it.
 * With `--vm` it boots an x86_64 `vm` guest (from the vm cache) and serves that instead of this
 * machine's shell.
 */
import { parseArgs } from 'node:util';
import { parseVmTargetSpec } from '../../../harness/targets/vm/vm-spec.js';
import { VmTarget } from '../../../harness/targets/vm/vm-target.js';
import { LoopbackAdbd, type RootBehaviour } from './daemon.js';
import { GuestDevice } from './guest-device.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    abi: { type: 'string', multiple: true },
    prop: { type: 'string', multiple: true },
    root: { type: 'string', default: 'production' },
    vm: { type: 'boolean', default: false },
    'shell-uid': { type: 'string', default: '0' },
  },
});
const properties: Record<string, string> = {};
for (const kv of values.prop ?? []) {
  const eq = kv.indexOf('=');
  if (eq > 0) properties[kv.slice(0, eq)] = kv.slice(eq + 1);
}
let vm: VmTarget | undefined;
let device: GuestDevice | undefined;
if (values.vm) {
  const spec = parseVmTargetSpec('vm:x86_64')[0];
  if (spec === undefined) throw new Error('vm:x86_64 did not parse');
  vm = new VmTarget(spec, { progress: (line) => process.stderr.write(`${line}\n`) });
  device = new GuestDevice({ control: await vm.controlAddress(), abis: values.abi ?? ['x86_64', 'x86'], shellUid: values['shell-uid'] === '2000' ? 2000 : 0 });
}
const daemon = new LoopbackAdbd({
  port: Number(values.port),
  properties,
  ...(values.abi !== undefined ? { abis: values.abi } : {}),
  root: values.root === 'restart' ? 'restart' : ('production' satisfies RootBehaviour),
  ...(device !== undefined ? { device } : {}),
});
const port = await daemon.start();
process.stdout.write(`loopback-adbd listening on 127.0.0.1:${port}, serving ${vm !== undefined ? 'a vm guest' : 'this machine'}, device folder ${daemon.scratchDir}\n`);
const stop = (): void => {
  void daemon
    .close()
    .then(() => vm?.close())
    .then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
