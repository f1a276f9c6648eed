import { describe, expect, it } from 'vitest';
import {
  BASE_RESERVE,
  connectionCap,
  DERIVED_MAX_CONNECTIONS,
  FALLBACK_OPEN_FILE_LIMIT,
  MIN_CONNECTIONS,
  openFileLimit,
  RESERVE_PER_EXECUTION,
} from '../../../src/transport/http/connectionCap.js';

const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            ${soft}                 4096                 files
Max locked memory         8388608              8388608              bytes
`;

describe('openFileLimit', () => {
  it('reads the soft "Max open files" of /proc/self/limits', () => {
    expect(openFileLimit(() => limits('1024'))).toEqual({ soft: 1024, source: 'proc' });
    expect(openFileLimit(() => limits('unlimited'))).toEqual({ soft: undefined, source: 'proc' });
  });

  it('falls back to the usual 1024 where it cannot be read', () => {
    const fallback = { soft: FALLBACK_OPEN_FILE_LIMIT, source: 'fallback' };
    expect(
      openFileLimit(() => {
        throw new Error('ENOENT');
      }),
    ).toEqual(fallback);
    expect(openFileLimit(() => 'nothing useful')).toEqual(fallback);
  });

  it('reads this process’s limit on Linux', () => {
    const own = openFileLimit();
    expect(own.source).toBe('proc');
    expect(own.soft === undefined || own.soft > 0).toBe(true);
  });
});

describe('connectionCap', () => {
  const inputs = { configured: null, poolSize: 10, maxConcurrentExecutions: 10 };

  it('is Http.MaxConnections when configured', () => {
    expect(connectionCap({ ...inputs, configured: 42 })).toEqual({
      maxConnections: 42,
      source: 'configured',
    });
  });

  it('derives the open-file limit minus the pool, the subprocess pipes and a base', () => {
    const cap = connectionCap({ ...inputs, limit: { soft: 1024, source: 'proc' } });
    const reserve = BASE_RESERVE + 10 + RESERVE_PER_EXECUTION * 10;
    expect(cap).toEqual({
      maxConnections: 1024 - reserve,
      source: 'derived',
      openFileLimit: { soft: 1024, source: 'proc' },
      reserve,
    });
  });

  it('stays between its floor and its ceiling', () => {
    expect(connectionCap({ ...inputs, limit: { soft: 100, source: 'proc' } }).maxConnections).toBe(
      MIN_CONNECTIONS,
    );
    expect(connectionCap({ ...inputs, limit: { soft: 1_048_576, source: 'proc' } }).maxConnections).toBe(
      DERIVED_MAX_CONNECTIONS,
    );
    expect(connectionCap({ ...inputs, limit: { soft: undefined, source: 'proc' } }).maxConnections).toBe(
      DERIVED_MAX_CONNECTIONS,
    );
  });
});
