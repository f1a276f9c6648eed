/** `prfactory-worker cancel <id>` and `prfactory-worker retry <id>`: an operator's two levers. */
import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { addNatsOptions, type NatsCliOptions, natsTargetOf, publishFromCli } from '../natsTarget.js';
import { addConnectionOptions, clientFor, executionCommand } from '../options.js';

interface ControlOptions extends NatsCliOptions {
  tenant: string;
  reason?: string;
  url?: string;
  token?: string;
}

export function registerCancelCommand(program: Command, io: CliIo): Command {
  const command = executionCommand(
    program,
    'cancel',
    'cancel an execution that has not ended',
    'the execution to cancel',
  )
    .requiredOption('--tenant <id>', 'tenant the execution belongs to')
    .option('--reason <text>', 'why (recorded with the cancellation)');
  addConnectionOptions(command);
  addNatsOptions(command);
  return command.action(async (executionId: string, options: ControlOptions) => {
    const body: Record<string, unknown> = { tenantId: options.tenant };
    if (options.reason !== undefined) body.reason = options.reason;
    const nats = natsTargetOf(options, io);
    if (nats) {
      const published = await publishFromCli(nats, {
        kind: 'cancel',
        executionId,
        body: { ...body, executionId },
      });
      const verb = published.duplicate ? 'already published' : 'published';
      io.stdout.write(`cancel ${verb} for execution ${executionId} on ${published.subject}\n`);
      return;
    }
    const answer = await clientFor(options, io).cancel(executionId, body);
    io.stdout.write(`cancel accepted; execution ${answer.executionId} is ${answer.status}\n`);
  });
}

export function registerRetryCommand(program: Command, io: CliIo): Command {
  const command = executionCommand(
    program,
    'retry',
    'retry a failed execution from its last valid checkpoint, attempts reset (operator)',
    'the failed execution',
  ).requiredOption('--tenant <id>', 'tenant the execution belongs to');
  addConnectionOptions(command);
  return command.action(async (executionId: string, options: ControlOptions) => {
    const answer = await clientFor(options, io).retry(executionId, { tenantId: options.tenant });
    io.stdout.write(`retry accepted; execution ${answer.executionId} is ${answer.status}\n`);
  });
}
