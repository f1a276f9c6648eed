/**
 * `prfactory-worker webhook-test github|jira --tenant T --file payload.json [--url URL] [--event E] [--delivery ID]`:
 * for an operator setting a webhook up. Reads the worker's configuration (as `run` does) for the tenant's webhook
 * secret, signs the file's exact bytes with it, posts them as GitHub or Jira would — `X-GitHub-Event`,
 * `X-GitHub-Delivery`, `X-Hub-Signature-256`; `x-atlassian-webhook-identifier`, `x-hub-signature` — and prints
 * the answer's status and body. Exit 0 for a 2xx answer, 1 for any other answer or none, 2 for a bad argument or
 * configuration. The secret is never printed, nor the signature made with it.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../config.js';
import type { TrackerSystem } from '../../integrations/trackers/tracker.js';
import { redactUrl } from '../../redaction.js';
import { signatureOf } from '../../webhooks/signature.js';
import { trackerTenantOf } from '../../webhooks/trackerTenant.js';
import { DEFAULT_TIMEOUT_MS, WorkerUnreachableError } from '../client.js';
import { CliRuntimeError, CliUsageError } from '../errors.js';
import type { CliIo } from '../io.js';

interface WebhookTestOptions {
  tenant: string;
  file: string;
  url?: string;
  event?: string;
  delivery?: string;
  configDir: string;
}

const SECTION: Record<TrackerSystem, string> = { github: 'GitHub', jira: 'Jira' };

function systemOf(value: string): TrackerSystem {
  if (value === 'github' || value === 'jira') return value;
  throw new InvalidArgumentError('expected github or jira');
}

/** GitHub's event, when `--event` does not say it: what the payload's shape is. */
function githubEventOf(payload: unknown): string | undefined {
  if (!payload || typeof payload !== 'object') return undefined;
  const p = payload as Record<string, unknown>;
  if ('comment' in p && 'issue' in p) return 'issue_comment';
  if ('issue' in p) return 'issues';
  if ('zen' in p) return 'ping';
  return undefined;
}

/** The worker's own address from its configuration: `Http.Host` (a wildcard means this machine) and `Http.Port`. */
function configuredUrl(host: string, port: number): string {
  const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' || host === '[::]' ? '[::1]' : host;
  const name = local.includes(':') && !local.startsWith('[') ? `[${local}]` : local;
  return `http://${name}:${port}`;
}

function webhookUrl(base: string, system: TrackerSystem, tenantId: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new CliUsageError(`--url: "${redactUrl(base)}" is not a URL`, '--url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliUsageError(`--url: "${url.protocol}" is not http: or https:`, '--url');
  }
  // A path prefix (a proxy's) is kept, as the client commands keep it.
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/webhooks/${system}/${encodeURIComponent(tenantId)}`;
  return url;
}

export function registerWebhookTestCommand(program: Command, io: CliIo): void {
  program
    .command('webhook-test')
    .description(
      'sign a payload with a tenant’s webhook secret and post it to the worker, as GitHub or Jira would',
    )
    .argument('<system>', 'github or jira', systemOf)
    .requiredOption('--tenant <tenantId>', 'the tenant whose webhook secret signs the payload')
    .requiredOption('--file <path>', 'the payload: its bytes are sent as they are')
    .option('--url <url>', 'the worker’s HTTP API (default: $PRFACTORY_URL, else Http.Host:Http.Port)')
    .option(
      '--event <event>',
      'GitHub’s X-GitHub-Event (default: from the payload: issues, issue_comment, ping)',
    )
    .option('--delivery <id>', 'the delivery id (default: a new UUID; the same id again is a redelivery)')
    .option('--config-dir <dir>', 'folder holding appsettings.json', '.')
    .action(async (system: TrackerSystem, options: WebhookTestOptions) => {
      const config = loadConfig({ directory: options.configDir, env: io.env });
      const tenant = trackerTenantOf(config, options.tenant, system);
      const section = `Tenants.${options.tenant}.${SECTION[system]}`;
      if (!tenant) throw new CliUsageError(`--tenant: ${section} is not configured`, '--tenant');
      if (tenant.webhookSecret === null) {
        throw new CliUsageError(`--tenant: ${section}.WebhookSecret is not set`, '--tenant');
      }
      if (system === 'jira' && options.event !== undefined) {
        throw new CliUsageError('--event: Jira names its event in the payload (webhookEvent)', '--event');
      }
      const file = path.resolve(io.cwd ?? process.cwd(), options.file);
      const body = await readFile(file).catch((error: unknown) => {
        throw new CliRuntimeError(`cannot read ${options.file}: ${(error as Error).message}`, {
          cause: error,
        });
      });
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch (error) {
        throw new CliUsageError(
          `--file: ${options.file} is not JSON (${(error as Error).message})`,
          '--file',
        );
      }
      const delivery = options.delivery ?? randomUUID();
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'prfactory-worker webhook-test',
      };
      if (system === 'github') {
        const event = options.event ?? githubEventOf(payload);
        if (!event)
          throw new CliUsageError('--event: the payload does not tell its event; name it', '--event');
        headers['x-github-event'] = event;
        headers['x-github-delivery'] = delivery;
        headers['x-hub-signature-256'] = signatureOf(tenant.webhookSecret, body);
      } else {
        headers['x-atlassian-webhook-identifier'] = delivery;
        headers['x-hub-signature'] = signatureOf(tenant.webhookSecret, body);
      }
      const base = options.url ?? (io.env.PRFACTORY_URL || configuredUrl(config.Http.Host, config.Http.Port));
      const url = webhookUrl(base, system, options.tenant);
      const shown = redactUrl(url.toString());
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS),
        });
      } catch (error) {
        const reason =
          (error as Error).name === 'TimeoutError' ? 'no answer in time' : (error as Error).message;
        throw new WorkerUnreachableError(shown, reason, { cause: error });
      }
      const answer = await response.text();
      io.stdout.write(
        `${response.status} ${response.statusText}\n${answer}${answer.endsWith('\n') ? '' : '\n'}`,
      );
      io.stderr.write(`delivery ${delivery} posted to ${shown}\n`);
      if (!response.ok) throw new CliRuntimeError(`the webhook answered ${response.status}`);
    });
}
