/**
 * Log lines written synchronously on a file descriptor (stdout), never throwing. pino's own synchronous
 * destination (SonicBoom) emits an 'error' event on a failed write — which, unheard, ends the process — and
 * blocks the event loop for as long as the descriptor answers EAGAIN. This one drops the line instead and
 * counts it (see logWriteFailures.ts).
 *
 * EAGAIN happens when stdout is a pipe set non-blocking (Node does so once `process.stdout` is used) and its
 * reader is slow: the line is retried for up to {@link EAGAIN_BUDGET_MS}, then dropped; while the pipe stays
 * full, later lines get one try each, so a stalled reader costs the worker nothing but lines.
 */
import { writeSync } from 'node:fs';
import type { LogWriteFailures } from './logWriteFailures.js';

export const EAGAIN_BUDGET_MS = 100;
const EAGAIN_PAUSE_MS = 5;
const pause = new Int32Array(new SharedArrayBuffer(4));

export class FdDestination {
  private congested = false;

  constructor(
    private readonly fd: number,
    private readonly failures: LogWriteFailures,
    private readonly name = `fd ${fd}`,
  ) {}

  write(line: string): void {
    let rest = Buffer.from(line, 'utf8');
    let waited = 0;
    while (rest.length > 0) {
      try {
        rest = rest.subarray(writeSync(this.fd, rest));
        this.congested = false;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' && !this.congested && waited < EAGAIN_BUDGET_MS) {
          Atomics.wait(pause, 0, 0, EAGAIN_PAUSE_MS);
          waited += EAGAIN_PAUSE_MS;
          continue;
        }
        if (code === 'EAGAIN') this.congested = true;
        this.failures.note(this.name, error);
        return;
      }
    }
  }
}
