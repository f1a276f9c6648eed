/**
 * The whole `prfactory-worker` command line: `run` (the default) hosts the graphs; `migrate` prepares the
 * database; `demo` runs one ticket end to end on embedded defaults; `diagram` draws the graphs; `webhook-test`
 * posts a signed payload as GitHub or Jira would; the client commands (`submit`, `resume`, `cancel`, `retry`,
 * `status`, `list`) talk to a running worker's HTTP API.
 * Built here rather than in `src/cli.ts` so tests can parse with the real program without starting anything.
 */
import type { Command } from 'commander';
import { registerDemoCommand } from './commands/demo.js';
import { registerDiagramCommand } from './commands/diagram.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerRunCommand } from './commands/run.js';
import { registerWebhookTestCommand } from './commands/webhookTest.js';
import { registerClientCommands } from './index.js';
import type { CliIo } from './io.js';
import { createProgram, type ProgramOptions } from './program.js';

export function createWorkerProgram(io: CliIo, options: ProgramOptions = {}): Command {
  const program = createProgram(io, options);
  registerRunCommand(program, io);
  registerMigrateCommand(program, io);
  registerDemoCommand(program, io);
  registerDiagramCommand(program, io);
  registerWebhookTestCommand(program, io);
  registerClientCommands(program, io);
  return program;
}
