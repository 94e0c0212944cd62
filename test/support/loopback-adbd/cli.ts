/**
 * Runs a loopback ADB daemon by hand (TEST INFRASTRUCTURE):
 * `npx tsx test/support/loopback-adbd/cli.ts [--port N] [--abi ABI]... [--prop k=v]... [--root restart]`
 * then `adb connect 127.0.0.1:N`. Prints the port and the scratch folder; Ctrl-C stops it.
 */
import { parseArgs } from 'node:util';
import { LoopbackAdbd, type RootBehaviour } from './daemon.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    abi: { type: 'string', multiple: true },
    prop: { type: 'string', multiple: true },
    root: { type: 'string', default: 'production' },
  },
});
const properties: Record<string, string> = {};
for (const kv of values.prop ?? []) {
  const eq = kv.indexOf('=');
  if (eq > 0) properties[kv.slice(0, eq)] = kv.slice(eq + 1);
}
const daemon = new LoopbackAdbd({
  port: Number(values.port),
  properties,
  ...(values.abi !== undefined ? { abis: values.abi } : {}),
  root: values.root === 'restart' ? 'restart' : ('production' satisfies RootBehaviour),
});
const port = await daemon.start();
process.stdout.write(`loopback-adbd listening on 127.0.0.1:${port}, scratch ${daemon.scratchDir}\n`);
const stop = (): void => {
  void daemon.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
