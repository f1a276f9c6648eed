/**
 * `prfactory-worker webhook-test` against a real worker over loopback HTTP: the command signs the file's bytes
 * with the secret its own configuration holds, and the worker's answer decides the exit code.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../../src/cli/program.js';
import { createWorkerProgram } from '../../../src/cli/workerProgram.js';
import type { Worker } from '../../../src/worker.js';
import { createSampleOrigin, type SampleOrigin } from '../../support/git.js';
import { MemoryTrackers, memoryTicketsPort } from '../../support/memoryTrackers.js';
import { githubLabeled } from '../../support/trackerPayloads.js';
import { startCluster, type TestCluster } from '../../support/worker.js';

const SECRET = 'cli-webhook-secret-123';
const JIRA_SECRET = 'cli-jira-secret-456';

let cluster: TestCluster;
let worker: Worker;
let origin: SampleOrigin;
let dir: string;

beforeAll(async () => {
  origin = createSampleOrigin();
  dir = mkdtempSync(path.join(tmpdir(), 'prf-webhook-test-'));
  const trackers = new MemoryTrackers();
  trackers.add('acme', 'github');
  trackers.add('acme', 'jira');
  cluster = await startCluster(0);
  worker = await cluster.add({
    http: true,
    trackers,
    ports: { tickets: memoryTicketsPort(trackers) },
    config: {
      Tenants: {
        acme: {
          GitHub: { Token: 'ghs_acme', WebhookSecret: SECRET, PollSeconds: 3600 },
          Jira: {
            BaseUrl: 'https://acme.atlassian.net',
            Email: 'bot@acme.test',
            ApiToken: 'jira-token',
            WebhookSecret: JIRA_SECRET,
            PollSeconds: 3600,
          },
        },
      },
    },
  });
});

afterAll(async () => {
  await cluster.cleanup();
  origin.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** The command's configuration: the worker's tenants, from the environment as an operator would set them. */
const env = (secret = SECRET): Record<string, string> => ({
  Tenants__acme__GitHub__Token: 'ghs_acme',
  Tenants__acme__GitHub__WebhookSecret: secret,
  Tenants__acme__Jira__BaseUrl: 'https://acme.atlassian.net',
  Tenants__acme__Jira__Email: 'bot@acme.test',
  Tenants__acme__Jira__ApiToken: 'jira-token',
  Tenants__acme__Jira__WebhookSecret: JIRA_SECRET,
  Tenants__plain__AutoImplementAfterPlanApproval: 'true',
});

async function cli(args: string[], environment: Record<string, string> = env()) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: environment,
    cwd: dir,
  };
  const code = await runProgram(createWorkerProgram(io), ['webhook-test', ...args, '--config-dir', dir], io);
  return { code, stdout, stderr };
}

function file(name: string, content: string): string {
  writeFileSync(path.join(dir, name), content);
  return name;
}

describe('webhook-test', () => {
  it('signs and posts a GitHub delivery; the same --delivery again is a redelivery', async () => {
    // the file's exact bytes are signed: spacing and key order as written
    const payload = file(
      'labeled.json',
      `${JSON.stringify(githubLabeled({ cloneUrl: origin.url }), null, 2)}\n`,
    );
    const first = await cli([
      'github',
      '--tenant',
      'acme',
      '--file',
      payload,
      '--url',
      worker.url!,
      '--delivery',
      'cli-1',
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      /^202 Accepted\n\{"executionId":"[0-9a-f-]{36}","status":"\w+","accepted":"start"\}\n$/,
    );
    expect(first.stderr).toContain('delivery cli-1 posted to');
    const again = await cli([
      'github',
      '--tenant',
      'acme',
      '--file',
      payload,
      '--url',
      worker.url!,
      '--delivery',
      'cli-1',
    ]);
    expect(again).toMatchObject({ code: 0, stdout: '200 OK\n{"ignored":"duplicate delivery"}\n' });
    for (const out of [first, again]) expect(out.stdout + out.stderr).not.toContain(SECRET);
  });

  it('tells GitHub’s event from the payload, or takes --event', async () => {
    const ping = file('ping.json', '{"zen":"Design for failure.","hook_id":1}');
    expect(await cli(['github', '--tenant', 'acme', '--file', ping, '--url', worker.url!])).toMatchObject({
      code: 0,
      stdout: '200 OK\n{"ignored":"ping is not handled"}\n',
    });
    const push = file('push.json', '{"ref":"refs/heads/main"}');
    expect((await cli(['github', '--tenant', 'acme', '--file', push, '--url', worker.url!])).code).toBe(2);
    expect(
      await cli(['github', '--tenant', 'acme', '--file', push, '--url', worker.url!, '--event', 'push']),
    ).toMatchObject({
      code: 0,
      stdout: '200 OK\n{"ignored":"push is not handled"}\n',
    });
  });

  it('signs a Jira delivery with the Jira secret', async () => {
    const updated = file('jira.json', '{"webhookEvent":"comment_updated","comment":{"id":"1"}}');
    expect(await cli(['jira', '--tenant', 'acme', '--file', updated, '--url', worker.url!])).toMatchObject({
      code: 0,
      stdout: '200 OK\n{"ignored":"comment_updated is not handled"}\n',
    });
  });

  it('exits 1 with the answer when the worker refuses: a secret the worker does not have', async () => {
    const ping = file('ping2.json', '{"zen":"x"}');
    const result = await cli(
      ['github', '--tenant', 'acme', '--file', ping, '--url', worker.url!],
      env('not-the-secret'),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^401 Unauthorized\n\{"error":\{"code":"unauthorized"/);
    expect(result.stderr).toContain('error: the webhook answered 401');
    expect(result.stdout + result.stderr).not.toContain('not-the-secret');
  });

  it('exits 2 for a tenant without the tracker or its secret, and for bad arguments', async () => {
    const ping = file('ping3.json', '{"zen":"x"}');
    const plain = await cli(['github', '--tenant', 'plain', '--file', ping, '--url', worker.url!]);
    expect(plain).toMatchObject({ code: 2, stdout: '' });
    expect(plain.stderr).toContain('Tenants.plain.GitHub is not configured');
    const { Tenants__acme__GitHub__WebhookSecret: _secret, ...noSecret } = env();
    const missing = await cli(['github', '--tenant', 'acme', '--file', ping, '--url', worker.url!], noSecret);
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.stderr).toContain('Tenants.acme.GitHub.WebhookSecret is not set');
    expect((await cli(['gitlab', '--tenant', 'acme', '--file', ping])).code).toBe(2);
    expect((await cli(['github', '--file', ping])).code).toBe(2);
    expect((await cli(['github', '--tenant', 'acme', '--file', file('bad.json', '{nope')])).code).toBe(2);
    expect((await cli(['jira', '--tenant', 'acme', '--file', ping, '--event', 'x'])).code).toBe(2);
    expect((await cli(['github', '--tenant', 'acme', '--file', ping, '--url', 'ftp://x'])).code).toBe(2);
  });

  it('exits 1 for a file it cannot read and a worker it cannot reach', async () => {
    const nofile = await cli(['github', '--tenant', 'acme', '--file', 'absent.json', '--url', worker.url!]);
    expect(nofile.code).toBe(1);
    expect(nofile.stderr).toContain('cannot read absent.json');
    const ping = file('ping4.json', '{"zen":"x"}');
    const down = await cli(['github', '--tenant', 'acme', '--file', ping, '--url', 'http://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach the worker at http://127.0.0.1:1/v1/webhooks/github/acme');
  });
});
