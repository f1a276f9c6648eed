/**
 * The prfactory graph driven from GitHub, end to end on PostgreSQL: a loopback GitHub (REST and git over smart
 * HTTP, both refusing a request without the token) and real signed webhook deliveries. A label starts it; the
 * questions, the plan and the pull request's link appear as issue comments; people answer, reject and approve in
 * comments; a pull request is opened on GitHub from a branch holding the change. Every delivery sent twice has one
 * effect, a restart between two comments loses nothing, a 429 is waited out, and the token appears nowhere the
 * worker writes or answers.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { ProviderBreakers } from '../../../src/integrations/llm/providerBreakers.js';
import { createTrackerServices } from '../../../src/integrations/trackers/services.js';
import { secretsOf } from '../../../src/redaction.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import type { Worker } from '../../../src/worker.js';
import { type FakeGitHub, startFakeGitHub } from '../../support/fakeGitHub.js';
import { deliver } from '../../support/webhookClient.js';
import { startCluster, type TestCluster, testConfig, waitForStatus } from '../../support/worker.js';

const SECRET = 'acme-github-webhook-secret-93c1';
const TOKEN = 'ghp_acmeE2eToken0123456789abcdef0123';
const REPO = 'acme/greeter';

/** Every file's text under `dir` (the worker's clones and their .git), for a grep. */
function filesUnder(dir: string): string {
  let text = '';
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat?.isDirectory()) text += filesUnder(file);
    else if (stat?.isFile() && stat.size < 1_000_000) text += readFileSync(file, 'latin1');
  }
  return text;
}

describe('the prfactory graph driven from GitHub', () => {
  let gh: FakeGitHub;
  let cluster: TestCluster;
  const logLines: string[] = [];

  beforeAll(async () => {
    gh = await startFakeGitHub({ login: 'prfactory-bot', token: TOKEN });
    gh.createRepository(REPO, { files: { 'README.md': '# Greeter\n\nSays hello.\n' } });
    cluster = await startCluster(0);
  });
  afterAll(async () => {
    await cluster?.cleanup();
    await gh?.close();
  });

  async function startWorker(pollSeconds: number): Promise<Worker> {
    const input = {
      Tenants: {
        default: { AutoImplementAfterPlanApproval: true },
        acme: { GitHub: { ApiUrl: gh.url, Token: TOKEN, WebhookSecret: SECRET, PollSeconds: pollSeconds } },
      },
      Logging: { Level: 'debug', Directory: null },
    } as const;
    const config = parseConfig(testConfig(cluster.schema, '/unused', input));
    const logger = createLogger({
      config: config.Logging,
      secrets: secretsOf(config),
      destination: { write: (line: string) => logLines.push(line) },
    });
    const trackerServices = createTrackerServices({
      config,
      breakers: new ProviderBreakers(),
      paceGitHubWrites: false,
    });
    return cluster.add({ config: input, logger, trackerServices, http: true });
  }

  async function waitForWait(worker: Worker, executionId: string, type: string) {
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

  it('starts on a label, hears answers and commands in comments, and opens the pull request on GitHub', async () => {
    let worker = await startWorker(3600);
    const base = worker.url!;
    const issue = gh.createIssue(REPO, {
      title: 'A friendlier greeting',
      body: 'Say hello, friend.',
      author: 'ana',
    });
    const bot = () => gh.commentsOf(REPO, issue.number).filter((c) => c.user.login === 'prfactory-bot');

    // GitHub rate-limits the first comment: the step waits the retry-after out, spending no attempt.
    gh.fail('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      status: 429,
      headers: { 'retry-after': '1' },
      body: { message: 'API rate limit exceeded', documentation_url: 'https://docs.github.com' },
    });

    // The label: one start, whatever is sent again.
    const labeled = gh.issueLabeledPayload(REPO, issue.number, 'prfactory', { sender: 'ana' });
    const first = await deliver(base, 'github', 'acme', labeled, {
      event: 'issues',
      secret: SECRET,
      delivery: 'd-1',
    });
    expect(first.status).toBe(202);
    const executionId = String(first.body.executionId);
    const again = await deliver(base, 'github', 'acme', labeled, {
      event: 'issues',
      secret: SECRET,
      delivery: 'd-1',
    });
    expect(again.status).toBe(200);
    const relabeled = await deliver(base, 'github', 'acme', labeled, { event: 'issues', secret: SECRET });
    expect(relabeled).toMatchObject({ status: 200, body: { ignored: expect.any(String) } });
    expect((await worker.service.list({ ticketKey: `${REPO}#${issue.number}` })).items).toHaveLength(1);

    // The questions, as a comment on the issue.
    let e = await waitForWait(worker, executionId, 'answers_received');
    expect(e.ticket).toMatchObject({ system: 'github', key: `${REPO}#${issue.number}` });
    const events = await worker.service.eventsAfter(executionId, 0);
    expect(events).toContainEqual(expect.objectContaining({ kind: 'retrying', reason: 'rate_limited' }));
    expect(bot()).toHaveLength(1);
    expect(bot()[0]!.body).toContain('q1: …');
    const questionIds = e.questions!.map((q) => q.id);

    // Not heard: the worker's own account, an author with no association; then a person answers, twice delivered.
    const own = gh.addComment(REPO, issue.number, { body: '/approve', author: 'prfactory-bot' });
    const stranger = gh.addComment(REPO, issue.number, {
      body: 'q1: me!',
      author: 'mallory',
      association: 'NONE',
    });
    for (const c of [own, stranger]) {
      const answer = await deliver(base, 'github', 'acme', gh.issueCommentPayload(c.id), {
        event: 'issue_comment',
        secret: SECRET,
      });
      expect(answer).toMatchObject({ status: 200, body: { ignored: expect.any(String) } });
    }
    const answers = gh.addComment(REPO, issue.number, {
      body: `Thanks!\n\n${questionIds.map((id, i) => `${id}: answer ${i + 1}`).join('\n')}`,
      author: 'ana',
      association: 'OWNER',
    });
    const answerPayload = gh.issueCommentPayload(answers.id);
    const sent = { event: 'issue_comment', secret: SECRET, delivery: 'd-answers' };
    expect((await deliver(base, 'github', 'acme', answerPayload, sent)).status).toBe(202);
    expect((await deliver(base, 'github', 'acme', answerPayload, sent)).status).toBe(200);

    // The plan, as a comment; a rejection with its reason makes a second round.
    e = await waitForWait(worker, executionId, 'plan_approved');
    expect(e.answers).toEqual(Object.fromEntries(questionIds.map((id, i) => [id, `answer ${i + 1}`])));
    expect(bot().at(-1)!.body).toContain('/approve');
    const reject = gh.addComment(REPO, issue.number, {
      body: '/reject too big',
      author: 'ana',
      association: 'OWNER',
    });
    const rejected = await deliver(base, 'github', 'acme', gh.issueCommentPayload(reject.id), {
      event: 'issue_comment',
      secret: SECRET,
    });
    expect(rejected.status).toBe(202);
    const deadline = Date.now() + 30_000;
    do {
      await new Promise((r) => setTimeout(r, 50));
      e = await waitForWait(worker, executionId, 'plan_approved');
    } while (!e.plan?.markdown.includes('too big') && Date.now() < deadline);
    expect(e.plan?.markdown).toContain('too big');
    // the refined description sits in its own section; the author's text is kept
    const body = String(gh.issue(REPO, issue.number)?.body);
    expect(body.startsWith('Say hello, friend.')).toBe(true);
    expect(body).toContain('<!-- prfactory:refined:start -->');

    // The worker stops; `/approve` is written while none runs (its webhook is lost); the next worker polls it.
    await worker.stop(5000);
    cluster.workers.splice(cluster.workers.indexOf(worker), 1);
    gh.addComment(REPO, issue.number, { body: '/approve looks right', author: 'ana', association: 'MEMBER' });
    worker = await startWorker(1);
    e = await waitForStatus(worker, executionId, ['completed', 'failed'], 60_000);
    expect(e.lastError).toBeUndefined();
    expect(e.status).toBe('completed');

    // The pull request: on GitHub, from a branch holding the change; the issue links it.
    expect(gh.pulls).toHaveLength(1);
    const pull = gh.pulls[0]!;
    const pullUrl = `${gh.url}/${REPO}/pull/${pull.number}`;
    expect(e.pullRequest?.url).toBe(pullUrl);
    expect(pull.head).toBe(e.pullRequest!.branch);
    expect(gh.branchTip(REPO, e.pullRequest!.branch)).not.toBeNull();
    expect(gh.branchTip(REPO, e.pullRequest!.branch)).not.toBe(gh.branchTip(REPO, 'main'));
    expect(bot().at(-1)!.body).toContain(pullUrl);
    // what the worker posted is in the API too (the `/approve` the test wrote as the bot excepted)
    expect(e.comments?.length).toBe(bot().filter((c) => c.id !== own.id).length);

    // The token: nowhere the worker writes or answers, nor in its clones (remote URLs and .git/config included).
    const { rows: checkpoints } = await sql<{ text: string }>`
      SELECT snapshot::text AS text FROM ${sql.id(cluster.schema, 'checkpoints')}
      WHERE execution_id = ${executionId}`.execute(worker.database.db);
    const api = await Promise.all(
      [`/v1/executions/${executionId}`, '/v1/executions'].map(async (r) =>
        (await fetch(`${worker.url}${r}`)).text(),
      ),
    );
    const everything = {
      logs: logLines.join(''),
      events: JSON.stringify(await worker.service.eventsAfter(executionId, 0)),
      checkpoints: checkpoints.map((c) => c.text).join('\n'),
      api: api.join('\n'),
      workspaces: filesUnder(worker.config.Workspaces.Directory),
    };
    expect(everything.logs.length).toBeGreaterThan(1000);
    expect(everything.workspaces.length).toBeGreaterThan(1000);
    for (const [where, text] of Object.entries(everything)) {
      expect(text.includes(TOKEN), `the token in ${where}`).toBe(false);
      expect(text.includes(SECRET), `the webhook secret in ${where}`).toBe(false);
      expect(text.includes(Buffer.from(`x-access-token:${TOKEN}`).toString('base64')), where).toBe(false);
    }
  });
});
