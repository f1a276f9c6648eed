/**
 * Options shared by the client commands, and the parsers that turn a bad option value into a usage error
 * naming the option (exit code 2) before anything is sent.
 */
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_WORKER_URL, WorkerClient } from './client.js';
import { CliUsageError } from './errors.js';
import type { CliIo } from './io.js';

export interface ConnectionOptions {
  url?: string;
  token?: string;
}

/**
 * A command about one execution, `<name> <executionId>`, that talks to a worker: its options come after the
 * caller's own, then `--url` and `--token` ({@link addConnectionOptions}) and whatever else it adds.
 */
export function executionCommand(
  program: Command,
  name: string,
  description: string,
  about: string,
): Command {
  return program.command(name).description(description).argument('<executionId>', about);
}

/** Adds `--url` and `--token` (docs/api.md); their environment fallbacks are read when the command runs. */
export function addConnectionOptions(command: Command): Command {
  return command
    .option('--url <url>', `the worker's HTTP API (default: $PRFACTORY_URL or ${DEFAULT_WORKER_URL})`)
    .option(
      '--token <token>',
      "API token, the operator's or a tenant's, when the worker has tokens set (default: $PRFACTORY_TOKEN)",
    );
}

/** A client for the worker named by `--url`/`--token` or their environment variables. */
export function clientFor(options: ConnectionOptions, io: CliIo): WorkerClient {
  const url = options.url ?? (io.env.PRFACTORY_URL || DEFAULT_WORKER_URL);
  const shown = url.replace(/\/\/[^/@]*@/, '//');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliUsageError(`--url: "${shown}" is not a URL`, '--url');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CliUsageError(`--url: "${parsed.protocol}" is not http: or https:`, '--url');
  }
  if (parsed.username || parsed.password) {
    throw new CliUsageError(
      `--url: "${shown}" must not carry credentials; pass the token with --token`,
      '--url',
    );
  }
  return new WorkerClient({ url, token: options.token ?? (io.env.PRFACTORY_TOKEN || undefined) });
}

/** An integer option in [min, max]: `--priority`, `--limit`. */
export function integerIn(min: number, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || number < min || number > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return number;
  };
}

/** A JSON object option: `--input`, `--answers`. */
export function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`not valid JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgumentError('expected a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** A JSON object whose values are all strings: `--answers '{"q1":"yes"}'`. */
export function jsonStringMap(value: string): Record<string, string> {
  const object = jsonObject(value);
  const bad = Object.entries(object).find(([, v]) => typeof v !== 'string');
  if (bad) throw new InvalidArgumentError(`expected a JSON object of strings; "${bad[0]}" is not a string`);
  return object as Record<string, string>;
}

/**
 * A repository as the worker must see it: URLs (`https://…`, `file:///…`, `git@host:path`) as given, a
 * relative path made absolute, because the worker does not run in the caller's directory.
 */
export function repositoryLocation(value: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^[\w.-]+@[\w.-]+:/.test(value)) return value;
  return path.resolve(cwd, value);
}
