/**
 * The command line as a user meets it: exit codes, messages that say what is wrong and what to
 * do, results streamed as JSON Lines.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sampleScript, sharedDir } from '../support/samples.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const BIN = path.join(ROOT, 'bin', 'ashmem-harness.js');

function cli(args: string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input, cwd: ROOT, timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('ashmem-harness CLI', function () {
  this.timeout(180_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('profiles: one id per line, then its description', () => {
    const r = cli(['profiles']);
    assert.equal(r.code, 0);
    const ids = r.out.split('\n').filter((l) => /^\S/.test(l));
    assert.ok(ids.includes('c-final') && ids.includes('ack-rust') && ids.includes('linux-memfd'), r.out);
  });

  it('predict: JSON Lines keyed by line, and what a drop_caches admits', () => {
    const r = cli(['predict', '--profile', 'c-final', '-'], 'open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared 0\nfill m0 0 8192 1\nunpin r0 0 0\ndrop_caches\ncheck m0 0 8192\n');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => l.i), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(lines[5]?.admits, { purged_ranges: [0, 1] });
    // Purged (zeros) or not (the pattern): the model does not pick one.
    assert.deepEqual(lines[6]?.oneOf, [{ i: 7, op: 'check', ret: 0, rle: [[1, 8192]] }, { i: 7, op: 'check', ret: 0, rle: [[0, 8192]] }]);
  });

  it('judge: exit 0 consistent, 1 diverged with the rule and section', () => {
    const ops = path.join(sharedDir(), 'real-driver-samples', '01-before-mmap.ops');
    const pre = path.join(sharedDir(), 'real-driver-samples', 'c-pre2019', '01-before-mmap.jsonl');
    const ok = cli(['judge', '--profile', 'c-pre2019', ops, pre]);
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.match(ok.out, /^consistent/);
    const bad = cli(['judge', '--profile', 'c-final', ops, pre]);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /diverged at line 11: status_null r0/);
    assert.match(bad.out, /§3\.6/);
  });

  it('a malformed script: exit 2, every bad line as FILE:LINE:COL', () => {
    const f = path.join(tmp, 'bad.ops');
    fs.writeFileSync(f, 'open r0\npin r0 zero 0\nfrob\n');
    const r = cli(['predict', '--profile', 'c-final', f]);
    assert.equal(r.code, 2);
    assert.match(r.err, /bad\.ops:2:8: expected a number/);
    assert.match(r.err, /bad\.ops:3:1: unknown op "frob"/);
  });

  it('a malformed results file, a missing file, an unknown profile, an unknown target: exit 2 and what to do', () => {
    const f = path.join(tmp, 'r.jsonl');
    fs.writeFileSync(f, '{"i":1,"op":"open","ret":0}\nnot json\n');
    const s = path.join(tmp, 's.ops');
    fs.writeFileSync(s, 'open r0\nclose r0\n');
    const a = cli(['judge', '--profile', 'c-final', s, f]);
    assert.equal(a.code, 2);
    assert.match(a.err, /r\.jsonl:2: not a JSON object/);
    const b = cli(['predict', '--profile', 'c-final', path.join(tmp, 'nope.ops')]);
    assert.equal(b.code, 2);
    assert.match(b.err, /cannot read .*nope\.ops \(ENOENT\)/);
    const c = cli(['predict', '--profile', 'c-finale', s]);
    assert.equal(c.code, 2);
    assert.match(c.err, /unknown profile "c-finale": run "ashmem-harness profiles"/);
    const d = cli(['exec', '--target', 'usb:1', s]);
    assert.equal(d.code, 2);
    assert.match(d.err, /unknown target "usb:1"/);
  });

  it('exec --target local: the hello line, then one result per op, also appended to --out', () => {
    const out = path.join(tmp, 'exec.jsonl');
    const r = cli(['exec', '--target', 'local', '--out', out, '-'], 'open r0\ntruncate r0 4096\nmmap m0 r0 4096 3 shared 0\nfill m0 0 4096 9\ncheck m0 0 4096\n');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok('hello' in (lines[0] as object));
    assert.deepEqual(lines[5], { i: 5, op: 'check', ret: 0, rle: [[9, 4096]] });
    assert.equal(fs.readFileSync(out, 'utf8'), r.out);
  });

  it('diff: finds and prints minimal scripts for the §3.6 check-order difference', () => {
    const r = cli(['diff', '--profile', 'c-pre2019', '--against', 'c-final', '--cases', '60', '--seed', '3']);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /§3\.6/);
    assert.match(r.out, /# \d+ distinguishing script\(s\)/);
  });

  it('run and conform on the local target write every report and exit 0', () => {
    const out = path.join(tmp, 'run');
    const r = cli(['run', '--target', 'local', '--cases', '20', '--out', out]);
    assert.equal(r.code, 0, r.out + r.err);
    for (const f of ['results.jsonl', 'raw.jsonl', 'report.json', 'junit.xml', 'report.html']) assert.ok(fs.existsSync(path.join(out, f)), f);
    assert.match(r.err, /profile linux-memfd/);
    const cout = path.join(tmp, 'conform');
    const c = cli(['conform', '--target', 'local', '--out', cout]);
    assert.equal(c.code, 0, c.out + c.err);
    const rows = fs.readFileSync(path.join(cout, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { status: string; reason?: string });
    // On a memfd-only machine ashmem scenarios are skipped, each with its reason, never passed silently.
    assert.ok(rows.every((x) => x.status !== 'skipped' || (x.reason ?? '').length > 0));
    assert.ok(rows.some((x) => x.status === 'skipped' && /needs \/dev\/ashmem/.test(x.reason ?? '')));
  });

  it('the sample scripts are valid input as they are', () => {
    const f = path.join(tmp, 'sample.ops');
    fs.writeFileSync(f, sampleScript('30-messy-pinning'));
    assert.equal(cli(['predict', '--profile', 'ack-c', f]).code, 0);
  });
});
