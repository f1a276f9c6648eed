/** `prfactory-worker status <id>` and `prfactory-worker list`: read executions. */
import { type Command, Option } from 'commander';
import type { ListQuery } from '../../host/service.js';
import { executionStatuses } from '../../persistence/schema.js';
import { formatExecution, formatExecutionList } from '../format.js';
import type { CliIo } from '../io.js';
import { addConnectionOptions, clientFor, executionCommand, integerIn } from '../options.js';

export function registerStatusCommand(program: Command, io: CliIo): Command {
  const command = executionCommand(program, 'status', 'show one execution', 'the execution').option(
    '--json',
    'print the API’s JSON instead of a summary',
  );
  addConnectionOptions(command);
  return command.action(
    async (executionId: string, options: { json?: boolean; url?: string; token?: string }) => {
      const execution = await clientFor(options, io).get(executionId);
      io.stdout.write(options.json ? `${JSON.stringify(execution, null, 2)}\n` : formatExecution(execution));
    },
  );
}

interface ListOptions {
  status?: ListQuery['status'];
  graph?: string;
  tenant?: string;
  ticket?: string;
  limit?: number;
  cursor?: string;
  json?: boolean;
  url?: string;
  token?: string;
}

export function registerListCommand(program: Command, io: CliIo): Command {
  const command = program
    .command('list')
    .description('list executions, newest first')
    .addOption(new Option('--status <status>', 'only this status').choices(executionStatuses))
    .option('--graph <graph>', 'only this graph')
    .option('--tenant <id>', 'only this tenant')
    .option('--ticket <key>', 'only executions of this ticket (its exact key)')
    .option('--limit <n>', 'at most this many (1–200, default 50)', integerIn(1, 200))
    .option('--cursor <cursor>', 'the next page, as printed after the previous one')
    .option('--json', 'print the API’s JSON ({ items, nextCursor }) instead of a table');
  addConnectionOptions(command);
  return command.action(async (options: ListOptions) => {
    const page = await clientFor(options, io).list({
      status: options.status,
      graph: options.graph,
      tenantId: options.tenant,
      ticketKey: options.ticket,
      limit: options.limit,
      cursor: options.cursor,
    });
    if (options.json) {
      io.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
      return;
    }
    if (page.items.length === 0) io.stderr.write('no executions match\n');
    else io.stdout.write(formatExecutionList(page.items));
    if (page.nextCursor) io.stderr.write(`more: add --cursor ${page.nextCursor}\n`);
  });
}
