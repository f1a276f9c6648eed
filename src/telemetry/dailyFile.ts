/**
 * A log destination that writes `worker-YYYY-MM-DD.log` (UTC) in a folder, switching files when the date
 * changes and deleting files older than `retainDays`. Writes are appended synchronously: a log line that was
 * written survives a crash right after it (a SIGKILL loses nothing already logged). A line that cannot be
 * written (a full disk, no descriptor left) is dropped and counted, never thrown (logWriteFailures.ts); so is a
 * failure to prune.
 */
import { appendFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { createLogWriteFailures, type LogWriteFailures } from './logWriteFailures.js';

const pattern = /^worker-(\d{4}-\d{2}-\d{2})\.log$/;

export function logFileName(date = new Date()): string {
  return `worker-${date.toISOString().slice(0, 10)}.log`;
}

export class DailyFileDestination {
  private current = '';

  constructor(
    private readonly directory: string,
    private readonly retainDays: number,
    private readonly now: () => Date = () => new Date(),
    private readonly failures: LogWriteFailures = createLogWriteFailures(),
  ) {
    // at start, an unusable folder is a configuration error worth failing for
    mkdirSync(directory, { recursive: true });
  }

  write(line: string): void {
    const name = logFileName(this.now());
    if (name !== this.current) {
      this.current = name;
      try {
        this.prune();
      } catch (error) {
        this.failures.note('log file pruning', error);
      }
    }
    try {
      appendFileSync(path.join(this.directory, name), line);
    } catch (error) {
      this.failures.note('log file', error);
    }
  }

  /** Deletes `worker-*.log` files whose date is more than `retainDays` before today. */
  prune(): void {
    const today = this.now().toISOString().slice(0, 10);
    const cutoff = new Date(`${today}T00:00:00Z`).getTime() - this.retainDays * 86_400_000;
    for (const file of readdirSync(this.directory)) {
      const date = pattern.exec(file)?.[1];
      if (!date || new Date(`${date}T00:00:00Z`).getTime() >= cutoff) continue;
      const full = path.join(this.directory, file);
      if (statSync(full).isFile()) rmSync(full, { force: true });
    }
  }
}
