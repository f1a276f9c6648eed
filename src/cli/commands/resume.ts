/** `prfactory-worker resume <executionId> <type> …`: send what a person did (a resume event, docs/api.md). */
import { randomUUID } from 'node:crypto';
import { Argument, type Command } from 'commander';
import { type ResumeType, resumeTypes } from '../../machines/events.js';
import { CliUsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { addNatsOptions, type NatsCliOptions, natsTargetOf, publishFromCli } from '../natsTarget.js';
import { addConnectionOptions, clientFor, executionCommand, jsonStringMap } from '../options.js';

interface ResumeOptions extends NatsCliOptions {
  tenant: string;
  eventId?: string;
  answers?: Record<string, string>;
  by?: string;
  comment?: string;
  reason?: string;
  url?: string;
  token?: string;
}

/** Which options each type takes; an option given to a type that ignores it is a usage error, not lost. */
const onlyFor: Record<'answers' | 'comment' | 'reason', ResumeType> = {
  answers: 'answers_received',
  comment: 'plan_approved',
  reason: 'plan_rejected',
};

/** The resume body (without `executionId`, which is in the path). */
export function resumeRequestOf(
  type: ResumeType,
  options: ResumeOptions,
  env: Record<string, string | undefined>,
): Record<string, unknown> {
  for (const [option, owner] of Object.entries(onlyFor)) {
    if (options[option as keyof typeof onlyFor] !== undefined && owner !== type) {
      throw new CliUsageError(`--${option} applies to ${owner} only, not to ${type}`, `--${option}`);
    }
  }
  const body: Record<string, unknown> = {
    eventId: options.eventId ?? randomUUID(),
    tenantId: options.tenant,
    type,
  };
  if (type === 'answers_received') {
    if (options.answers === undefined) {
      throw new CliUsageError(
        '--answers is required for answers_received, e.g. --answers \'{"q1":"…"}\'',
        '--answers',
      );
    }
    body.answers = options.answers;
    return body;
  }
  const by = options.by ?? (env.USER || env.USERNAME);
  if (!by) throw new CliUsageError(`--by is required for ${type} (who decided)`, '--by');
  if (type === 'plan_approved') {
    body.approvedBy = by;
    if (options.comment !== undefined) body.comment = options.comment;
  } else {
    body.rejectedBy = by;
    if (options.reason !== undefined) body.reason = options.reason;
  }
  return body;
}

export function registerResumeCommand(program: Command, io: CliIo): Command {
  const command = executionCommand(
    program,
    'resume',
    'send a resume event: answers, or a plan approval or rejection',
    'the execution to resume',
  )
    .addArgument(new Argument('<type>', 'what happened').choices(resumeTypes))
    .requiredOption('--tenant <id>', 'tenant the execution belongs to')
    .option('--event-id <id>', 'idempotency key of this event (default: a new UUID)')
    .option('--answers <json>', 'answers_received: a JSON object of question id → answer', jsonStringMap)
    .option('--by <name>', 'plan_approved / plan_rejected: who decided (default: $USER)')
    .option('--comment <text>', 'plan_approved: a comment')
    .option('--reason <text>', 'plan_rejected: why (it goes back into planning)');
  addConnectionOptions(command);
  addNatsOptions(command);
  return command.action(async (executionId: string, type: ResumeType, options: ResumeOptions) => {
    const body = resumeRequestOf(type, options, io.env);
    const nats = natsTargetOf(options, io);
    if (nats) {
      const eventId = String(body.eventId);
      const published = await publishFromCli(nats, {
        kind: 'resume',
        executionId,
        body: { ...body, eventId, executionId },
      });
      const verb = published.duplicate ? 'already published' : 'published';
      io.stdout.write(
        `${verb} ${type} (event ${eventId}) for execution ${executionId} on ${published.subject}\n`,
      );
      return;
    }
    const answer = await clientFor(options, io).resume(executionId, body);
    const verb = answer.httpStatus === 200 ? 'already accepted' : 'accepted';
    io.stdout.write(
      `${verb} ${type} (event ${body.eventId}); execution ${answer.executionId} is ${answer.status}\n`,
    );
  });
}
