/**
 * The kernel-level suite inside the WebdriverIO run: on each attached device (one section per
 * device), the curated conformance suite first, then the differential run of generated cases,
 * both through the native probe over adb and judged against the device's auto-detected profile.
 * Reports per device go to reports/wdio/ashmem/<serial>/ (report.html, junit.xml).
 *
 * Environment: WDIO_ASHMEM_CASES (generated cases per device, default 200), WDIO_ASHMEM_SEED,
 * WDIO_ASHMEM_QUIET=1 (a fresh emulator nobody else uses: exact PURGE_ALL_CACHES counts).
 * Without a device wdio.conf.ts ends the run before any spec loads (one line saying so).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { conformSuite, loadScenarios } from '../harness/check/conform.js';
import { prepareTargets, runCases, type PreparedTarget } from '../harness/check/run.js';
import { judgeOptionsFor } from '../harness/commands.js';
import { writeHtml } from '../harness/report/html.js';
import { writeJunit } from '../harness/report/junit.js';
import type { Report } from '../harness/report/types.js';
import { resolveTargets } from '../harness/targets/resolve.js';
import type { Target } from '../harness/targets/target.js';
import { parseAdbDevices } from './support/devices.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CASES = Number(process.env['WDIO_ASHMEM_CASES'] ?? 200);
const SEED = Number(process.env['WDIO_ASHMEM_SEED'] ?? 1);
const BUSY = { quiet: process.env['WDIO_ASHMEM_QUIET'] === '1' };

/** Devices ready now: the sections are declared when the spec loads, so this is synchronous (bounded). */
function readyDevices(): string[] {
  try {
    const text = execFileSync('adb', ['devices'], { encoding: 'utf8', timeout: 8000 });
    return parseAdbDevices(text).filter((d) => d.state === 'device').map((d) => d.serial);
  } catch {
    return [];
  }
}

function writeReports(report: Report, dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  writeJunit(report, path.join(dir, 'junit.xml'));
  writeHtml(report, path.join(dir, 'report.html'));
}

const serials = readyDevices();
if (serials.length === 0) {
  describe('ashmem kernel suite', () => {
    it('needs a device visible to `adb devices`', function () {
      this.skip();
    });
  });
}

for (const serial of serials) {
  describe(`ashmem kernel suite on ${serial}`, function () {
    this.timeout(60 * 60_000);
    const out = path.join(ROOT, 'reports', 'wdio', 'ashmem', serial.replace(/[^A-Za-z0-9._-]+/g, '_'));
    let targets: Target[] = [];
    let prepared: PreparedTarget[] = [];

    before(async () => {
      targets = await resolveTargets([`adb:${serial}`], { tryRoot: true });
      prepared = await prepareTargets(targets, 'auto');
      for (const p of prepared) console.log(`${p.info.id}: profile ${p.info.profile} (${p.info.profileReason})`);
    });
    after(async () => {
      for (const t of targets) await t.close();
    });

    it('conformance suite: every scenario passes or is skipped with its reason', async () => {
      const scenarios = loadScenarios();
      const { report, error } = await conformSuite(prepared, scenarios, path.join(out, 'conform'), (p) => judgeOptionsFor(p.target.id, BUSY));
      writeReports(report, path.join(out, 'conform'));
      if (error !== undefined) throw error;
      assert.equal(report.cases.length, scenarios.length);
      const diverged = report.cases.filter((c) => c.status === 'diverged' || c.status === 'error');
      assert.deepEqual(diverged.map((c) => `${c.id} (${c.section ?? ''}): ${c.divergence?.rule ?? c.reason ?? ''}`), [], `see ${path.join(out, 'conform', 'report.html')}`);
    });

    it(`differential run: ${CASES} generated cases, none diverges`, async () => {
      const { report, error } = await runCases(prepared, {
        cases: CASES, seed: SEED, length: 40, out: path.join(out, 'run'), profile: 'auto', shrinkBudget: 200,
        judgeOptions: (t) => judgeOptionsFor(t.id, BUSY),
      });
      writeReports(report, path.join(out, 'run'));
      if (error !== undefined) throw error;
      const bad = report.cases.filter((c) => c.status !== 'passed' && c.status !== 'skipped');
      assert.deepEqual(bad.map((c) => `${c.id}: ${c.divergence?.rule ?? c.reason ?? ''} ${c.repro?.dir ?? ''}`), [], `see ${path.join(out, 'run', 'report.html')}`);
    });
  });
}
