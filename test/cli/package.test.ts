/**
 * The published package: `npm pack` (prepack compiles dist/), the tarball unpacked into an empty
 * folder and its production dependencies installed as a user's install would (`npm ci
 * --omit=dev`, from npm's cache when it holds them), then the CLI from the compiled JavaScript:
 * `profiles`, `predict` (the same lines as the checkout's), and `exec --target local` with the
 * probe built by the package's own scripts/build-probe (skipped, with the reason, without a C
 * compiler).
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repositoryRoot } from '../../harness/targets/probe-binary.js';

const ROOT = repositoryRoot();
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const SCRIPT = 'open r0\ntruncate r0 8192\nmmap m0 r0 8192 3 shared 0\nfill m0 0 4096 7\ncheck m0 0 8192\npin r0 0 0\n';

function run(cmd: string, args: readonly string[], cwd: string, timeout: number, input?: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, ...(input !== undefined ? { input } : {}), env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  if (r.error !== undefined) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return r;
}

describe('the packed package (npm pack, installed without devDependencies)', function () {
  this.timeout(300_000);
  let tmp = '';
  let pkg = '';
  let bin = '';

  before(function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ashmem-pack-'));
    const pack = run(NPM, ['pack', '--pack-destination', tmp, '--silent'], ROOT, 240_000);
    assert.equal(pack.status, 0, pack.stderr);
    const tarball = path.join(tmp, pack.stdout.trim().split('\n').pop() ?? '');
    assert.ok(fs.existsSync(tarball), `npm pack wrote no ${tarball}`);
    const unpacked = path.join(tmp, 'install');
    fs.mkdirSync(unpacked);
    const tar = run('tar', ['xzf', tarball, '-C', unpacked], tmp, 60_000);
    assert.equal(tar.status, 0, tar.stderr);
    pkg = path.join(unpacked, 'package');
    // The checkout's lock pins the dependencies; --omit=dev installs what a user gets.
    fs.copyFileSync(path.join(ROOT, 'package-lock.json'), path.join(pkg, 'package-lock.json'));
    const ci = run(NPM, ['ci', '--omit=dev', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], pkg, 240_000);
    assert.equal(ci.status, 0, ci.stderr);
    bin = path.join(pkg, 'bin', 'ashmem-harness.js');
  });

  after(() => {
    if (tmp !== '') fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('holds the compiled CLI and what it reads at run time, and no TypeScript sources or devDependencies', () => {
    for (const f of ['dist/harness/cli.js', 'dist/harness/package-root.js', 'apk-fixtures/probe/main.c', 'apk-fixtures/probe/probe.h', 'scripts/build-probe', 'conformance/scenarios', 'README.md']) {
      assert.ok(fs.existsSync(path.join(pkg, f)), `${f} is not in the package`);
    }
    assert.equal(fs.existsSync(path.join(pkg, 'harness')), false, 'the package ships harness/*.ts');
    assert.equal(fs.existsSync(path.join(pkg, 'test')), false, 'the package ships the tests');
    for (const dev of ['tsx', 'typescript', 'mocha']) assert.equal(fs.existsSync(path.join(pkg, 'node_modules', dev)), false, `${dev} was installed`);
  });

  it('profiles runs from the compiled JavaScript', () => {
    const r = run(process.execPath, [bin, 'profiles'], tmp, 60_000);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^linux-memfd$/m);
    assert.match(r.stdout, /^c-orig$/m);
  });

  it('predict prints the same lines as the checkout\'s CLI', () => {
    const installed = run(process.execPath, [bin, 'predict', '--profile', 'linux-memfd', '-'], tmp, 60_000, SCRIPT);
    assert.equal(installed.status, 0, installed.stderr);
    const checkout = run(process.execPath, [path.join(ROOT, 'bin', 'ashmem-harness.js'), 'predict', '--profile', 'linux-memfd', '-'], tmp, 60_000, SCRIPT);
    assert.equal(checkout.status, 0, checkout.stderr);
    assert.equal(installed.stdout.trim().split('\n').length, 6);
    assert.equal(installed.stdout, checkout.stdout);
  });

  it('exec --target local runs the probe built by the package\'s scripts/build-probe', function () {
    const build = run(path.join(pkg, 'scripts', 'build-probe'), ['host'], pkg, 120_000);
    if (build.status !== 0) {
      process.stderr.write(`\n  skipped exec from the package: scripts/build-probe host failed (no C compiler?): ${build.stderr.trim().split('\n').pop() ?? ''}\n`);
      this.skip();
    }
    assert.ok(fs.existsSync(path.join(pkg, 'apk-fixtures', 'probe', 'build', 'host', 'ashmem-probe')));
    const r = run(process.execPath, [bin, 'exec', '--target', 'local', '-'], tmp, 60_000, SCRIPT);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal((lines[0]?.['hello'] as Record<string, unknown>)['abi'], 'host');
    assert.deepEqual(lines.slice(1).map((l) => l['op']), ['open', 'truncate', 'mmap', 'fill', 'check', 'pin']);
    assert.deepEqual(lines[5], { i: 5, op: 'check', ret: 0, rle: [[7, 4096], [0, 4096]] });
    // conform finds the package's own conformance/scenarios from dist/.
    const scenarios = fs.readdirSync(path.join(pkg, 'conformance', 'scenarios')).filter((f) => /^1\..*\.ops$/.test(f)).length;
    assert.ok(scenarios > 0);
    const c = run(process.execPath, [bin, 'conform', '--target', 'local', '--only', '^1\\.', '--out', path.join(tmp, 'conform')], tmp, 120_000);
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stdout, new RegExp(`^${scenarios} scenarios x 1 target\\(s\\)`, 'm'));
  });
});
