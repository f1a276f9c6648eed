/**
 * The client side of the command line (docs/api.md): commands that talk to a running worker over its HTTP
 * API. `src/cli.ts` mounts them next to `run`, `migrate`, `demo` and `diagram`:
 *
 * ```ts
 * const io = processIo();
 * const program = createProgram(io, { version });
 * registerClientCommands(program, io);
 * program.command('run', { isDefault: true }).action(…);
 * process.exitCode = await runProgram(program, process.argv.slice(2), io);
 * ```
 */
import type { Command } from 'commander';
import { registerCancelCommand, registerRetryCommand } from './commands/control.js';
import { registerResumeCommand } from './commands/resume.js';
import { registerListCommand, registerStatusCommand } from './commands/status.js';
import { registerSubmitCommand } from './commands/submit.js';
import type { CliIo } from './io.js';

export {
  type AcceptedAnswer,
  DEFAULT_WORKER_URL,
  type ExecutionPage,
  WorkerApiError,
  WorkerClient,
  type WorkerClientOptions,
  WorkerUnreachableError,
} from './client.js';
export {
  CliRuntimeError,
  CliUsageError,
  ExitCode,
  errorMessageFor,
  exitCodeFor,
  isCliRuntimeError,
  isCliUsageError,
} from './errors.js';
export { type CliIo, processIo, type TextSink } from './io.js';
export { createProgram, type ProgramOptions, runProgram } from './program.js';

/** Adds `submit`, `resume`, `cancel`, `retry`, `status` and `list` to `program`. */
export function registerClientCommands(program: Command, io: CliIo): Command {
  registerSubmitCommand(program, io);
  registerResumeCommand(program, io);
  registerCancelCommand(program, io);
  registerRetryCommand(program, io);
  registerStatusCommand(program, io);
  registerListCommand(program, io);
  return program;
}
