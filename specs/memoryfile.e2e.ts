/**
 * android.os.MemoryFile on a device, through both doors of the fixture APK, every line compared
 * with the model: the basic life cycle, and the purge scenario — allowPurging(true), a purge
 * from outside, the first access throws the exception of the device's API level ("ashmem
 * region was purged" before 27, "MemoryFile has been purged" from 27), the next reads zeros.
 */
import assert from 'node:assert/strict';
import { driver } from '@wdio/globals';
import type {} from 'webdriverio';
import type { OpResult } from '../harness/ops/result.js';
import { FIXTURE_PACKAGE } from '../harness/targets/instrumentation.js';
import { runInActivity } from './support/activity.js';
import { deviceFacts, runInstrumentation, trigger, type DeviceFacts } from './support/device.js';
import { predictJava, type JavaFacts } from './support/model-adapter.js';
import { purgeAll, PurgeUnavailableError, type PurgeDone } from './support/purge.js';
import { assertAsPredicted, predictAroundWait } from './support/scenario.js';

const BASIC = [
  'mf_create f0 "basic" 8192',
  'mf_is_purging_allowed f0',
  'mf_write f0 16 0 100 16 0x5A',
  'mf_read f0 32 96 0 24',
  'mf_length f0',
  'mf_close f0',
  'mf_read f0 4 0 0 4',
  'mf_write f0 4 0 0 4 1',
  'mf_create f1 "zero" 0',
].join('\n');

/** Before the purge: a whole region written, purging allowed (unpinned). */
const BEFORE_PURGE = ['mf_create f0 "purge" 4096', 'mf_allow_purging f0 true', 'mf_write f0 4096 0 0 4096 0xA5', 'mf_read f0 8 0 0 8'].join('\n');
/** After it: the first access throws, the next reads zeros, pinning again discards nothing more. */
const AFTER_PURGE = ['mf_read f0 8 0 0 8', 'mf_read f0 8 0 0 8', 'mf_is_purging_allowed f0', 'mf_allow_purging f0 false', 'mf_read f0 8 100 0 8'].join('\n');

function purgedMessage(sdk: number): string {
  return sdk >= 27 ? 'MemoryFile has been purged' : 'ashmem region was purged';
}

/** The explicit claims of the scenario, on top of the line-by-line comparison. */
function assertPurgeSeen(facts: DeviceFacts, first: OpResult | undefined, second: OpResult | undefined): void {
  if (facts.useMemfd) {
    assert.equal(first?.ret, 8, 'memfd mode: nothing is purged, the read succeeds');
    return;
  }
  assert.equal(first?.exception, 'java.io.IOException');
  assert.equal(first?.message, purgedMessage(facts.sdk));
  assert.deepEqual(second?.rle, [[0, 8]]);
}

describe('MemoryFile through the fixture APK', function () {
  this.timeout(600_000);
  let facts: DeviceFacts;
  let javaFacts: JavaFacts;

  before(async () => {
    facts = await deviceFacts();
    javaFacts = { sdk: facts.sdk, useMemfd: facts.useMemfd };
  });

  /** Purges from outside, or skips the test with one line when the device cannot. */
  async function purgeOrSkip(ctx: Mocha.Context): Promise<PurgeDone> {
    try {
      const done = await purgeAll(facts);
      console.log(`purge: ${done.how}`);
      return done;
    } catch (e) {
      if (e instanceof PurgeUnavailableError) {
        console.log(`purge scenario skipped: ${e.message}`);
        ctx.skip();
      }
      throw e;
    }
  }

  describe('Activity door (Appium, as a user)', () => {
    beforeEach(async () => {
      // A fresh app process: no MemoryFile left over from another test.
      await driver.terminateApp(FIXTURE_PACKAGE);
      await driver.activateApp(FIXTURE_PACKAGE);
    });

    it('create, isPurgingAllowed, write, read, length, close, use after close: as the model predicts', async () => {
      const run = await runInActivity(BASIC);
      assert.equal(run.hello['sdk'], facts.sdk);
      assert.equal(run.hello['door'], 'activity');
      assertAsPredicted('Activity, basic', predictJava([{ script: BASIC }], javaFacts)[0] ?? [], run.results);
    });

    it('purge between two runs: the first read throws the API level\'s exception, the next reads zeros', async function () {
      const first = await runInActivity(BEFORE_PURGE);
      assertAsPredicted('Activity, before the purge', predictJava([{ script: BEFORE_PURGE }], javaFacts)[0] ?? [], first.results);
      const done = await purgeOrSkip(this);
      const second = await runInActivity(AFTER_PURGE);
      const worlds = done.exact ? ['all'] as const : ['all', 'none'] as const;
      const matches = worlds.filter((w) => {
        const p = predictJava([{ script: BEFORE_PURGE }, { purge: w }, { script: AFTER_PURGE }], javaFacts)[1] ?? [];
        try { assertAsPredicted(`Activity, after purge (${w})`, p, second.results); return true; } catch { return false; }
      });
      assert.ok(matches.length > 0, `after ${done.how}, no admissible world explains ${JSON.stringify(second.results)}`);
      if (done.exact) assertPurgeSeen(facts, second.results[0], second.results[1]);
    });
  });

  describe('instrumentation door (am instrument)', () => {
    it('the same life cycle, as the model predicts', async () => {
      const run = await runInstrumentation(BASIC);
      assert.equal(run.hello?.['door'], 'instrumentation');
      assert.equal(run.done, BASIC.split('\n').length);
      assertAsPredicted('instrumentation, basic', predictJava([{ script: BASIC }], javaFacts)[0] ?? [], run.results);
    });

    it('purge while the script waits in app_wait: first read throws, next reads zeros', async function () {
      const script = `${BEFORE_PURGE}\napp_wait "purged" 120000\n${AFTER_PURGE}`;
      const lastBefore = BEFORE_PURGE.split('\n').length;
      let done: PurgeDone | undefined;
      let skipped: unknown;
      const run = await runInstrumentation(script, async (r) => {
        if (r.i !== lastBefore) return;
        try {
          done = await purgeAll(facts);
          console.log(`purge: ${done.how}`);
        } catch (e) {
          skipped = e; // let the app go on; the test is skipped below
        }
        await trigger('purged');
      });
      if (skipped instanceof PurgeUnavailableError) { console.log(`purge scenario skipped: ${skipped.message}`); this.skip(); }
      if (skipped !== undefined) throw skipped;
      assert.ok(done !== undefined, 'the purge step never ran');
      const waited = run.results.find((r) => r.op === 'app_wait');
      assert.equal(waited?.ret, 1, 'app_wait ended by its trigger, not by its timeout');
      const worlds = done.exact ? ['all'] as const : ['all', 'none'] as const;
      const matches = worlds.filter((w) => {
        try { assertAsPredicted(`instrumentation, purge (${w})`, predictAroundWait(script, w, javaFacts), run.results); return true; } catch { return false; }
      });
      assert.ok(matches.length > 0, `after ${done.how}, no admissible world explains ${JSON.stringify(run.results)}`);
      if (done.exact) assertPurgeSeen(facts, run.results[lastBefore + 1], run.results[lastBefore + 2]);
    });
  });
});
