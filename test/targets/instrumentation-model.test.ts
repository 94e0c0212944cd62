/**
 * The instrumentation output parser on output the model itself produces: the model's Java layer
 * predicts a script (both API levels, with and without a purge), the predictions are written as
 * `am instrument -w -r` prints them, and the parser must give back exactly those results.
 */
import assert from 'node:assert/strict';
import { Device } from '../../harness/model/device.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';
import { formatInstrumentationOutput, InstrumentationCrashedError, InstrumentationStreamParser, parseInstrumentationOutput } from '../../harness/targets/instrumentation.js';

const SCRIPT = `mf_create f0 "model's \\"quoted\\" name" 8192
mf_write f0 8192 0 0 8192 0x42
mf_allow_purging f0 true
app_wait "purge" 30000
mf_read f0 16 0 0 16
mf_read f0 16 0 0 16
mf_read f0 16 8190 0 4
mf_close f0
mf_read f0 4 0 0 4
sm_create s0 "sm" 4096
sm_set_protect s0 1
sm_map_rw b0 s0
sm_map_ro b1 s0
buf_get b1 0 4
`;

function modelRun(api: number, purge: boolean): OpResult[] {
  const d = Device.create(profileById('ack-c').features, { ...DEFAULT_ENVIRONMENT, apiLevel: api });
  return parseScript(SCRIPT).ops.map((op) => d.apply(op, op.kind === 'app_wait' ? (purge ? d.kernel.lru.length : 0) : undefined));
}

describe('instrumentation output parser on the model\'s own output', () => {
  for (const api of [26, 33]) {
    for (const purge of [false, true]) {
      it(`API ${api}, ${purge ? 'purged while the app waited' : 'no purge'}: parse(format(model results)) gives the model results`, () => {
        const results = modelRun(api, purge);
        // The model produced exceptions and data, not only plain returns.
        assert.ok(results.some((r) => r.exception !== undefined));
        assert.ok(results.some((r) => r.rle !== undefined && r.rle.length > 0));
        const hello = { hello: { fixture: '0.1.0', sdk: api, release: 'test', door: 'instrumentation' } };
        const text = formatInstrumentationOutput([hello, ...results]);
        const run = parseInstrumentationOutput(text);
        assert.deepEqual(run.results, results);
        // Streamed in awkward chunks, the same.
        const parser = new InstrumentationStreamParser();
        const got: OpResult[] = [];
        for (let i = 0; i < text.length; i += 7) got.push(...parser.push(text.slice(i, i + 7)));
        parser.end();
        assert.deepEqual(got, results);
      });
    }
  }

  it('a crash after some of the model\'s results is a typed error that keeps them', () => {
    const results = modelRun(33, true).slice(0, 5);
    const text = formatInstrumentationOutput([{ hello: { fixture: '0.1.0', sdk: 33, release: 't', door: 'instrumentation' } }, ...results], { kind: 'crash', longMsg: 'java.lang.RuntimeException: boom' });
    assert.throws(() => parseInstrumentationOutput(text), (e: unknown) => e instanceof InstrumentationCrashedError && e.results.length === 5);
  });
});
