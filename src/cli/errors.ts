/**
 * The command line's failures and the one place that turns them into exit codes (docs/api.md):
 * 0 success · 1 failure at run time · 2 bad usage or bad configuration.
 */
import { CommanderError } from 'commander';
import { ConfigError } from '../config.js';

export const ExitCode = {
  Success: 0,
  Failure: 1,
  Usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The command was called wrongly; the message names the offending argument or option. Exit code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
  readonly code = 'CLI_USAGE';
  constructor(
    message: string,
    /** the option or argument at fault, e.g. `--answers` */
    readonly argument?: string,
  ) {
    super(message);
  }
}

/** The command was right but failed while running (the server refused, a file was missing…). Exit code 1. */
export class CliRuntimeError extends Error {
  override readonly name = 'CliRuntimeError';
  readonly code = 'CLI_RUNTIME';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function isCliUsageError(error: unknown): error is CliUsageError {
  return error instanceof CliUsageError;
}

export function isCliRuntimeError(error: unknown): error is CliRuntimeError {
  return error instanceof CliRuntimeError;
}

/**
 * The exit code of a command that threw `error`. Commander's own errors carry its suggested code, which is
 * 0 for `--help` and `--version` and 1 for every usage error — ours is 2 for those.
 */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.Success : ExitCode.Usage;
  if (error instanceof CliUsageError || error instanceof ConfigError) return ExitCode.Usage;
  return ExitCode.Failure;
}

/**
 * The line to print on stderr for `error`, or undefined when it was printed already (commander writes its
 * own usage errors and help before throwing).
 */
export function errorMessageFor(error: unknown): string | undefined {
  if (error instanceof CommanderError) return undefined;
  if (error instanceof Error) return `error: ${error.message}`;
  return `error: ${String(error)}`;
}
