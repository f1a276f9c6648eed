/** `prfactory-worker submit <graph> …`: start an execution; prints the execution id alone on stdout. */
import { randomUUID } from 'node:crypto';
import { type Command, Option } from 'commander';
import { type TicketSystem, ticketSystems } from '../../machines/domain.js';
import type { CliIo } from '../io.js';
import { addNatsOptions, type NatsCliOptions, natsTargetOf, publishFromCli } from '../natsTarget.js';
import { addConnectionOptions, clientFor, integerIn, jsonObject, repositoryLocation } from '../options.js';

interface SubmitOptions extends NatsCliOptions {
  tenant: string;
  ticket: string;
  title?: string;
  description?: string;
  ticketUrl?: string;
  ticketSystem?: TicketSystem;
  repo: string;
  defaultBranch?: string;
  priority?: number;
  input?: Record<string, unknown>;
  executionId?: string;
  url?: string;
  token?: string;
}

/** The start request built from the options; absent options are left to the worker's defaults. */
export function startRequestOf(graph: string, options: SubmitOptions, cwd: string): Record<string, unknown> {
  const ticket: Record<string, unknown> = { key: options.ticket };
  if (options.ticketSystem !== undefined) ticket.system = options.ticketSystem;
  if (options.title !== undefined) ticket.title = options.title;
  if (options.description !== undefined) ticket.description = options.description;
  if (options.ticketUrl !== undefined) ticket.url = options.ticketUrl;
  const repository: Record<string, unknown> = { url: repositoryLocation(options.repo, cwd) };
  if (options.defaultBranch !== undefined) repository.defaultBranch = options.defaultBranch;
  const body: Record<string, unknown> = { graph, tenantId: options.tenant, ticket, repository };
  if (options.executionId !== undefined) body.executionId = options.executionId;
  if (options.priority !== undefined) body.priority = options.priority;
  if (options.input !== undefined) body.input = options.input;
  return body;
}

export function registerSubmitCommand(program: Command, io: CliIo): Command {
  const command = program
    .command('submit')
    .description(
      "start an execution through a worker's HTTP API (or on NATS with --nats); prints its id on stdout",
    )
    .argument('<graph>', 'refinement, planning, implementation or prfactory')
    .requiredOption('--tenant <id>', 'tenant the ticket belongs to')
    .requiredOption('--ticket <key>', 'ticket key, e.g. PROJ-123')
    .option('--title <text>', 'ticket title')
    .option('--description <text>', 'ticket description')
    .option('--ticket-url <url>', 'link to the ticket')
    .addOption(
      new Option('--ticket-system <system>', 'where the ticket lives (default: local)').choices(
        ticketSystems,
      ),
    )
    .requiredOption('--repo <url>', 'repository to clone: https://…, file:///… or a path (made absolute)')
    .option('--default-branch <branch>', 'branch to start from (default: main)')
    .option('--priority <n>', 'priority 0–100, higher first (default: 0)', integerIn(0, 100))
    .option('--input <json>', 'graph-specific input as a JSON object, e.g. \'{"plan":"…"}\'', jsonObject)
    .option('--execution-id <uuid>', 'choose the id (submitting again with it is idempotent)');
  addConnectionOptions(command);
  addNatsOptions(command);
  command.addHelpText(
    'after',
    '\nExamples:\n  id=$(prfactory-worker submit prfactory --tenant acme --ticket PROJ-1 --title "Add X" --repo ./repo)\n' +
      '  id=$(prfactory-worker submit prfactory --tenant acme --ticket PROJ-1 --repo ./repo --nats nats://127.0.0.1:4222)\n',
  );
  return command.action(async (graph: string, options: SubmitOptions) => {
    const body = startRequestOf(graph, options, io.cwd ?? process.cwd());
    const nats = natsTargetOf(options, io);
    if (nats) {
      // Over NATS the publisher chooses the id: it is the message's Nats-Msg-Id, and a redelivery must not
      // start a second execution.
      const executionId = options.executionId ?? randomUUID();
      const published = await publishFromCli(nats, { kind: 'start', body: { ...body, executionId } });
      if (published.duplicate) {
        io.stderr.write(`execution ${executionId} was published before; JetStream dropped this copy\n`);
      }
      io.stdout.write(`${executionId}\n`);
      return;
    }
    const answer = await clientFor(options, io).start(body);
    if (answer.httpStatus === 200) {
      io.stderr.write(
        `execution ${answer.executionId} was submitted before; its status is ${answer.status}\n`,
      );
    }
    io.stdout.write(`${answer.executionId}\n`);
  });
}
