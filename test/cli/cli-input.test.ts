/**
 * Bad output folders and arguments at the command line (issue 11 §6): each is refused before
 * any target is touched, in one line naming what is wrong, exit 2; a second run into the same
 * --out follows the documented rule; an explicitly named adb server is never started.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { repositoryRoot } from '../../harness/targets/probe-binary.js';
import { AdbServer } from '../../harness/targets/adb/adb-server.js';
import { AdbServerError } from '../../harness/targets/adb/errors.js';
import { selectServers } from '../../harness/targets/adb/target-spec.js';
import { MAX_MODEL_WINDOW_BYTES } from '../../harness/check/window-limit.js';
import { OWN_ENTRIES } from '../../harness/out-folder.js';

const ROOT = repositoryRoot();
const BIN = path.join(ROOT, 'bin', 'ashmem-harness.js');
const SCRIPT = 'open r0\ntruncate r0 4096\nmmap m0 r0 4096 3 shared 0\nfill m0 0 4096 9\ncheck m0 0 4096\n';

interface Run { code: number; out: string; err: string; ms: number }

function cli(args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Run {
  const started = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input: options.input, cwd: ROOT, timeout: 120_000, env: options.env ?? process.env });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr, ms: Date.now() - started };
}

/** A usage error: exit 2, exactly one line on stderr (no stack), matching `what`. */
function assertOneLineUsage(r: Run, what: RegExp): void {
  assert.equal(r.code, 2, `exit ${r.code}: ${r.err}`);
  assert.match(r.err, /^ashmem-harness: [^\n]+\n$/, `not one line: ${JSON.stringify(r.err)}`);
  assert.match(r.err, what);
  assert.doesNotMatch(r.err, /\n\s+at /);
}

/** A port nothing listens on (free now). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

describe('CLI: output folders and arguments', function () {
  this.timeout(180_000);
  let tmp = '';
  let script = '';
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-input-'));
    script = path.join(tmp, 's.ops');
    fs.writeFileSync(script, SCRIPT);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('--out', () => {
    // A target that would fail loudly (an adb server nobody runs): the --out error must come first.
    const unreachable = ['--target', 'adb:x', '--adb-server', '127.0.0.2:9'];

    for (const verb of ['run', 'conform']) {
      it(`${verb}: at a file, below a file, or where nothing can be written: one line, exit 2, before any target`, () => {
        const file = path.join(tmp, `${verb}-file`);
        fs.writeFileSync(file, 'x');
        assertOneLineUsage(cli([verb, ...unreachable, '--out', file]), /--out .*-file is a file, not a folder/);
        assertOneLineUsage(cli([verb, ...unreachable, '--out', path.join(file, 'below')]), /-file is a file, so no folder can be made below it/);
        const r = cli([verb, ...unreachable, '--out', '/proc/ashmem-harness-out/x']);
        assertOneLineUsage(r, /--out \/proc\/ashmem-harness-out\/x: cannot write there \(E[A-Z]+\)/);
        assert.ok(r.ms < 30_000, `took ${r.ms} ms`);
      });
    }

    it('exec --out at a folder or below a file: one line, exit 2, before the target runs', () => {
      assertOneLineUsage(cli(['exec', '--target', 'local', '--out', tmp, script]), /is a folder; exec --out appends to a file/);
      const file = path.join(tmp, 'exec-file');
      fs.writeFileSync(file, 'x');
      const r = cli(['exec', '--target', 'local', '--out', path.join(file, 'r.jsonl'), script]);
      assertOneLineUsage(r, /exec-file is a file, so no folder can be made below it/);
      assert.equal(r.out, '', 'the probe ran before the --out check');
    });

    it('a second run into the same folder replaces the first run\'s files (results.jsonl, raw.jsonl, repro/) instead of appending', () => {
      const out = path.join(tmp, 'twice');
      // A first run that diverges (the wrong lineage for this memfd kernel) leaves repro folders.
      const first = cli(['run', '--target', 'local', '--profile', 'c-final', '--cases', '6', '--shrink-budget', '5', '--out', out]);
      assert.equal(first.code, 1, first.err);
      assert.ok(fs.readdirSync(path.join(out, 'repro')).length > 0);
      assert.deepEqual(fs.readdirSync(out).filter((e) => !OWN_ENTRIES.includes(e)), []);
      const second = cli(['run', '--target', 'local', '--cases', '4', '--seed', '2', '--out', out]);
      assert.equal(second.code, 0, second.err);
      // The same second run into a fresh folder: the files must be identical in length.
      const fresh = path.join(tmp, 'fresh');
      assert.equal(cli(['run', '--target', 'local', '--cases', '4', '--seed', '2', '--out', fresh]).code, 0);
      for (const f of ['results.jsonl', 'raw.jsonl']) {
        const lines = fs.readFileSync(path.join(out, f), 'utf8').trim().split('\n');
        const want = fs.readFileSync(path.join(fresh, f), 'utf8').trim().split('\n');
        assert.equal(lines.length, want.length, `${f} holds ${lines.length} lines after runs of 6 and 4 cases, ${want.length} after the 4 alone`);
      }
      assert.equal(fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').length, 4);
      assert.equal(fs.existsSync(path.join(out, 'repro')), false, 'the first run\'s repro folders survived');
      const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as { cases: unknown[] };
      assert.equal(report.cases.length, 4);
      // Everything run writes is on the list of files a later run replaces (else it would refuse the folder).
      assert.deepEqual(fs.readdirSync(out).filter((e) => !OWN_ENTRIES.includes(e)), []);
    });

    it('a folder holding other files is refused (nothing removed) unless --force, which leaves them alone', () => {
      const out = path.join(tmp, 'foreign');
      fs.mkdirSync(out);
      fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
      fs.writeFileSync(path.join(out, 'results.jsonl'), '{"stale":true}\n');
      const refused = cli(['conform', '--target', 'local', '--only', '^1\\.', '--out', out]);
      assertOneLineUsage(refused, /holds files this harness did not write \("notes\.txt"\).*--force/);
      assert.equal(fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8'), '{"stale":true}\n');
      const forced = cli(['conform', '--target', 'local', '--only', '^1\\.', '--force', '--out', out]);
      assert.equal(forced.code, 0, forced.err);
      assert.equal(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8'), 'mine');
      assert.doesNotMatch(fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8'), /stale/);
      assert.deepEqual(fs.readdirSync(out).filter((e) => !OWN_ENTRIES.includes(e)), ['notes.txt']);
    });
  });

  describe('arguments', () => {
    it('exec with two targets: a usage error naming them', () => {
      assertOneLineUsage(cli(['exec', '--target', 'local', '--target', 'local:x86_64', script]), /exec runs on one target, got 2 \(--target local --target local:x86_64\)/);
    });

    it('the same target twice: refused', () => {
      assertOneLineUsage(cli(['run', '--target', 'local', '--target', 'local', '--out', path.join(tmp, 'dup')]), /--target local is given twice/);
      assert.equal(fs.existsSync(path.join(tmp, 'dup')), false, 'the --out folder was made before the usage error');
    });

    it('conform --only: a bad regular expression and a pattern matching nothing are usage errors', () => {
      assertOneLineUsage(cli(['conform', '--only', '(', '--out', path.join(tmp, 'c1')]), /--only \( is not a valid regular expression/);
      assertOneLineUsage(cli(['conform', '--only', 'nomatch', '--out', path.join(tmp, 'c2')]), /no scenario name matches --only nomatch/);
    });

    it('--cases 0 or empty, --length 0: usage errors (CI must not go green having run nothing)', () => {
      for (const args of [['run', '--cases', '0'], ['run', '--cases', ''], ['run', '--cases', ' '], ['run', '--length', '0'], ['diff', '--profile', 'c-final', '--against', 'ack-c', '--cases', '0']]) {
        const r = cli([...args, '--out', path.join(tmp, 'never')]);
        assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}`);
        assert.match(r.err, /must be a whole number of at least 1/);
      }
      assert.equal(fs.existsSync(path.join(tmp, 'never')), false);
    });

    it('--page-size must be a power of two from 4096 to 65536; --kernel a release; valid ones still work', () => {
      for (const v of ['0', '3000', '4097', '131072', '']) {
        const r = cli(['predict', '--profile', 'c-final', '--page-size', v, script]);
        assert.equal(r.code, 2, `--page-size ${v}`);
        assert.match(r.err, /page size must be a power of two from 4096 to 65536/);
      }
      const k = cli(['predict', '--profile', 'c-final', '--kernel', 'banana', script]);
      assert.equal(k.code, 2);
      assert.match(k.err, /kernel must be a release like 6\.1\.57/);
      const ok = cli(['predict', '--profile', 'c-final', '--page-size', '16384', '--kernel', '5.10.0-android12-9', '-'], { input: 'open r0\nset_size r0 16384\nmmap m0 r0 16384 3 shared 0\nfill m0 0 16384 2\ncheck m0 0 16384\n' });
      assert.equal(ok.code, 0, ok.err);
      assert.match(ok.out, /"rle":\[\[2,16384\]\]/);
    });

    it('--version prints the package version', () => {
      const r = cli(['--version']);
      assert.equal(r.code, 0);
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
      assert.equal(r.out, `${pkg.version}\n`);
    });
  });

  describe('--adb-server given explicitly', () => {
    it('is used, never started: one line, exit 2, adb not run, nothing left listening', async () => {
      const port = await freePort();
      const fake = path.join(tmp, 'fake-adb');
      fs.mkdirSync(fake, { recursive: true });
      const marker = path.join(tmp, 'adb-was-run');
      fs.writeFileSync(path.join(fake, 'adb'), `#!/bin/sh\necho "$@" >> '${marker}'\nexit 1\n`);
      fs.chmodSync(path.join(fake, 'adb'), 0o755);
      const r = cli(['exec', '--target', 'adb:all', '--adb-server', `127.0.0.1:${port}`, script], { env: { ...process.env, PATH: `${fake}${path.delimiter}${process.env['PATH'] ?? ''}` } });
      assertOneLineUsage(r, new RegExp(`no adb server answers at 127\\.0\\.0\\.1:${port}, and a server given explicitly is used, never started`));
      assert.equal(fs.existsSync(marker), false, `adb was run: ${fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : ''}`);
      assert.equal(await listening(port), false);
    });

    it('selectServers: only the default server may be started', async () => {
      assert.deepEqual(selectServers({ servers: ['127.0.0.1:5039', 'lab:7000'] }).map((s) => s.mayStart), [false, false]);
      assert.deepEqual(selectServers({}).map((s) => s.mayStart), [true]);
      const port = await freePort();
      const server = new AdbServer({ port, bin: '/nonexistent/adb', mayStart: false });
      await assert.rejects(server.ensureRunning(), (e: unknown) => e instanceof AdbServerError && /never started/.test(e.message));
    });
  });

  describe('huge windows in the model', () => {
    for (const [verb, op] of [['predict', 'fill m0 0 1099511627776 3'], ['predict', 'check m0 0 1099511627776'], ['judge', 'check m0 0 1099511627776']] as const) {
      it(`${verb}: ${op.split(' ')[0]} of 2^40 bytes is refused at once with the limit`, () => {
        const f = path.join(tmp, `huge-${verb}-${op.split(' ')[0]}.ops`);
        fs.writeFileSync(f, `open r0\nset_size r0 1099511627776\nmmap m0 r0 1099511627776 3 shared 0\n${op}\n`);
        const results = path.join(tmp, 'huge.jsonl');
        fs.writeFileSync(results, '{"i":1,"op":"open","ret":0}\n');
        const r = cli(verb === 'predict' ? ['predict', '--profile', 'c-final', f] : ['judge', '--profile', 'c-final', f, results]);
        assertOneLineUsage(r, new RegExp(`line 4: ${op.split(' ')[0]} of 1099511627776 bytes is over the model's limit of ${MAX_MODEL_WINDOW_BYTES} bytes`));
        assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
      });
    }

    it('a window of exactly the limit is still modelled', () => {
      const n = MAX_MODEL_WINDOW_BYTES;
      const r = cli(['predict', '--profile', 'c-final', '-'], { input: `open r0\nset_size r0 ${n}\nmmap m0 r0 ${n} 3 shared 0\nfill m0 0 ${n} 3\ncheck m0 0 ${n}\n` });
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`"rle":\\[\\[3,${n}\\]\\]`));
    });
  });

  describe('parse errors', () => {
    it('escape control bytes (no terminal escape sequence reaches stderr)', () => {
      const r = cli(['predict', '--profile', 'c-final', '-'], { input: 'open r0\n\x1b[2J\x07frob r0\npin r0 \x1b]0;title\x07 0\n' });
      assert.equal(r.code, 2);
      const control = [...r.err].filter((c) => c !== '\n' && (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f));
      assert.deepEqual(control, [], JSON.stringify(r.err));
      assert.match(r.err, /<stdin>:2:1: unknown op "\\x1b\[2J\\x07frob"/);
      assert.match(r.err, /<stdin>:3:8: .*\\x1b\]0;title\\x07/);
    });

    it('cap the length of a token shown', () => {
      const long = 'x'.repeat(100_000);
      const r = cli(['predict', '--profile', 'c-final', '-'], { input: `open r0\npin r0 ${long} 0\n` });
      assert.equal(r.code, 2);
      assert.ok(r.err.length < 500, `${r.err.length} characters of error`);
      assert.match(r.err, /<stdin>:2:8: expected a number .*x{59}\.\.\.\(\d+ characters\)/);
    });

    it('cap the number of error lines: the first 20, then how many more', () => {
      const r = cli(['predict', '--profile', 'c-final', '-'], { input: Array.from({ length: 500 }, (_, i) => `frob${i}`).join('\n') + '\n' });
      assert.equal(r.code, 2);
      const lines = r.err.trim().split('\n');
      assert.equal(lines.filter((l) => /<stdin>:\d+:1: unknown op/.test(l)).length, 20);
      assert.match(r.err, /<stdin>:20:1: unknown op "frob19"/);
      assert.match(r.err, /\.\.\. and 480 more error line\(s\)/);
      assert.ok(lines.length <= 23, `${lines.length} lines`);
    });
  });
});
