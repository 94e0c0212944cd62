/**
 * `diff`, model against model: the differences the spec names between lineages are found, and
 * every script found is 1-minimal (no single op can go and still show the same difference).
 */
import assert from 'node:assert/strict';
import { diffProfiles, type Distinction } from '../../harness/check/diff.js';
import { judge } from '../../harness/check/judge.js';
import { canonicalTrace, DIFF_WORLDS } from '../../harness/check/diff.js';
import { DEFAULT_ENVIRONMENT, profileById, type Profile } from '../../harness/model/profile.js';
import { defaultSettings } from '../../harness/ops/generate.js';
import { ScriptErrors } from '../../harness/ops/errors.js';
import { parseScript } from '../../harness/ops/parse.js';
import { printScript } from '../../harness/ops/print.js';
import type { Op } from '../../harness/ops/ast.js';

const ENV = DEFAULT_ENVIRONMENT;

async function diff(a: string, b: string, cases: number, seed: number): Promise<Distinction[]> {
  return diffProfiles(profileById(a), profileById(b), ENV, defaultSettings(ENV.pageSize), cases, seed);
}

/** The rule a script shows between two lineages, or undefined (the same check the diff makes). */
function shows(ops: readonly Op[], a: Profile, b: Profile): string | undefined {
  const opts = { ...DIFF_WORLDS, otherUsers: false };
  const va = judge({ ops }, canonicalTrace(ops, a, ENV), b, ENV, opts);
  if (va.kind === 'diverged') return `a-not-b|${va.divergence.op.split(' ')[0] ?? ''}|${va.divergence.rule.replace(/-?\d+/g, 'N')}`;
  const vb = judge({ ops }, canonicalTrace(ops, b, ENV), a, ENV, opts);
  if (vb.kind === 'diverged') return `b-not-a|${vb.divergence.op.split(' ')[0] ?? ''}|${vb.divergence.rule.replace(/-?\d+/g, 'N')}`;
  return undefined;
}

function assertMinimal(d: Distinction, a: string, b: string): void {
  const pa = profileById(a);
  const pb = profileById(b);
  const ops = parseScript(d.text).ops;
  const kind = shows(ops, pa, pb);
  assert.ok(kind !== undefined, `the script must show a difference:\n${d.text}`);
  for (let i = 0; i < ops.length; i++) {
    let fewer: readonly Op[];
    try {
      fewer = parseScript(printScript([...ops.slice(0, i), ...ops.slice(i + 1)])).ops;
    } catch (e) {
      if (e instanceof ScriptErrors) continue; // without op i the script is not valid
      throw e;
    }
    assert.notEqual(shows(fewer, pa, pb), kind, `op ${i + 1} of\n${d.text}can go: not minimal`);
  }
}

describe('diff: model against model', function () {
  this.timeout(300_000);

  it('C vs Rust: unknown ioctl ENOTTY vs EINVAL (§1.4) and the pages-based shrinker stop (§5.2), each 1-minimal', async () => {
    const found = await diff('c-final', 'ack-rust', 200, 42);
    // The unknown-number distinction: ENOTTY against EINVAL (generated raw ioctls also reach GET_FILE_ID's, §3.8).
    const ioctl = found.find((d) => d.divergence.op.startsWith('ioctl') && /ENOTTY/.test(d.divergence.rule) && /EINVAL/.test(d.divergence.rule));
    assert.ok(ioctl, found.map((d) => d.divergence.rule).join('\n'));
    assert.equal(ioctl.ops, 2); // open, then the unknown command
    const shrinker = found.find((d) => /§5\.2/.test(d.divergence.section) && d.text.includes('drop_caches'));
    assert.ok(shrinker, `no shrinker-unit difference in:\n${found.map((d) => `${d.divergence.rule} (${d.divergence.section})`).join('\n')}`);
    for (const d of [ioctl, shrinker]) assertMinimal(d, 'c-final', 'ack-rust');
  });

  it('pre-2019 vs 2019: EINVAL before EFAULT (§3.6), the mmap length check (§3.5), ESPIPE (§3.9)', async () => {
    const found = await diff('c-pre2019', 'c-final', 150, 7);
    const rules = found.map((d) => `${d.divergence.op} | ${d.divergence.rule} | ${d.divergence.section}`).join('\n');
    const order = found.find((d) => /_null/.test(d.divergence.op) && /EFAULT/.test(d.divergence.rule));
    const length = found.find((d) => d.divergence.op.startsWith('mmap') && /EINVAL/.test(d.divergence.rule));
    const seek = found.find((d) => d.divergence.op.startsWith('lseek') && /ESPIPE/.test(d.divergence.rule));
    assert.ok(order && length && seek, rules);
    for (const d of [order, length, seek]) assertMinimal(d, 'c-pre2019', 'c-final');
  });

  it('a driver that never purges (Rust with pinning stubbed out) is told apart by a purge, once the argument checks are peeled off', async () => {
    const found = await diff('ack-rust', 'ack-rust-stub', 150, 5);
    const purge = found.find((d) => d.divergence.op.startsWith('purge_all') || (/zeros|purged/.test(d.divergence.rule) && d.text.includes('drop_caches')));
    assert.ok(purge, found.map((d) => d.divergence.rule).join('\n'));
    assertMinimal(purge, 'ack-rust', 'ack-rust-stub');
  });

  it('the same seed finds the same scripts', async () => {
    const one = await diff('c-final', 'ack-c', 60, 3);
    const two = await diff('c-final', 'ack-c', 60, 3);
    assert.deepEqual(one.map((d) => d.text), two.map((d) => d.text));
    assert.ok(one.length > 0); // GET_FILE_ID (§3.8)
  });

  it('a lineage against itself: nothing found', async () => {
    assert.deepEqual(await diff('ack-c', 'ack-c', 40, 9), []);
  });
});
