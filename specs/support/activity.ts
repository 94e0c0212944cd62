/**
 * The fixture's Activity door driven as a user would, through Appium (UiAutomator2): type the
 * script into id/script, press id/run, wait for id/status to change, read id/results.
 */
import { $ } from '@wdio/globals';
import type {} from 'webdriverio';
import { FIXTURE_PACKAGE } from '../../harness/targets/instrumentation.js';
import { ActivityOutputError, parseActivityOutput, type ActivityRun } from './activity-output.js';

export { ActivityOutputError, type ActivityRun } from './activity-output.js';

const id = (name: string): string => `id=${FIXTURE_PACKAGE}:id/${name}`;

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
  return parseActivityOutput(await status.getText(), await (await $(id('results'))).getText());
}
