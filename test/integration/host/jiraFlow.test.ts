/**
 * The prfactory graph driven from Jira Cloud, end to end on PostgreSQL: a loopback Jira that refuses a comment or
 * a description that is not ADF, and real signed webhook deliveries. A label starts it on the project's mapped
 * repository; the questions and the plan are posted as ADF; a person's ADF comment answers (its webhook carrying a
 * plain-text body: the worker re-reads the comment); `/approve` in a comment approves; the pull request is linked
 * from the ticket and the refined description sits in its own section. The API token appears nowhere.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { adfToMarkdown } from '../../../src/integrations/jira/index.js';
import { ProviderBreakers } from '../../../src/integrations/llm/providerBreakers.js';
import { createTrackerServices } from '../../../src/integrations/trackers/services.js';
import { secretsOf } from '../../../src/redaction.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import type { Worker } from '../../../src/worker.js';
import { type AdfDocument, type FakeJira, PERSON, startFakeJira } from '../../support/fakeJira.js';
import { commentCreatedEvent, issueUpdatedEvent } from '../../support/fakeJiraWebhooks.js';
import { createSampleOrigin, type SampleOrigin } from '../../support/git.js';
import { deliver } from '../../support/webhookClient.js';
import { startCluster, type TestCluster, testConfig, waitForStatus } from '../../support/worker.js';

const EMAIL = 'prfactory@acme.test';
const API_TOKEN = 'ATATT3xJiraE2eToken0123456789';
const SECRET = 'acme-jira-webhook-secret-5d2e';

/** ADF as a person writes it in Jira's editor: one paragraph per line. */
function paragraphs(...lines: string[]): AdfDocument {
  return {
    type: 'doc',
    version: 1,
    content: lines.map((text) => ({ type: 'paragraph', content: [{ type: 'text', text }] })),
  };
}

describe('the prfactory graph driven from Jira', () => {
  let jira: FakeJira;
  let origin: SampleOrigin;
  let cluster: TestCluster;
  let worker: Worker;
  const logLines: string[] = [];

  beforeAll(async () => {
    jira = await startFakeJira({ email: EMAIL, apiToken: API_TOKEN });
    origin = createSampleOrigin();
    cluster = await startCluster(0);
    const input = {
      Tenants: {
        default: { AutoImplementAfterPlanApproval: true },
        acme: {
          Jira: {
            BaseUrl: jira.url,
            Email: EMAIL,
            ApiToken: API_TOKEN,
            WebhookSecret: SECRET,
            Repositories: { PROJ: origin.url },
            PollSeconds: 3600,
          },
        },
      },
      Logging: { Level: 'debug', Directory: null },
    } as const;
    const config = parseConfig(testConfig(cluster.schema, '/unused', input));
    const logger = createLogger({
      config: config.Logging,
      secrets: secretsOf(config),
      destination: { write: (line: string) => logLines.push(line) },
    });
    const trackerServices = createTrackerServices({ config, breakers: new ProviderBreakers() });
    worker = await cluster.add({ config: input, logger, trackerServices, http: true });
  });
  afterAll(async () => {
    await cluster?.cleanup();
    await jira?.close();
    origin?.cleanup();
  });

  async function waitForWait(executionId: string, type: string) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const e = await waitForStatus(worker, executionId, ['suspended', 'completed', 'failed'], 30_000);
      if (e.status === 'suspended' && e.waitingFor.includes(type)) return e;
      if (e.status !== 'suspended' || Date.now() > deadline) {
        throw new Error(
          `${executionId} is ${e.status} at ${e.state} (${e.lastError}), not waiting for ${type}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const base = () => worker.url!;
  const ours = () => jira.comments.filter((c) => c.author.accountId === jira.account.accountId);

  it('starts on a label, reads ADF answers and /approve, and links the pull request', async () => {
    jira.addIssue({
      key: 'PROJ-7',
      summary: 'A friendlier greeting',
      description: paragraphs('Make the greeting friendlier.'),
      labels: [],
    });
    jira.issues.get('PROJ-7')!.labels = ['prfactory'];
    const labeled = issueUpdatedEvent({ issue: jira.issueJson('PROJ-7'), from: [], to: ['prfactory'] });
    const first = await deliver(base(), 'jira', 'acme', labeled, { secret: SECRET, delivery: 'jira-d-1' });
    expect(first.status).toBe(202);
    const executionId = String(first.body.executionId);
    expect(
      (await deliver(base(), 'jira', 'acme', labeled, { secret: SECRET, delivery: 'jira-d-1' })).status,
    ).toBe(200);

    // The questions, posted as ADF and readable as such.
    let e = await waitForWait(executionId, 'answers_received');
    expect(e.ticket).toMatchObject({ system: 'jira', key: 'PROJ-7', title: 'A friendlier greeting' });
    expect(e.repository.url).toBe(origin.url);
    expect(ours()).toHaveLength(1);
    expect(ours()[0]!.body.type).toBe('doc');
    const questionsText = adfToMarkdown(ours()[0]!.body as never);
    const ids = e.questions!.map((q) => q.id);
    for (const id of ids) expect(questionsText).toContain(id);

    // A person answers in ADF; the webhook's body is plain text, the worker reads the comment itself.
    const answers = jira.addComment('PROJ-7', {
      body: paragraphs('Thanks, here goes:', ...ids.map((id, i) => `${id}: answer ${i + 1}`)),
    });
    const commented = commentCreatedEvent({
      issue: jira.issueJson('PROJ-7'),
      comment: jira.commentJson(answers),
      bodyAs: 'text',
    });
    const sent = { secret: SECRET, delivery: 'jira-d-2' };
    expect((await deliver(base(), 'jira', 'acme', commented, sent)).status).toBe(202);
    expect((await deliver(base(), 'jira', 'acme', commented, sent)).status).toBe(200);

    e = await waitForWait(executionId, 'plan_approved');
    expect(e.answers).toEqual(Object.fromEntries(ids.map((id, i) => [id, `answer ${i + 1}`])));
    expect(adfToMarkdown(ours().at(-1)!.body as never)).toContain('/approve');

    const approve = jira.addComment('PROJ-7', { body: paragraphs('/approve ship it'), author: PERSON });
    const approved = commentCreatedEvent({
      issue: jira.issueJson('PROJ-7'),
      comment: jira.commentJson(approve),
    });
    expect((await deliver(base(), 'jira', 'acme', approved, { secret: SECRET })).status).toBe(202);
    e = await waitForStatus(worker, executionId, ['completed', 'failed'], 60_000);
    expect(e.lastError).toBeUndefined();
    expect(e.status).toBe('completed');

    // The pull request (local: the repository is not on a GitHub) linked by a comment; the description's section.
    expect(adfToMarkdown(ours().at(-1)!.body as never)).toContain(e.pullRequest!.url);
    const description = JSON.stringify(jira.issues.get('PROJ-7')!.description);
    expect(description).toContain('Make the greeting friendlier.');
    expect(description).toContain('PRFactory refined description');
    expect(jira.violations).toEqual([]);

    // The API token: nowhere the worker writes or answers.
    const { rows: checkpoints } = await sql<{ text: string }>`
      SELECT snapshot::text AS text FROM ${sql.id(cluster.schema, 'checkpoints')}
      WHERE execution_id = ${executionId}`.execute(worker.database.db);
    const api = await (await fetch(`${base()}/v1/executions/${executionId}`)).text();
    const basic = Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64');
    for (const [where, text] of Object.entries({
      logs: logLines.join(''),
      events: JSON.stringify(await worker.service.eventsAfter(executionId, 0)),
      checkpoints: checkpoints.map((c) => c.text).join('\n'),
      api,
    })) {
      expect(text.includes(API_TOKEN), `the token in ${where}`).toBe(false);
      expect(text.includes(basic), `the basic credentials in ${where}`).toBe(false);
      expect(text.includes(SECRET), `the webhook secret in ${where}`).toBe(false);
    }
  });
});
