/**
 * The adb target's pure parts: target specs, server addresses, exit statuses, the facts
 * command's output, and how a case's merged shell output is split. No adb needed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { parseServerAddress } from '../../harness/targets/adb/adb-server.js';
import { factsCommand, parseFactsOutput } from '../../harness/targets/adb/device-facts.js';
import { AdbCommandError, AdbError } from '../../harness/targets/adb/errors.js';
import { CaseOutput, caseCommand, exitFromStatus } from '../../harness/targets/adb/probe-command.js';
import { opsInScript } from '../../harness/targets/adb/root.js';
import { shQuote } from '../../harness/targets/adb/shell-service.js';
import { parseAdbTargetSpec } from '../../harness/targets/adb/target-spec.js';

describe('adb target: parsing', function () {
  it('parses adb target specs', function () {
    assert.deepEqual(parseAdbTargetSpec('adb:all'), { kind: 'all' });
    assert.deepEqual(parseAdbTargetSpec('adb:emulator-5554'), { kind: 'serial', serial: 'emulator-5554' });
    assert.deepEqual(parseAdbTargetSpec('adb:10.0.0.7:5555@lab.example:5037'), {
      kind: 'serial',
      serial: '10.0.0.7:5555',
      server: { host: 'lab.example', port: 5037 },
    });
    assert.throws(() => parseAdbTargetSpec('local'), AdbError);
    assert.throws(() => parseAdbTargetSpec('adb:'), /needs a serial/);
  });

  it('parses --adb-server addresses', function () {
    assert.deepEqual(parseServerAddress('lab:5038'), { host: 'lab', port: 5038 });
    assert.deepEqual(parseServerAddress('lab'), { host: 'lab', port: 5037 });
    assert.deepEqual(parseServerAddress('15037'), { host: '127.0.0.1', port: 15037 });
    assert.deepEqual(parseServerAddress('[::1]:5037'), { host: '::1', port: 5037 });
    assert.throws(() => parseServerAddress('lab:99999'), /bad port/);
  });

  it('maps shell statuses 128+N to signal names', function () {
    assert.deepEqual(exitFromStatus(0), { code: 0, signal: null });
    assert.deepEqual(exitFromStatus(2), { code: 2, signal: null });
    assert.deepEqual(exitFromStatus(137), { code: null, signal: 'SIGKILL' });
    assert.deepEqual(exitFromStatus(139), { code: null, signal: 'SIGSEGV' });
  });

  it('quotes any script so that sh hands it over byte for byte', function () {
    const nasty = `set_name r0 "it's $HOME \`id\` %s \\\\ \\"q\\""\n# ü\n'`;
    const echoed = execFileSync('sh', ['-c', `printf '%s' ${shQuote(nasty)}`], { encoding: 'utf8' });
    assert.equal(echoed, nasty);
  });

  it('runs a case command under a POSIX sh: results, then the exit marker, then stderr', function () {
    // A stand-in probe in a scratch folder proves the command's plumbing (stdin, marker, stderr file).
    const dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
    try {
      execFileSync('sh', ['-c', `printf '#!/bin/sh\\necho "{\\\\"hello\\\\":{\\\\"abi\\\\":\\\\"t\\\\"}}"; while read l; do echo "{\\\\"i\\\\":1,\\\\"op\\\\":\\\\"$l\\\\",\\\\"ret\\\\":0}"; done; echo oops >&2; exit 3\\n' > ${dir}/ashmem-probe; chmod 755 ${dir}/ashmem-probe`]);
      const marker = '@@ah-test';
      const out = execFileSync('sh', ['-c', caseCommand(dir, 'open', marker, undefined)], { encoding: 'utf8' });
      const parsed = new CaseOutput(marker);
      for (const line of out.split('\n')) parsed.line(line);
      assert.equal(parsed.status, 3);
      assert.ok(parsed.pid !== undefined && parsed.pid > 0);
      assert.deepEqual(parsed.results, [{ i: 1, op: 'open', ret: 0 }]);
      assert.deepEqual(parsed.other, ['oops', '']);
    } finally {
      execFileSync('rm', ['-rf', dir]);
    }
  });

  it('reads facts sections and rejects a cut-off answer', function () {
    const m = '@@ah-x';
    const cmd = factsCommand(m);
    assert.match(cmd, /getprop ro\.product\.cpu\.abilist/);
    const output = [
      `${m} prop ro.product.cpu.abilist`, 'arm64-v8a,armeabi-v7a',
      `${m} prop ro.build.version.sdk`, '35',
      `${m} prop ro.debuggable`, '1',
      `${m} uid`, '2000',
      `${m} kernel`, '6.6.30-android15',
      `${m} selinux`, 'Enforcing',
      `${m} nodes`, '/dev/ashmem', '/dev/ashmem1b2c',
      `${m} bootid`, '1b2c',
      `${m} pagesize`, '16384',
      `${m} end`,
    ].join('\r\n');
    const f = parseFactsOutput('s', m, output);
    assert.deepEqual(f.abis, ['arm64-v8a', 'armeabi-v7a']);
    assert.equal(f.sdk, 35);
    assert.equal(f.uid, 2000);
    assert.equal(f.selinux, 'Enforcing');
    assert.deepEqual(f.ashmemNodes, ['/dev/ashmem', '/dev/ashmem1b2c']);
    assert.equal(f.pageSize, 16384);
    assert.equal(f.debuggable, true);
    assert.throws(() => parseFactsOutput('s', m, output.replace(`${m} end`, '')), AdbCommandError);
  });

  it('finds the ops a script uses, ignoring comments and process prefixes', function () {
    assert.deepEqual([...opsInScript('open r0 # drop_caches\n  p1: drop_caches 3\n\n# purge_all r0\nfork p1\n')].sort(), ['drop_caches', 'fork', 'open']);
  });
});
