/**
 * android.os.SharedMemory (API 27+) on a device, through both doors of the fixture APK, every
 * line compared with the model: create, getSize, mappings sharing one region, setProtect only
 * removing bits (CTS testSetProtAddProt), map argument checks, read-only buffers, use after
 * close. Below API 27 the APK answers `unsupported` for every line, which is checked too.
 */
import assert from 'node:assert/strict';
import { driver } from '@wdio/globals';
import type {} from 'webdriverio';
import { FIXTURE_PACKAGE } from '../harness/targets/instrumentation.js';
import { runInActivity } from './support/activity.js';
import { deviceFacts, runInstrumentation, type DeviceFacts } from './support/device.js';
import { predictJava, type JavaFacts } from './support/model-adapter.js';
import { assertAsPredicted } from './support/scenario.js';

const LIFE = [
  'sm_create s0 "shared" 8192',
  'sm_get_size s0',
  'sm_map_rw b0 s0',
  'sm_map_ro b1 s0',
  'buf_put b0 4096 16 0x3C',
  'buf_get b1 4090 24',
  'buf_put b1 0 1 1',
  'sm_map b2 s0 3 4096 4096',
  'buf_get b2 0 20',
  'sm_map b3 s0 3 -1 10',
  'sm_map b3 s0 3 0 0',
  'sm_map b3 s0 3 4096 8192',
  'sm_create s1 "bad" 0',
  'sm_close s0',
  'buf_get b0 4096 4',
  'sm_get_size s0',
].join('\n');

const PROTECT = [
  'sm_create s0 "prot" 4096',
  'sm_set_protect s0 1',
  'sm_set_protect s0 1',
  'sm_set_protect s0 3',
  'sm_set_protect s0 0',
  'sm_set_protect s0 1',
  'sm_set_protect s0 8',
  'sm_map_rw b0 s0',
].join('\n');

describe('SharedMemory through the fixture APK', function () {
  this.timeout(600_000);
  let facts: DeviceFacts;
  let javaFacts: JavaFacts;

  before(async () => {
    facts = await deviceFacts();
    javaFacts = { sdk: facts.sdk, useMemfd: facts.useMemfd };
    if (facts.sdk < 27) console.log(`SharedMemory needs API 27; this device is API ${facts.sdk}: checking that every line is "unsupported"`);
  });

  describe('Activity door (Appium, as a user)', () => {
    beforeEach(async () => {
      await driver.terminateApp(FIXTURE_PACKAGE);
      await driver.activateApp(FIXTURE_PACKAGE);
    });

    it('create, map, shared bytes, read-only buffer, map checks, use after close: as the model predicts', async () => {
      const run = await runInActivity(LIFE);
      assertAsPredicted('Activity, SharedMemory life', predictJava([{ script: LIFE }], javaFacts)[0] ?? [], run.results);
      if (facts.sdk >= 27) {
        assert.deepEqual(run.results[5]?.rle, [[0, 6], [0x3c, 16], [0, 2]], 'the read-only mapping sees the read-write one');
        assert.equal(run.results[14]?.ret, 4, 'a mapping outlives close (CTS testUseAfterClose)');
      }
    });

    it('setProtect only removes bits (CTS testSetProtAddProt)', async () => {
      const run = await runInActivity(PROTECT);
      assertAsPredicted('Activity, setProtect', predictJava([{ script: PROTECT }], javaFacts)[0] ?? [], run.results);
    });
  });

  describe('instrumentation door (am instrument)', () => {
    it('the same life cycle, as the model predicts', async () => {
      const run = await runInstrumentation(LIFE);
      assert.equal(run.done, LIFE.split('\n').length);
      assertAsPredicted('instrumentation, SharedMemory life', predictJava([{ script: LIFE }], javaFacts)[0] ?? [], run.results);
    });

    it('setProtect, as the model predicts', async () => {
      const run = await runInstrumentation(PROTECT);
      assertAsPredicted('instrumentation, setProtect', predictJava([{ script: PROTECT }], javaFacts)[0] ?? [], run.results);
    });
  });
});
