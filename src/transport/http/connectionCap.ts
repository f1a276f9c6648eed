/**
 * How many HTTP connections a worker keeps open at most (`Http.MaxConnections`), when not configured: what the
 * process's open-file limit leaves once the worker's own descriptors are set aside. Past the limit `accept`
 * fails with EMFILE, and so does everything else that opens a file — a log line, a database connection, the
 * pipes of a git subprocess — so the cap must leave that room, not merely stay under the limit.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../../config.js';

/**
 * Descriptors the runtime and the worker hold whatever the load: stdio, epoll and libuv's own, the log file,
 * NATS and OTLP sockets, PGlite's files, DNS. An idle `run` holds about 30 (its pool connected): doubled.
 */
export const BASE_RESERVE = 64;
/**
 * Per execution running at once: a git or coding-agent subprocess's three pipes, the pipes of the next spawn,
 * files read in the workspace.
 */
export const RESERVE_PER_EXECUTION = 8;
/** Each connection costs memory too: past this, the open-file limit is not what runs out first. */
export const DERIVED_MAX_CONNECTIONS = 10_000;
/** Below this the API is of little use; a worker with so few descriptors logs the derivation at start. */
export const MIN_CONNECTIONS = 16;
/** Assumed where /proc/self/limits cannot be read (not Linux): the usual soft limit. */
export const FALLBACK_OPEN_FILE_LIMIT = 1024;

export interface OpenFileLimit {
  /** the soft limit; undefined when unlimited */
  soft: number | undefined;
  source: 'proc' | 'fallback';
}

/** The soft "Max open files" of this process, from /proc/self/limits (`unlimited` → undefined). */
export function openFileLimit(
  read: () => string = () => readFileSync('/proc/self/limits', 'utf8'),
): OpenFileLimit {
  let text: string;
  try {
    text = read();
  } catch {
    return { soft: FALLBACK_OPEN_FILE_LIMIT, source: 'fallback' };
  }
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!match) return { soft: FALLBACK_OPEN_FILE_LIMIT, source: 'fallback' };
  return { soft: match[1] === 'unlimited' ? undefined : Number(match[1]), source: 'proc' };
}

export interface ConnectionCap {
  maxConnections: number;
  /** `configured`: Http.MaxConnections; `derived`: from the open-file limit */
  source: 'configured' | 'derived';
  openFileLimit?: OpenFileLimit;
  /** descriptors set aside for everything but HTTP connections */
  reserve?: number;
}

export interface ConnectionCapInputs {
  configured: number | null;
  poolSize: number;
  maxConcurrentExecutions: number;
  limit?: OpenFileLimit;
}

/**
 * `Http.MaxConnections` when set; else the open-file limit minus the reserve (the base, one descriptor per
 * pooled database connection, {@link RESERVE_PER_EXECUTION} per execution running at once), kept between
 * {@link MIN_CONNECTIONS} and {@link DERIVED_MAX_CONNECTIONS}.
 */
export function connectionCap(inputs: ConnectionCapInputs): ConnectionCap {
  if (inputs.configured !== null) return { maxConnections: inputs.configured, source: 'configured' };
  const limit = inputs.limit ?? openFileLimit();
  const reserve = BASE_RESERVE + inputs.poolSize + RESERVE_PER_EXECUTION * inputs.maxConcurrentExecutions;
  const room = limit.soft === undefined ? DERIVED_MAX_CONNECTIONS : limit.soft - reserve;
  const maxConnections = Math.min(DERIVED_MAX_CONNECTIONS, Math.max(MIN_CONNECTIONS, room));
  return { maxConnections, source: 'derived', openFileLimit: limit, reserve };
}

/** {@link connectionCap} of a configuration: its `Http.MaxConnections`, pool size and concurrency. */
export function connectionCapOf(
  config: { Http: Pick<Config['Http'], 'MaxConnections'> } & {
    Database: Pick<Config['Database'], 'PoolSize'>;
    AgentHost: Pick<Config['AgentHost'], 'MaxConcurrentExecutions'>;
  },
  limit?: OpenFileLimit,
): ConnectionCap {
  return connectionCap({
    configured: config.Http.MaxConnections,
    poolSize: config.Database.PoolSize,
    maxConcurrentExecutions: config.AgentHost.MaxConcurrentExecutions,
    ...(limit && { limit }),
  });
}
