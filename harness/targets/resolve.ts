/**
 * `--target` values to targets: `local`, `local:ABI`, `vm`, `vm:ARCH[/ABI]`, `adb:SERIAL`,
 * `adb:SERIAL@HOST:PORT`, `adb:all`. Several `--target` flags (and `adb:all`) give several targets.
 */
import { AdbTarget } from './adb/adb-target.js';
import { findDevices, parseAdbTargetSpec, selectServers } from './adb/target-spec.js';
import { LocalTarget, type LocalBackend } from './local-target.js';
import { TargetError, type Target } from './target.js';
import { parseVmTargetSpec } from './vm/vm-spec.js';
import { VmTarget, type VmOptions } from './vm/vm-target.js';

/** How targets are reached. */
export interface ResolveOptions {
  /** `--adb-server HOST:PORT` values. */
  readonly adbServers?: readonly string[];
  /** Probe backend on local targets (`--backend`). */
  readonly backend?: LocalBackend;
  /** Leave pushed files on devices. */
  readonly keep?: boolean;
  /** Serve cases through the probe's agent (many cases per connection). */
  readonly agent?: boolean;
  /** How agent connections reach a device: adbkit's direct TCP service (default) or `adb forward`. */
  readonly agentTransport?: 'direct' | 'forward';
  /** Device folder for the probe (default /data/local/tmp). */
  readonly deviceDir?: string;
  /** Try `adb root` on debuggable images. */
  readonly tryRoot?: boolean;
  /** How vm targets boot (`--vm-*`). */
  readonly vm?: VmOptions;
}

/** Opens every target the specs name. */
export async function resolveTargets(specs: readonly string[], opts: ResolveOptions = {}): Promise<Target[]> {
  const out: Target[] = [];
  for (const spec of specs) {
    if (spec === 'local' || spec.startsWith('local:')) {
      out.push(LocalTarget.fromId(spec, opts.backend !== undefined ? { backend: opts.backend } : {}));
    } else if (spec === 'vm' || spec.startsWith('vm:')) {
      for (const v of parseVmTargetSpec(spec)) out.push(new VmTarget(v, opts.vm ?? {}));
    } else if (spec.startsWith('adb:')) {
      const servers = selectServers(opts.adbServers !== undefined ? { servers: opts.adbServers } : {});
      for (const d of await findDevices(parseAdbTargetSpec(spec), servers)) {
        out.push(new AdbTarget({
          server: d.server,
          serial: d.serial,
          id: d.id,
          mode: opts.agent === true ? 'agent' : 'stdin',
          keep: opts.keep === true,
          tryRoot: opts.tryRoot === true,
          ...(opts.agentTransport !== undefined ? { agentTransport: opts.agentTransport } : {}),
          ...(opts.deviceDir !== undefined ? { deviceDir: opts.deviceDir } : {}),
          ...(opts.backend !== undefined && opts.backend !== 'auto' ? { backend: opts.backend } : {}),
        }));
      }
    } else {
      throw new TargetError(`unknown target ${JSON.stringify(spec)}: use local, local:ABI, vm, vm:ARCH[/ABI], adb:SERIAL or adb:all`);
    }
  }
  if (out.length === 0) throw new TargetError('no target: pass --target local or --target adb:SERIAL');
  return out;
}
