/**
 * Fills the vm cache ahead of time (for CI and offline use): Debian's kernel and busybox for the
 * guest, the initramfs, and the snapshot of a freshly booted guest for each probe ABI, by booting
 * each once. Usage: scripts/setup-vm [--arch x86_64|arm64|all] [--refresh] [--vm-cache DIR]
 */
import { Command, Option } from 'commander';
import { TargetError } from '../harness/targets/target.js';
import { parseVmTargetSpec, VM_ARCHES } from '../harness/targets/vm/vm-spec.js';
import { VmTarget } from '../harness/targets/vm/vm-target.js';

const program = new Command('setup-vm')
  .description('fill the vm cache: kernel, busybox, initramfs and a fresh-boot snapshot per ABI')
  .addOption(new Option('--arch <arch>', 'guest architecture').choices([...VM_ARCHES, 'all']).default('x86_64'))
  .option('--refresh', 'look up the newest Debian kernel again even when one is cached')
  .option('--vm-cache <dir>', 'the vm cache folder')
  .parse();
const o = program.opts<{ arch: string; refresh?: boolean; vmCache?: string }>();

const arches = o.arch === 'all' ? [...VM_ARCHES] : [o.arch];
try {
  for (const arch of arches) {
    for (const spec of parseVmTargetSpec(`vm:${arch}/all`)) {
      const t = new VmTarget(spec, {
        ...(o.vmCache !== undefined ? { cache: o.vmCache } : {}),
        ...(o.refresh === true ? { refresh: true } : {}),
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      try {
        const f = await t.facts();
        const vm = f.vm;
        process.stdout.write(`setup-vm: ${spec.id}: ${f.hello.kernel}, ${f.hello.abi} probe on ${vm?.node ?? '?'}, ${vm?.accel ?? '?'} (${vm?.accelReason ?? ''}), ${vm?.boot ?? '?'} in ${((vm?.bootMs ?? 0) / 1000).toFixed(1)} s\n`);
      } finally {
        await t.close();
      }
    }
  }
} catch (e) {
  if (!(e instanceof TargetError)) throw e;
  process.stderr.write(`setup-vm: ${e.message}\n`);
  process.exit(2);
}
