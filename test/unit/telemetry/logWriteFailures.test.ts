/**
 * A log line that cannot be written is dropped and counted, never thrown: on a full disk (/dev/full: ENOSPC),
 * on a closed descriptor (EBADF), on a log folder that vanished. The loss is told at most once per interval.
 */
import { closeSync, mkdtempSync, openSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DailyFileDestination, logFileName } from '../../../src/telemetry/dailyFile.js';
import { FdDestination } from '../../../src/telemetry/fdDestination.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createLogWriteFailures } from '../../../src/telemetry/logWriteFailures.js';
import { throttledReport } from '../../../src/telemetry/throttledReport.js';

describe('log destinations that cannot write', () => {
  it('FdDestination drops lines on a full disk and on a closed descriptor, counting them', () => {
    const notices: string[] = [];
    const failures = createLogWriteFailures((text) => notices.push(text));
    const full = openSync('/dev/full', 'w');
    // a descriptor that is not open (closing one of ours could see its number reused by another open)
    const closed = 999_999;
    try {
      const onFull = new FdDestination(full, failures, 'full');
      const onClosed = new FdDestination(closed, failures, 'closed');
      for (let i = 0; i < 3; i++) {
        expect(() => onFull.write('{"msg":"a line"}\n')).not.toThrow();
        expect(() => onClosed.write('{"msg":"a line"}\n')).not.toThrow();
      }
    } finally {
      closeSync(full);
    }
    expect(failures.lost).toEqual({ full: 3, closed: 3 });
    // one notice per destination, naming the error
    expect(notices.map((n) => JSON.parse(n) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ msg: 'log lines lost', destination: 'full', count: 1, code: 'ENOSPC' }),
      expect.objectContaining({ msg: 'log lines lost', destination: 'closed', count: 1, code: 'EBADF' }),
    ]);
  });

  it('DailyFileDestination drops lines on a full disk and in a folder that vanished', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prf-full-'));
    try {
      const failures = createLogWriteFailures(() => {});
      symlinkSync('/dev/full', path.join(dir, logFileName()));
      const file = new DailyFileDestination(dir, 3, undefined, failures);
      expect(() => file.write('{"n":1}\n')).not.toThrow();
      expect(failures.lost).toEqual({ 'log file': 1 });
      rmSync(dir, { recursive: true, force: true });
      const gone = new DailyFileDestination(
        path.join(dir, 'gone'),
        3,
        () => new Date('2026-01-02T00:00:00Z'),
        failures,
      );
      rmSync(dir, { recursive: true, force: true });
      expect(() => gone.write('{"n":2}\n')).not.toThrow();
      expect(failures.lost['log file']).toBe(2);
      expect(failures.lost['log file pruning']).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('createLogger never throws from a log call when its destinations fail', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prf-full-'));
    try {
      symlinkSync('/dev/full', path.join(dir, logFileName()));
      const log = createLogger({
        config: { Level: 'info', Directory: dir },
        destination: {
          write() {
            const error = new Error('EPIPE: broken pipe, write') as NodeJS.ErrnoException;
            error.code = 'EPIPE';
            throw error;
          },
        },
      });
      expect(() => {
        for (let i = 0; i < 5; i++) log.info({ i }, 'still running');
      }).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('throttledReport', () => {
  it('reports the first occurrence, then at most once per interval with the count since', () => {
    let now = 0;
    const reports: [number, string][] = [];
    const report = throttledReport<string>(
      1000,
      (count, detail) => reports.push([count, detail]),
      () => now,
    );
    report.note('a');
    now = 500;
    report.note('b');
    report.note('c');
    now = 1000;
    report.note('d');
    expect(reports).toEqual([
      [1, 'a'],
      [3, 'd'],
    ]);
    expect(report.total).toBe(4);
  });
});
