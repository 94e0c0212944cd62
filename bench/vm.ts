/**
 * The vm target's figures (issue 9 §6, issue 10 §1): boot to the first result (the cached
 * fresh-boot snapshot, and a cold boot for comparison), cases per second through the guest's agent
 * with each case judged as `run` judges it, and the whole conformance suite with its boot.
 */
import { spawnSync } from 'node:child_process';
import { environmentFromHello } from '../harness/check/environment.js';
import { JudgeSession } from '../harness/check/judge.js';
import { QUIET } from '../harness/check/worlds.js';
import { profileById } from '../harness/model/profile.js';
import { generateCases, settingsForTarget } from '../harness/ops/generate.js';
import { parseScript } from '../harness/ops/parse.js';
import { repositoryRoot } from '../harness/targets/probe-binary.js';
import { parseVmTargetSpec } from '../harness/targets/vm/vm-spec.js';
import { VmTarget } from '../harness/targets/vm/vm-target.js';

/** Seconds from a new target to its first result. */
async function bootToFirstResult(spec: string, coldBoots: boolean): Promise<{ seconds: number; accel: string; target: VmTarget }> {
  const [s] = parseVmTargetSpec(spec);
  if (s === undefined) throw new Error(`no vm target ${spec}`);
  const target = new VmTarget(s, { coldBoots });
  const t0 = Date.now();
  await target.exec('open r0\n');
  const seconds = (Date.now() - t0) / 1000;
  return { seconds, accel: (await target.facts()).vm?.accel ?? '?', target };
}

/** Generated cases through one guest's agent, each judged as it streams. */
async function casesPerSecond(target: VmTarget, cases: number): Promise<number> {
  const facts = await target.facts();
  const env = environmentFromHello(facts.hello);
  const profile = profileById('c-final');
  const texts = generateCases(settingsForTarget({ pageSize: env.pageSize, root: env.root, memfd: false, ioctlEmulation: env.ioctlEmulation }, 30), cases, 1)
    .filter((t) => !/drop_caches|pressure/.test(t)); // those restore a fresh guest: timed by the boot figure
  const t0 = Date.now();
  for (const text of texts) {
    const session = new JudgeSession(parseScript(text), profile, env, { ...QUIET, otherUsers: false });
    await target.exec(text, (r) => session.push(r));
    const v = session.finish();
    if (v.kind === 'diverged') throw new Error(`a bench case diverged on ${target.id}: ${JSON.stringify(v.divergence).slice(0, 300)}`);
  }
  return texts.length / ((Date.now() - t0) / 1000);
}

/** The vm lines of `npm run bench`. */
export async function benchVm(arches: readonly ('x86_64' | 'arm64')[]): Promise<string[]> {
  const lines: string[] = [];
  for (const arch of arches) {
    const label = arch === 'x86_64' ? 'vm' : 'vm arm64';
    const cold = await bootToFirstResult(`vm:${arch}`, true);
    await cold.target.close();
    const warm = await bootToFirstResult(`vm:${arch}`, false);
    lines.push(`${label} boot: ${warm.seconds.toFixed(1)} s (${warm.accel}, from the fresh-boot snapshot; a cold boot: ${cold.seconds.toFixed(1)} s)`);
    const rate = await casesPerSecond(warm.target, 200);
    await warm.target.close();
    lines.push(`${label}: ${rate.toFixed(1)} cases/s (agent mode, each case judged)`);
    if (arch === 'x86_64') {
      const t0 = Date.now();
      const r = spawnSync(process.execPath, ['bin/ashmem-harness.js', 'conform', '--target', 'vm', '--force', '--out', 'reports/bench-vm-conform'], { cwd: repositoryRoot(), encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`vm conform failed (${r.status}): ${r.stderr.slice(-500)}`);
      const summary = /(\d+) scenarios x 1 target\(s\): (\d+) passed/.exec(r.stdout + r.stderr);
      lines.push(`vm conform: ${((Date.now() - t0) / 1000).toFixed(1)} s (${summary?.[2] ?? '?'} of ${summary?.[1] ?? '?'} scenarios passed, boot included)`);
    }
  }
  return lines;
}
