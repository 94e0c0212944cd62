/**
 * Kernel modules for the guest: which `.ko` files a module needs, read from the module's own
 * `.modinfo` section (`depends=`), so no `modules.dep` or host `modinfo` is needed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TargetError } from '../target.js';

/** The modules a guest loads before its ashmem driver: PCI virtio and its network device. */
export const NETWORK_MODULES = ['virtio', 'virtio_ring', 'virtio_pci', 'failover', 'net_failover', 'virtio_net'] as const;

/** Debian's name of the staging driver's module. */
export const ASHMEM_MODULE = 'ashmem_linux';

/** A module's name as the kernel knows it (`-` and `_` are the same to it). */
export function moduleName(file: string): string {
  return path.basename(file).replace(/\.ko(\.(xz|gz|zst))?$/, '').replace(/-/g, '_');
}

/** The `depends=` list in a module file's `.modinfo` (empty when it names none). */
export function moduleDepends(bytes: Buffer): string[] {
  const key = Buffer.from('\0depends=');
  const at = bytes.indexOf(key);
  if (at < 0) return [];
  const start = at + key.length;
  const end = bytes.indexOf(0, start);
  const text = bytes.subarray(start, end < 0 ? bytes.length : end).toString('latin1');
  return text === '' ? [] : text.split(',').map((d) => d.replace(/-/g, '_'));
}

/** Every `.ko` below a folder, by module name. */
export function indexModules(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ko')) out.set(moduleName(e.name), p);
    }
  };
  walk(dir);
  return out;
}

/**
 * The files to load for `wanted`, dependencies first, each once. Modules the index lacks are
 * taken as built into the kernel (a kernel built with CONFIG_VIRTIO_NET=y ships no virtio_net.ko);
 * a missing `wanted` module that `required` names is an error.
 */
export function loadOrder(index: ReadonlyMap<string, string>, wanted: readonly string[], required: readonly string[]): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string, chain: readonly string[]): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const file = index.get(name);
    if (file === undefined) {
      if (required.includes(name)) throw new TargetError(`module ${name} is not among the kernel's modules (needed by ${chain.join(' → ') || 'the guest'})`);
      return;
    }
    for (const dep of moduleDepends(fs.readFileSync(file))) visit(dep, [...chain, name]);
    order.push(file);
  };
  for (const w of wanted) visit(w, []);
  return order;
}
