/**
 * Console progress for `run` and `conform`: a bar (cli-progress) when a person watches a
 * terminal, one plain line per case otherwise, since CI logs keep every byte a bar redraws.
 */
import cliProgress from 'cli-progress';
import { visible } from './text.js';
import type { CaseStatus } from './types.js';

/** Progress over a known number of cases. */
export interface Progress {
  /** One case finished; `label` names it (`case-11 on local`). */
  tick(label: string, status: CaseStatus): void;
  /** A line of news (a target lost) shown without breaking the display. */
  note(line: string): void;
  /** Ends the display (restores the cursor on a TTY). Safe to call twice. */
  stop(): void;
}

/**
 * Labels come from scenario names and target serials; a control character in them must not
 * move the cursor or recolour the terminal, so they are shown escaped.
 */
function clean(label: string): string {
  return visible(label).replace(/\n/g, '\\n').replace(/\t/g, ' ');
}

/**
 * Creates the display on `stream`: a bar with running counts when `stream.isTTY`, else lines
 * such as `[12/200] case-11 on local: passed`.
 */
export function createProgress(total: number, stream: NodeJS.WriteStream): Progress {
  const counts: Record<CaseStatus, number> = { passed: 0, diverged: 0, skipped: 0, error: 0 };
  let done = 0;
  let stopped = false;
  if (stream.isTTY !== true) {
    return {
      tick(label, status) {
        if (stopped) return;
        done++;
        counts[status]++;
        stream.write(`[${done}/${total}] ${clean(label)}: ${status}\n`);
      },
      note(line) {
        stream.write(`${clean(line)}\n`);
      },
      stop() {
        stopped = true;
      },
    };
  }
  const bar = new cliProgress.SingleBar({
    stream,
    format: '{bar} {value}/{total} | {passed} passed, {diverged} diverged, {skipped} skipped, {error} errors | {label}',
    barsize: 30,
    hideCursor: true,
    // The last case's label may be long; trim to the terminal instead of wrapping the bar.
    linewrap: true,
    // No signal handlers of its own: its one-shot SIGINT/SIGTERM handlers would stop only the
    // bar and swallow the signal. The command's interrupt handler stops the bar (giving the
    // cursor back) and then stops the run.
    gracefulExit: false,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, { ...counts, label: '' });
  return {
    tick(label, status) {
      if (stopped) return;
      done++;
      counts[status]++;
      bar.update(done, { ...counts, label: clean(label) });
    },
    note(line) {
      if (stopped) {
        stream.write(`${clean(line)}\n`);
        return;
      }
      // Clear the bar's line, print the note, and draw the bar again below it.
      stream.write(`\r\x1b[K${clean(line)}\n`);
      bar.render();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
