/**
 * The worker's logger: pino JSON lines on stdout (pretty when asked), and a daily file
 * `Logging.Directory/worker-YYYY-MM-DD.log`, kept `Logging.RetainDays` days. Every line carries `hostname` and
 * `pid` (pino's base); inside an execution a child logger adds `executionId`, `tenantId`, `graph` and `state`.
 * Secrets are redacted by field path and, inside any text, by pattern and by value (src/redaction.ts).
 */
import pino, { type Logger } from 'pino';
import type { Config } from '../config.js';
import { createScrubber, REDACTED } from '../redaction.js';
import { DailyFileDestination } from './dailyFile.js';
import { FdDestination } from './fdDestination.js';
import { createLogWriteFailures, type LogWriteFailures } from './logWriteFailures.js';

export { logFileName } from './dailyFile.js';
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
  config: Omit<Config['Logging'], 'RetainDays'> & { RetainDays?: number };
  /** secret values to scrub from every line */
  secrets?: readonly (string | null | undefined)[];
  /** write stdout lines here instead (tests, the demo's stderr) */
  destination?: { write(line: string): unknown };
  name?: string;
}

/**
 * A logger whose calls never throw for want of a place to write: each destination's failures are dropped and
 * counted (logWriteFailures.ts), so a full disk or a closed stdout costs log lines, not the process.
 */
export function createLogger(options: LoggerOptions): Logger {
  const { config } = options;
  const scrub = createScrubber(options.secrets ?? []);
  const failures = createLogWriteFailures();
  const pretty = config.Pretty ?? process.env.NODE_ENV === 'development';
  const console: { write(line: string): unknown } = options.destination ?? stdout(pretty, failures);
  const consoleName = options.destination ? 'log destination' : 'stdout';
  const file = config.Directory
    ? new DailyFileDestination(config.Directory, config.RetainDays ?? 14, undefined, failures)
    : undefined;
  const fanOut = {
    write(line: string) {
      const clean = scrub(line);
      try {
        console.write(clean);
      } catch (error) {
        failures.note(consoleName, error);
      }
      file?.write(clean);
    },
  };
  return pino(
    {
      name: options.name ?? 'prfactory-worker',
      level: config.Level,
      redact: { paths: redactPaths, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    fanOut,
  );
}

function stdout(pretty: boolean, failures: LogWriteFailures): { write(line: string): unknown } {
  if (!pretty) return new FdDestination(1, failures, 'stdout');
  // pino-pretty writes from a worker thread; a failure there arrives as an 'error' event, which unheard would
  // end the process
  const transport = pino.transport({ target: 'pino-pretty', options: { destination: 1 } });
  transport.on('error', (error: unknown) => failures.note('stdout', error));
  return transport;
}

/** A logger that writes nothing (library use without a logger, unit tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
