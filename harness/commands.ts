/**
 * The verbs that reach a target: exec, run, conform. Kept apart from cli.ts so that the
 * model-only verbs load without the adb stack.
 */
import { Option, type Command } from 'commander';
import { JsonlSink, readScript } from './io.js';
import type { ResolveOptions } from './targets/resolve.js';
import type { Target } from './targets/target.js';
import type { OpResult } from './ops/result.js';

/** Target options shared by exec, run and conform. */
export function targetOptions(cmd: Command): Command {
  return cmd
    .option('--target <spec...>', 'local, local:ABI (arm64-v8a, armeabi-v7a, x86_64, x86), adb:SERIAL, adb:SERIAL@HOST:PORT or adb:all', ['local'])
    .option('--adb-server <host:port...>', 'adb server(s) to use (device labs, STF); default the local one')
    .addOption(new Option('--backend <b>', 'probe backend on local targets').choices(['auto', 'ashmem', 'memfd']))
    .option('--agent', 'serve cases through the probe agent over adb forward (many cases per connection)')
    .option('--keep', 'leave the pushed probe on devices')
    .option('--try-root', 'try "adb root" on debuggable images (PURGE_ALL_CACHES and drop_caches need root)');
}

interface TargetFlags { target: string[]; adbServer?: string[]; backend?: 'auto' | 'ashmem' | 'memfd'; agent?: boolean; keep?: boolean; tryRoot?: boolean }

/** Resolve options from flags. */
export function resolveOptionsFrom(f: TargetFlags): ResolveOptions {
  return {
    ...(f.adbServer !== undefined ? { adbServers: f.adbServer } : {}),
    ...(f.backend !== undefined ? { backend: f.backend } : {}),
    agent: f.agent === true,
    keep: f.keep === true,
    tryRoot: f.tryRoot === true,
  };
}

/** Opens targets; the adb stack is loaded only when a command needs a target. */
export async function openTargets(flags: TargetFlags): Promise<Target[]> {
  const { resolveTargets } = await import('./targets/resolve.js');
  return resolveTargets(flags.target, resolveOptionsFrom(flags));
}

/** Adds exec (and, as they exist, run and conform) to the program. */
export function registerTargetCommands(p: Command): void {
  targetOptions(p.command('exec'))
    .description("run a script on a target in one round trip; the target's real results as JSON Lines (the hello line first)")
    .argument('<script>', 'op script file, or - for standard input')
    .option('--out <file>', 'also append the lines to this file as they arrive')
    .action(async (file: string, flags: TargetFlags & { out?: string }) => {
      const { text } = readScript(file); // fail on a bad script before touching a device
      const targets = await openTargets(flags);
      if (targets.length !== 1) throw new Error(`exec runs on one target; ${flags.target.join(' ')} names ${targets.length}`);
      const target = targets[0] as (typeof targets)[0];
      const sink = flags.out === undefined ? undefined : new JsonlSink(flags.out);
      const emit = (v: unknown): void => {
        process.stdout.write(JSON.stringify(v) + '\n');
        sink?.write(v);
      };
      try {
        emit({ hello: (await target.facts()).hello });
        const outcome = await target.exec(text, (r: OpResult) => emit(r));
        if (outcome.exit.signal !== null) process.stderr.write(`ashmem-harness: the probe was killed by ${outcome.exit.signal} (see the kernel log; §12 SMAP note)\n`);
      } finally {
        sink?.close();
        await target.close();
      }
    });
}
