/**
 * `npm run bench`: the speed figures of the issues, printed, never asserted (timed tests would
 * flake on a shared machine). Each figure is the best of a few runs.
 *   model: N ops/s                                  (target >= 1,000,000)
 *   local: N ops/s (probe alone: M ops/s)           (target N >= M/2)
 *   diff: K scripts in T s
 *   adb-loopback: N cases/s, R round trips/case     (target R <= 1 after set-up)
 *   adb-loopback-vm: the same through adb to a vm guest's real driver
 *   vm boot: S s (tcg|kvm), vm: N cases/s, vm conform: S s   (targets <= 5 s, >= 20, <= 30 s)
 *   vm arm64 boot: S s, vm arm64: N cases/s
 * `npm run bench -- vm` (or model, local, diff, adb, adb-vm, vm-arm64) prints only those.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { diffProfiles } from '../harness/check/diff.js';
import { environmentFromHello } from '../harness/check/environment.js';
import { JudgeSession } from '../harness/check/judge.js';
import { QUIET } from '../harness/check/worlds.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../harness/model/profile.js';
import { defaultSettings } from '../harness/ops/generate.js';
import { parseScript } from '../harness/ops/parse.js';
import { LocalTarget } from '../harness/targets/local-target.js';
import { benchModel } from './model.js';

const only = new Set(process.argv.slice(2));
const want = (name: string): boolean => only.size === 0 || only.has(name);

/** A large script for a memfd target: regions, fills, checks, reads, pins (ENOTTY there). */
export function largeScript(ops: number): string {
  const lines: string[] = [];
  const regions = 16;
  for (let r = 0; r < regions; r++) lines.push(`open r${r}`, `truncate r${r} 65536`, `mmap m${r} r${r} 65536 3 shared 0`);
  for (let i = 0; lines.length < ops; i++) {
    const r = i % regions;
    const page = (i * 7) % 16;
    switch (i % 6) {
      case 0: lines.push(`fill m${r} ${page * 4096} 4096 ${i % 250}`); break;
      case 1: lines.push(`check m${r} ${page * 4096} 4096`); break;
      case 2: lines.push(`unpin r${r} ${page * 4096} 4096`); break;
      case 3: lines.push(`pin r${r} ${page * 4096} 4096`); break;
      case 4: lines.push(`lseek r${r} ${page * 4096} set`); break;
      default: lines.push(`read r${r} 512`);
    }
  }
  return lines.join('\n') + '\n';
}

async function benchLocal(): Promise<string> {
  const target = new LocalTarget();
  const hello = (await target.facts()).hello;
  const env = environmentFromHello(hello);
  const text = largeScript(20_000);
  const script = parseScript(text);
  const profile = profileById('linux-memfd');
  const cmd = target.command();
  let harness = 0;
  let alone = 0;
  for (let k = 0; k < 3; k++) {
    const t0 = process.hrtime.bigint();
    // As `run` does it: the judge takes each result as the probe streams it.
    const session = new JudgeSession(script, profile, env, { ...QUIET, otherUsers: false });
    await target.exec(text, (r) => session.push(r));
    const v = session.finish();
    const t1 = process.hrtime.bigint();
    if (v.kind !== 'consistent') throw new Error(`bench script did not judge consistent: ${JSON.stringify(v).slice(0, 300)}`);
    const p = spawnSync(cmd.command, [...cmd.args], { input: text, maxBuffer: 1 << 30 });
    const t2 = process.hrtime.bigint();
    if (p.status !== 0) throw new Error(`probe alone failed: ${p.stderr.toString().slice(0, 300)}`);
    harness = Math.max(harness, script.ops.length / (Number(t1 - t0) / 1e9));
    alone = Math.max(alone, script.ops.length / (Number(t2 - t1) / 1e9));
  }
  await target.close();
  return `local: ${Math.round(harness)} ops/s (probe alone: ${Math.round(alone)} ops/s)`;
}

async function benchDiff(): Promise<string> {
  const started = Date.now();
  const found = await diffProfiles(profileById('c-pre2019'), profileById('ack-c'), DEFAULT_ENVIRONMENT, defaultSettings(4096), 300, 1);
  return `diff: ${found.length} scripts in ${((Date.now() - started) / 1000).toFixed(1)} s (c-pre2019 vs ack-c, 300 cases)`;
}

async function benchAdb(): Promise<string> {
  const { benchAdbLoopback, formatAdbLoopback } = await import('../test/support/adb-loopback-bench.js');
  const script = largeScript(60);
  const stdin = await benchAdbLoopback({ cases: 40, script, mode: 'stdin' });
  const agent = await benchAdbLoopback({ cases: 40, script, mode: 'agent' });
  return `${formatAdbLoopback(stdin)}\n${formatAdbLoopback(agent)}`;
}

async function benchAdbVm(): Promise<string> {
  const { benchAdbLoopback, formatAdbLoopback } = await import('../test/support/adb-loopback-bench.js');
  // The guest's probe meets ashmem: regions are sized with ASHMEM_SET_SIZE there.
  const script = largeScript(60).replace(/^truncate /gm, 'set_size ');
  const stdin = await benchAdbLoopback({ cases: 40, script, mode: 'stdin', backend: 'vm' });
  const agent = await benchAdbLoopback({ cases: 40, script, mode: 'agent', backend: 'vm' });
  return `${formatAdbLoopback(stdin)}\n${formatAdbLoopback(agent)}`;
}

async function main(): Promise<void> {
  process.stdout.write(`# ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, node ${process.version}\n`);
  if (want('model')) {
    let best = 0;
    for (let k = 0; k < 3; k++) best = Math.max(best, benchModel().opsPerSecond);
    process.stdout.write(`model: ${best} ops/s\n`);
  }
  if (want('local')) process.stdout.write(`${await benchLocal()}\n`);
  if (want('diff')) process.stdout.write(`${await benchDiff()}\n`);
  if (want('adb')) process.stdout.write(`${await benchAdb()}\n`);
  if (want('adb-vm')) process.stdout.write(`${await benchAdbVm()}\n`);
  const arches = [...(want('vm') ? ['x86_64' as const] : []), ...(want('vm-arm64') ? ['arm64' as const] : [])];
  if (arches.length > 0) {
    const { benchVm } = await import('./vm.js');
    for (const line of await benchVm(arches)) process.stdout.write(`${line}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
