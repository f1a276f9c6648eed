/**
 * What happens when a log line cannot be written: it is dropped and counted, never thrown. A worker whose disk
 * is full (ENOSPC), whose descriptors are used up (EMFILE) or whose stdout reader went away (EPIPE) must keep
 * running its executions and serving its API; losing log lines is the lesser harm, and an exception thrown from
 * a log call would end the process from wherever it was logging. The loss is told on stderr — at most once a
 * minute, and only if stderr itself can be written.
 */
import { writeSync } from 'node:fs';
import { type ThrottledReport, throttledReport } from './throttledReport.js';

/** At most one notice on stderr per this interval. */
export const NOTICE_INTERVAL_MS = 60_000;

export interface LogWriteFailures {
  /** counts a line `destination` could not take */
  note(destination: string, error: unknown): void;
  /** lines lost since the start, by destination */
  readonly lost: Readonly<Record<string, number>>;
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : String((error as Error | null)?.message ?? error);
}

/** Writes `text` on stderr, ignoring any failure: this is the last resort, there is nowhere else to say it. */
function tryStderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // stderr is gone too
  }
}

export function createLogWriteFailures(
  notify: (text: string) => void = tryStderr,
  intervalMs = NOTICE_INTERVAL_MS,
): LogWriteFailures {
  const lost: Record<string, number> = {};
  const notices = new Map<string, ThrottledReport<unknown>>();
  return {
    note(destination, error) {
      lost[destination] = (lost[destination] ?? 0) + 1;
      let notice = notices.get(destination);
      if (!notice) {
        notice = throttledReport(intervalMs, (count, last) =>
          notify(
            `${JSON.stringify({ level: 40, time: new Date().toISOString(), msg: 'log lines lost', destination, count, total: lost[destination], code: codeOf(last) })}\n`,
          ),
        );
        notices.set(destination, notice);
      }
      notice.note(error);
    },
    lost,
  };
}
