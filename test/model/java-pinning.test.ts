/**
 * Which pins the Java layer leaves behind (§8.1, §8.2): what a later app_wait may purge, and
 * allowPurging's "only if changed" ioctl.
 */
import assert from 'node:assert/strict';
import { predict, type Prediction } from '../../harness/check/predict.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';

const CASES = [['c-pre2019', 26], ['ack-c', 33]] as const;

/** The purge counts the app_wait on `line` (1-based) admits; [] when it admits none. */
function admitted(profile: string, api: number, text: string, line: number): readonly number[] {
  const ps = predict(parseScript(text), profileById(profile), { ...DEFAULT_ENVIRONMENT, apiLevel: api });
  const p = ps[line - 1] as Prediction & { admits?: { purged_ranges?: readonly number[] } };
  assert.ok(!('oneOf' in p), 'app_wait has one answer');
  return p.admits?.purged_ranges ?? [];
}

describe('Java layer pins across accesses (§8.1, §8.2)', () => {
  for (const [profile, api] of CASES) {
    it(`§8.1/§8.2 API ${api}: with purging allowed an access pins then unpins again, so a later app_wait may purge`, () => {
      for (const access of ['mf_write f0 4 0 0 4 7', 'mf_read f0 4 0 0 4']) {
        assert.deepEqual(admitted(profile, api, `mf_create f0 "x" 4096\nmf_allow_purging f0 true\n${access}\napp_wait "a" 1\n`, 4), [0, 1], access);
      }
    });

    it(`§8.1/§8.2 API ${api}: with purging disallowed again an access leaves the region pinned: nothing to purge`, () => {
      assert.deepEqual(admitted(profile, api, 'mf_create f0 "x" 4096\nmf_allow_purging f0 true\nmf_allow_purging f0 false\nmf_read f0 4 0 0 4\napp_wait "a" 1\n', 5), []);
    });

    it(`§8.1 API ${api}: allowPurging with the current value makes no ioctl, so it answers even after close()`, () => {
      const ps = predict(parseScript('mf_create f0 "x" 4096\nmf_close f0\nmf_allow_purging f0 false\nmf_allow_purging f0 true\n'), profileById(profile), { ...DEFAULT_ENVIRONMENT, apiLevel: api });
      assert.equal((ps[2] as { ret?: number }).ret, 0);
      assert.equal((ps[3] as { exception?: string }).exception, 'java.io.IOException'); // a change needs the ioctl: EBADF
    });
  }
});
