/**
 * The fixture's Activity door driven as a user would, through Appium (UiAutomator2): type the
 * script into id/script, press id/run, wait for id/status to change, read id/results.
 */
import { $ } from '@wdio/globals';
import type {} from 'webdriverio';
import type { OpResult } from '../../harness/ops/result.js';
import { FIXTURE_PACKAGE } from '../../harness/targets/instrumentation.js';

const id = (name: string): string => `id=${FIXTURE_PACKAGE}:id/${name}`;

/** The Activity's output for one press of Run. */
export interface ActivityRun {
  readonly hello: Readonly<Record<string, unknown>>;
  readonly results: readonly OpResult[];
}

/** The Activity showed something that is not its result format. */
export class ActivityOutputError extends Error {
  override readonly name = 'ActivityOutputError';
}

/**
 * Types a script, presses Run and reads the results (objects created live on in the Activity).
 * @param script - the op script (newlines included)
 */
export async function runInActivity(script: string): Promise<ActivityRun> {
  const input = await $(id('script'));
  await input.waitForDisplayed();
  await input.setValue(script);
  const typed = await input.getText();
  if (typed.trim() !== script.trim()) {
    throw new ActivityOutputError(`the script field holds ${JSON.stringify(typed)}, not the script typed: ${JSON.stringify(script)}`);
  }
  const status = await $(id('status'));
  const before = await status.getText();
  await (await $(id('run'))).click();
  await status.waitUntil(async () => (await status.getText()) !== before, {
    timeout: 60_000,
    timeoutMsg: `id/status stayed "${before}" 60 s after pressing Run`,
  });
  const text = await (await $(id('results'))).getText();
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const parsed = lines.map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      throw new ActivityOutputError(`id/results has a line that is not JSON: ${l}`);
    }
  });
  const first = parsed[0];
  if (first === undefined || typeof first['hello'] !== 'object' || first['hello'] === null) {
    throw new ActivityOutputError(`id/results does not start with the hello line: ${text.slice(0, 200)}`);
  }
  const status2 = await status.getText();
  const m = /^run \d+: (\d+) results$/.exec(status2);
  if (m?.[1] === undefined || Number(m[1]) !== parsed.length - 1) {
    throw new ActivityOutputError(`id/status "${status2}" does not match the ${parsed.length - 1} result lines shown`);
  }
  return { hello: first['hello'] as Record<string, unknown>, results: parsed.slice(1) as unknown as OpResult[] };
}
