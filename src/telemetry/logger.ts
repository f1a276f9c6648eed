/**
 * The worker's logger: pino JSON lines on stdout (pretty when asked), and a daily file
 * `Logging.Directory/worker-YYYY-MM-DD.log`. Every line carries `hostname` and `pid` (pino's base); inside an
 * execution a child logger adds `executionId`, `tenantId`, `graph` and `state`. Secrets are redacted by path.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { Config } from '../config.js';

export type { Logger };

/** Paths pino censors wherever they appear in a log object. */
export const redactPaths = [
  'token',
  'apiToken',
  'ApiToken',
  'password',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.token',
  '*.password',
  '*.authorization',
  '*.ApiToken',
];

export interface LoggerOptions {
  config: Config['Logging'];
  /** write stdout lines here instead (tests); default: process.stdout */
  destination?: pino.DestinationStream;
  name?: string;
}

/** `worker-YYYY-MM-DD.log` for the given day (UTC). */
export function logFileName(date = new Date()): string {
  return `worker-${date.toISOString().slice(0, 10)}.log`;
}

export function createLogger(options: LoggerOptions): Logger {
  const { config } = options;
  const streams: pino.StreamEntry[] = [];
  const pretty = config.Pretty ?? process.env.NODE_ENV === 'development';
  if (options.destination) streams.push({ level: 'trace', stream: options.destination });
  else if (pretty) {
    streams.push({
      level: 'trace',
      stream: pino.transport({ target: 'pino-pretty', options: { destination: 1 } }),
    });
  } else streams.push({ level: 'trace', stream: pino.destination({ dest: 1, sync: false }) });
  if (config.Directory) {
    mkdirSync(config.Directory, { recursive: true });
    const file = path.join(config.Directory, logFileName());
    streams.push({ level: 'trace', stream: pino.destination({ dest: file, mkdir: true, sync: false }) });
  }
  return pino(
    {
      name: options.name ?? 'prfactory-worker',
      level: config.Level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.multistream(streams),
  );
}

/** A logger that writes nothing (library use without a logger, unit tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
