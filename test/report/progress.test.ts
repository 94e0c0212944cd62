/**
 * Progress: plain lines on a stream that is not a terminal (CI logs), a cli-progress bar with
 * running counts on one that is.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createProgress } from '../../harness/report/progress.js';

/** A stream that keeps what is written, posing as a terminal or not. */
function sink(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({ write(chunk: Buffer | string, _enc, done) { chunks.push(String(chunk)); done(); } });
  Object.assign(w, { isTTY, columns: 120, rows: 40 });
  return { stream: w as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
}

describe('report/progress', () => {
  it('writes one plain line per case when the stream is not a TTY', () => {
    const { stream, text } = sink(false);
    const p = createProgress(12, stream);
    p.tick('case-0 on local', 'passed');
    p.tick('case-1 on local', 'diverged');
    p.tick('unpin-then-purge-all on adb:emulator-5554', 'skipped');
    p.stop();
    p.tick('case-3 on local', 'passed'); // after stop: ignored
    p.stop();
    assert.equal(text(), [
      '[1/12] case-0 on local: passed',
      '[2/12] case-1 on local: diverged',
      '[3/12] unpin-then-purge-all on adb:emulator-5554: skipped',
      '',
    ].join('\n'));
    // No escape sequences: a CI log must stay plain.
    assert.ok(!text().includes('\x1b'));
  });

  it('keeps a hostile label on its line and free of terminal escapes', () => {
    const { stream, text } = sink(false);
    const p = createProgress(1, stream);
    p.tick('evil\x1b[2J\nname\r on local', 'error');
    p.stop();
    assert.equal(text(), '[1/1] evil\\x1b[2J\\nname\\r on local: error\n');
  });

  it('draws a bar with running counts on a TTY, and stops it', () => {
    const { stream, text } = sink(true);
    const p = createProgress(3, stream);
    p.tick('case-0 on local', 'passed');
    p.tick('case-1 on local', 'diverged');
    p.tick('case-2 on local', 'error');
    p.stop();
    const out = text();
    assert.ok(out.includes('\x1b[')); // cursor control: it is a bar, not lines
    assert.match(out, /3\/3 \| 1 passed, 1 diverged, 0 skipped, 1 errors \| case-2 on local/);
    assert.doesNotMatch(out, /\[1\/3\]/);
  });

  it('on a TTY the bar installs no SIGINT/SIGTERM handler of its own (which would swallow the signal), and a note prints above it', () => {
    const { stream, text } = sink(true);
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const p = createProgress(3, stream);
    p.tick('case-0 on local', 'passed');
    assert.deepEqual([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')], before);
    p.note('adb:X lost at 2026-01-01T00:00:00.000Z');
    p.stop();
    assert.ok(text().includes('\r\x1b[Kadb:X lost at 2026-01-01T00:00:00.000Z\n'), text());
  });
});
