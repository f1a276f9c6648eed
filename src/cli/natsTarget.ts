/**
 * `--nats URL` and `--subject-prefix P` of `submit`, `resume` and `cancel`: publish the input on NATS JetStream
 * (docs/nats.md, with `Nats-Msg-Id` set) instead of calling a worker's HTTP API. Credentials travel in the URL
 * (`nats://user:pass@host`, `nats://token@host`) or in `NATS_USER`/`NATS_PASSWORD`, `NATS_TOKEN`, `NATS_CREDS`
 * (a .creds file); they are never printed.
 */
import type { Command } from 'commander';
import { isNatsTransportError } from '../transport/nats/errors.js';
import {
  type InputMessage,
  type InputPublisherOptions,
  type PublishedInput,
  publishInput,
} from '../transport/nats/publish.js';
import { CliRuntimeError, CliUsageError } from './errors.js';
import type { CliIo } from './io.js';

export const DEFAULT_SUBJECT_PREFIX = 'prfactory';

export interface NatsCliOptions {
  nats?: string;
  subjectPrefix?: string;
  url?: string;
  token?: string;
}

export function addNatsOptions(command: Command): Command {
  return command
    .option(
      '--nats <url>',
      'publish on NATS JetStream instead of calling the HTTP API, e.g. nats://127.0.0.1:4222 ' +
        '(credentials in the URL or $NATS_USER/$NATS_PASSWORD, $NATS_TOKEN, $NATS_CREDS)',
    )
    .option(
      '--subject-prefix <prefix>',
      `with --nats: the workers' Nats.SubjectPrefix (default: ${DEFAULT_SUBJECT_PREFIX})`,
    );
}

const SUBJECT_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Where to publish, or undefined when the command goes over HTTP. Throws usage errors (exit code 2). */
export function natsTargetOf(options: NatsCliOptions, io: CliIo): InputPublisherOptions | undefined {
  if (options.nats === undefined) {
    if (options.subjectPrefix !== undefined) {
      throw new CliUsageError('--subject-prefix applies with --nats only', '--subject-prefix');
    }
    return undefined;
  }
  if (options.url !== undefined) {
    throw new CliUsageError('--nats and --url are exclusive: choose one way to reach the workers', '--nats');
  }
  if (options.token !== undefined) {
    throw new CliUsageError(
      '--token is the HTTP API token; with --nats put credentials in the URL',
      '--token',
    );
  }
  for (const server of options.nats.split(',')) {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(server.trim())?.[1]?.toLowerCase();
    if (scheme !== undefined && scheme !== 'nats' && scheme !== 'tls') {
      throw new CliUsageError(`--nats: "${scheme}:" is not nats: or tls:`, '--nats');
    }
  }
  const subjectPrefix = options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
  if (!SUBJECT_PREFIX.test(subjectPrefix)) {
    throw new CliUsageError(
      `--subject-prefix: "${subjectPrefix}" is not made of NATS subject tokens`,
      '--subject-prefix',
    );
  }
  return {
    url: options.nats,
    subjectPrefix,
    user: io.env.NATS_USER || undefined,
    password: io.env.NATS_PASSWORD || undefined,
    token: io.env.NATS_TOKEN || undefined,
    credsFile: io.env.NATS_CREDS || undefined,
    traceparent: io.env.TRACEPARENT || undefined,
  };
}

/** Publishes; a failure is a run-time error (exit code 1) whose message names no credential. */
export async function publishFromCli(
  target: InputPublisherOptions,
  message: InputMessage,
): Promise<PublishedInput> {
  try {
    return await publishInput(target, message);
  } catch (error) {
    if (isNatsTransportError(error)) throw new CliRuntimeError(error.message, { cause: error });
    throw error;
  }
}
