/**
 * The webhooks over real HTTP on PostgreSQL, with real git and the in-memory trackers standing in for GitHub and
 * Jira: refusals change nothing; a label starts `prfactory` once; comments answer, reject and approve; what a
 * wait does not take gets one reply; the worker's own account, bots and authors not heard are ignored.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../../src/worker.js';
import { createSampleOrigin, type SampleOrigin } from '../../support/git.js';
import { type MemoryTracker, MemoryTrackers, memoryTicketsPort } from '../../support/memoryTrackers.js';
import {
  githubCommented,
  githubLabeled,
  jiraCommented,
  jiraLabelsChanged,
} from '../../support/trackerPayloads.js';
import { deliver } from '../../support/webhookClient.js';
import { startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

const ACME = 'acme-webhook-secret';
const GLOBEX = 'globex-webhook-secret';
const JIRA = 'acme-jira-webhook-secret';

let cluster: TestCluster;
let worker: Worker;
let base: string;
let origin: SampleOrigin;
let github: MemoryTracker;
let jira: MemoryTracker;

beforeAll(async () => {
  origin = createSampleOrigin();
  const trackers = new MemoryTrackers();
  github = trackers.add('acme', 'github');
  jira = trackers.add('acme', 'jira');
  trackers.add('globex', 'github');
  trackers.add('nohook', 'github');
  cluster = await startCluster(0);
  worker = await cluster.add({
    http: true,
    trackers,
    ports: { tickets: memoryTicketsPort(trackers) },
    config: {
      // a token for the API: the webhooks need none, their signature authenticates them
      Http: { ApiToken: 'operator-token', BodyLimitBytes: 4096, WebhookBodyLimitBytes: 262_144 },
      Tenants: {
        acme: {
          // no poll during these tests: the webhooks alone (webhooksPoller.test.ts polls)
          GitHub: { Token: 'ghs_acme', WebhookSecret: ACME, PollSeconds: 3600 },
          Jira: {
            BaseUrl: 'https://acme.atlassian.net',
            Email: 'bot@acme.test',
            ApiToken: 'jira-token',
            WebhookSecret: JIRA,
            Repositories: { PROJ: origin.url },
            PollSeconds: 3600,
          },
        },
        globex: { GitHub: { Token: 'ghs_globex', WebhookSecret: GLOBEX, PollSeconds: 3600 } },
        nohook: { GitHub: { Token: 'ghs_nohook', PollSeconds: 3600 } },
      },
    },
  });
  base = worker.url!;
});

afterAll(async () => {
  await cluster.cleanup();
  origin.cleanup();
});

async function recordedInputs(): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM tracker_inputs`.execute(
    worker.database.db,
  );
  return rows[0]!.n;
}

async function executionsOf(ticketKey: string) {
  return (await worker.service.list({ ticketKey })).items;
}

/** Waits until the execution is suspended in a wait accepting `type`. */
async function waitFor(executionId: string, type: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const e = await waitForStatus(worker, executionId, ['suspended', 'completed', 'failed']);
    if (e.status === 'suspended' && e.waitingFor.includes(type)) return e;
    if (e.status !== 'suspended' || Date.now() > deadline) {
      throw new Error(`execution ${executionId} is ${e.status} at ${e.state}, not waiting for ${type}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('refusals', () => {
  const labeled = () => githubLabeled({ number: 100, cloneUrl: origin.url });

  it('a missing, wrong or another tenant’s signature gets 401, and nothing changes', async () => {
    const before = await recordedInputs();
    const calls = github.calls.length;
    for (const o of [
      { secret: null },
      { signature: `sha256=${'0'.repeat(64)}` },
      { signature: 'sha1=0123' },
      { secret: GLOBEX },
      { secret: JIRA },
    ]) {
      const answer = await deliver(base, 'github', 'acme', labeled(), { event: 'issues', ...o });
      expect(answer.status, JSON.stringify(o)).toBe(401);
      expect(answer.body).toEqual({
        error: { code: 'unauthorized', message: expect.stringMatching(/x-hub-signature-256/) },
      });
    }
    expect(
      (await deliver(base, 'jira', 'acme', jiraLabelsChanged('PROJ-1', [], ['prfactory']), { secret: ACME }))
        .status,
    ).toBe(401);
    expect(await executionsOf('acme/widgets#100')).toEqual([]);
    expect(await recordedInputs()).toBe(before);
    expect(github.calls.length).toBe(calls);
  });

  it('404 for a tenant without that tracker, 401 for one without a webhook secret', async () => {
    const payload = labeled();
    expect((await deliver(base, 'github', 'plain', payload, { event: 'issues', secret: ACME })).status).toBe(
      404,
    );
    expect(
      (await deliver(base, 'github', 'default', payload, { event: 'issues', secret: ACME })).status,
    ).toBe(404);
    expect(
      (await deliver(base, 'github', '__proto__', payload, { event: 'issues', secret: ACME })).status,
    ).toBe(404);
    expect((await deliver(base, 'jira', 'globex', payload, { secret: GLOBEX })).status).toBe(404);
    const noSecret = await deliver(base, 'github', 'nohook', payload, {
      event: 'issues',
      secret: 'anything',
    });
    expect(noSecret).toEqual({
      status: 401,
      body: { error: { code: 'unauthorized', message: expect.stringMatching(/GitHub.WebhookSecret/) } },
    });
  });

  it('415 for a form-encoded delivery, 413 over the webhook limit (not the API’s), 400 for what is not JSON', async () => {
    const before = await recordedInputs();
    const form = `payload=${encodeURIComponent(JSON.stringify(labeled()))}`;
    const formAnswer = await deliver(base, 'github', 'acme', null, {
      event: 'issues',
      secret: ACME,
      raw: form,
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(formAnswer.status).toBe(415);
    expect(formAnswer.body).toMatchObject({
      error: { code: 'unsupported_media_type', message: /application\/json/ },
    });
    expect(
      (
        await deliver(base, 'github', 'acme', null, {
          event: 'issues',
          secret: ACME,
          raw: '{}',
          contentType: 'text/plain',
        })
      ).status,
    ).toBe(415);

    const huge = JSON.stringify({ zen: 'x'.repeat(300_000) });
    const tooLarge = await deliver(base, 'github', 'acme', null, { event: 'ping', secret: ACME, raw: huge });
    expect(tooLarge).toEqual({
      status: 413,
      body: { error: { code: 'payload_too_large', message: 'the body is larger than 262144 bytes' } },
    });
    // Over Http.BodyLimitBytes (4096) but within the webhooks' own limit: read.
    const large = await deliver(
      base,
      'github',
      'acme',
      { zen: 'y'.repeat(8000), hook_id: 1 },
      { event: 'ping', secret: ACME },
    );
    expect(large).toEqual({ status: 200, body: { ignored: 'ping is not handled' } });

    for (const raw of ['{"action": "labeled"', '', 'payload=x']) {
      const answer = await deliver(base, 'github', 'acme', null, { event: 'issues', secret: ACME, raw });
      expect(answer.status, raw).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: 'invalid_input' } });
    }
    expect((await deliver(base, 'github', 'acme', labeled(), { secret: ACME })).status).toBe(400); // no event
    expect(
      (await deliver(base, 'github', 'acme', labeled(), { event: 'issues', secret: ACME, delivery: null }))
        .status,
    ).toBe(400);
    const noNumber = { ...labeled(), issue: { title: 'x', html_url: 'u' } };
    const invalid = await deliver(base, 'github', 'acme', noNumber, { event: 'issues', secret: ACME });
    expect(invalid).toEqual({
      status: 400,
      body: {
        error: {
          code: 'invalid_input',
          message: 'issues delivery: issue.number: Invalid input: expected number, received undefined',
        },
      },
    });
    // the ping above was handled and recorded; nothing refused was
    expect(await recordedInputs()).toBe(before + 1);
  });
});

describe('GitHub', () => {
  const key = 'acme/widgets#7';
  const labeled = () => githubLabeled({ number: 7, cloneUrl: origin.url });
  const comment = (
    commentId: number,
    body: string,
    extra: Partial<Parameters<typeof githubCommented>[0]> = {},
  ) => githubCommented({ number: 7, cloneUrl: origin.url, commentId, body, ...extra });
  let executionId: string;

  it('the trigger label starts prfactory once; a redelivery and a second label are ignored', async () => {
    const first = await deliver(base, 'github', 'acme', labeled(), {
      event: 'issues',
      secret: ACME,
      delivery: 'd-label-1',
    });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({
      executionId: expect.any(String),
      status: expect.any(String),
      accepted: 'start',
    });
    executionId = first.body.executionId as string;
    const again = await deliver(base, 'github', 'acme', labeled(), {
      event: 'issues',
      secret: ACME,
      delivery: 'd-label-1',
    });
    expect(again).toEqual({ status: 200, body: { ignored: 'duplicate delivery' } });

    const e = await waitFor(executionId, 'answers_received');
    expect(e.graph).toBe('prfactory');
    expect(e.ticket).toEqual({
      key,
      system: 'github',
      title: 'Add a dark mode',
      description: 'The settings page needs a dark mode.',
      url: 'https://github.com/acme/widgets/issues/7',
    });
    expect(e.repository).toEqual({ url: origin.url, defaultBranch: 'main' });
    // the questions are a comment on the issue
    expect(github.postedWith(`${executionId}:postQuestions`, key)).toHaveLength(1);

    const second = await deliver(base, 'github', 'acme', labeled(), {
      event: 'issues',
      secret: ACME,
      delivery: 'd-label-2',
    });
    expect(second).toEqual({
      status: 200,
      body: { ignored: `execution ${executionId} is active for ${key}`, executionId },
    });
    expect((await executionsOf(key)).map((x) => x.executionId)).toEqual([executionId]);
  });

  it('a command the wait does not take gets 200 and one reply, however often it comes', async () => {
    const approve = comment(5001, '/approve');
    const answer = await deliver(base, 'github', 'acme', approve, { event: 'issue_comment', secret: ACME });
    expect(answer).toEqual({
      status: 200,
      body: { ignored: '/approve is not accepted now (waiting for answers_received)', executionId },
    });
    const again = await deliver(base, 'github', 'acme', approve, { event: 'issue_comment', secret: ACME });
    expect(again).toEqual({ status: 200, body: { ignored: 'the comment was handled already' } });
    const replies = github.postedWith('reply-to-github-comment-5001', key);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toMatch(/`\/approve` was not taken: PRFactory is waiting for answers/);

    const chatter = await deliver(base, 'github', 'acme', comment(5002, 'Thanks, will answer tomorrow'), {
      event: 'issue_comment',
      secret: ACME,
    });
    expect(chatter.body).toMatchObject({ ignored: 'the comment answers none of the questions' });
    expect(github.postedWith('reply-to-github-comment-5002')[0]!.body).toMatch(/```\nq1: …\nq2: …/);

    const bare = await deliver(base, 'github', 'acme', comment(5003, '/reject'), {
      event: 'issue_comment',
      secret: ACME,
    });
    expect(bare.status).toBe(200);
    expect(github.postedWith('reply-to-github-comment-5003')).toHaveLength(1);
    expect((await worker.service.get(executionId)).waitingFor).toEqual(['answers_received']);
  });

  it('the worker’s own account, bots and authors not heard are ignored, without a reply', async () => {
    const cases: [Parameters<typeof comment>[2], string][] = [
      [{ login: 'prfactory-bot' }, 'the comment is the worker’s own'],
      [{ login: 'dependabot[bot]', userType: 'Bot' }, 'the comment is a bot’s'],
      [{ login: 'mallory', association: 'NONE' }, 'the author mallory (NONE) is not heard'],
      [{ login: 'carol', association: 'CONTRIBUTOR' }, 'the author carol (CONTRIBUTOR) is not heard'],
      [{ onPullRequest: true }, 'a comment on a pull request'],
    ];
    let id = 5100;
    for (const [extra, reason] of cases) {
      const answer = await deliver(base, 'github', 'acme', comment(++id, 'q1: sneaky\n/approve', extra), {
        event: 'issue_comment',
        secret: ACME,
      });
      expect(answer.status).toBe(200);
      expect(answer.body.ignored).toBe(reason);
      expect(github.postedWith(`reply-to-github-comment-${id}`)).toEqual([]);
    }
    const e = await worker.service.get(executionId);
    expect(e.status).toBe('suspended');
    expect(e.waitingFor).toEqual(['answers_received']);
  });

  it('answers resume it, the questions left out recorded as unanswered', async () => {
    const answers = comment(
      5200,
      'Here you go:\n\nQ1: Postgres 16\n**q2**: keep it\nfor now\n\n> q3: quoted',
    );
    const answer = await deliver(base, 'github', 'acme', answers, { event: 'issue_comment', secret: ACME });
    expect(answer).toEqual({
      status: 202,
      body: { executionId, status: expect.any(String), accepted: 'answers_received' },
    });
    const e = await waitFor(executionId, 'plan_approved');
    const expected: Record<string, string> = { q1: 'Postgres 16', q2: 'keep it\nfor now' };
    for (const q of e.questions ?? []) expected[q.id] ??= '(no answer)';
    expect(e.answers).toEqual(expected);
    // the same comment in another delivery has no second effect
    const again = await deliver(base, 'github', 'acme', answers, { event: 'issue_comment', secret: ACME });
    expect(again).toEqual({ status: 200, body: { ignored: 'the comment was handled already' } });
  });

  it('answers after they were taken get one reply; /reject makes a second plan round; /approve approves', async () => {
    const late = await deliver(base, 'github', 'acme', comment(5300, 'q1: MySQL after all'), {
      event: 'issue_comment',
      secret: ACME,
    });
    expect(late.body).toMatchObject({ ignored: 'no answers are awaited now' });
    expect(github.postedWith('reply-to-github-comment-5300')[0]!.body).toMatch(
      /These answers were not taken/,
    );

    const reject = await deliver(
      base,
      'github',
      'acme',
      comment(5301, '/reject too big\nsplit it in two', { login: 'bob' }),
      {
        event: 'issue_comment',
        secret: ACME,
      },
    );
    expect(reject.status).toBe(202);
    expect(reject.body.accepted).toBe('plan_rejected');
    const { rows } = await sql<{ payload: Record<string, unknown> }>`
      SELECT payload FROM inbox WHERE id = 'github-comment-5301'`.execute(worker.database.db);
    expect(rows[0]!.payload).toMatchObject({
      type: 'plan_rejected',
      rejectedBy: 'bob',
      reason: 'too big\nsplit it in two',
    });
    await new Promise((r) => setTimeout(r, 50));
    let e = await waitFor(executionId, 'plan_approved');
    expect(e.history.filter((h) => h.state.endsWith('awaitingApproval'))).toHaveLength(2);

    const approve = await deliver(
      base,
      'github',
      'acme',
      comment(5302, '/approve ship it', { login: 'ana' }),
      {
        event: 'issue_comment',
        secret: ACME,
      },
    );
    expect(approve.status).toBe(202);
    e = await waitForStatus(worker, executionId, ['completed', 'failed'], 60_000);
    expect(e.status, e.lastError).toBe('completed');
    expect(e.pullRequest).toBeDefined();
    expect(github.postedWith(`${executionId}:linkPullRequest`, key)).toHaveLength(1);
    // ended: a comment now reaches no execution, and gets no reply
    const after = await deliver(base, 'github', 'acme', comment(5303, '/approve'), {
      event: 'issue_comment',
      secret: ACME,
    });
    expect(after).toEqual({ status: 200, body: { ignored: `no active execution for ${key}` } });
    expect(github.postedWith('reply-to-github-comment-5303')).toEqual([]);
  });

  it('a new label on a ticket whose execution ended starts again', async () => {
    const answer = await deliver(base, 'github', 'acme', labeled(), {
      event: 'issues',
      secret: ACME,
      delivery: 'd-label-3',
    });
    expect(answer.status).toBe(202);
    expect(answer.body.executionId).not.toBe(executionId);
    await worker.service.cancel(
      answer.body.executionId as string,
      { tenantId: 'acme' },
      { source: 'library' },
    );
  });
});

describe('Jira', () => {
  it('the label starts with the project’s repository; a comment is read again from the tracker', async () => {
    jira.tickets.set('PROJ-12', {
      key: 'PROJ-12',
      title: 'Dark mode',
      description: 'The *settings* page needs a dark mode.',
      url: 'https://acme.atlassian.net/browse/PROJ-12',
      labels: ['prfactory'],
    });
    const started = await deliver(
      base,
      'jira',
      'acme',
      jiraLabelsChanged('PROJ-12', ['ui'], ['ui', 'prfactory']),
      {
        secret: JIRA,
        delivery: 'jira-d-1',
      },
    );
    expect(started.status).toBe(202);
    const executionId = started.body.executionId as string;
    const e = await waitFor(executionId, 'answers_received');
    expect(e.ticket).toEqual({
      key: 'PROJ-12',
      system: 'jira',
      title: 'Dark mode',
      description: 'The *settings* page needs a dark mode.',
      url: 'https://acme.atlassian.net/browse/PROJ-12',
    });
    expect(e.repository).toEqual({ url: origin.url, defaultBranch: 'main' });
    expect(jira.postedWith(`${executionId}:postQuestions`, 'PROJ-12')).toHaveLength(1);

    // the delivery's body is not what counts: the comment as the tracker has it is
    jira.addComment('PROJ-12', { id: '10077', author: '5b10a2844c20165700ede21g', body: 'q1: from the ADF' });
    const answered = await deliver(base, 'jira', 'acme', jiraCommented('PROJ-12', '10077'), { secret: JIRA });
    expect(answered.status).toBe(202);
    expect((await waitFor(executionId, 'plan_approved')).answers).toMatchObject({ q1: 'from the ADF' });

    const gone = await deliver(base, 'jira', 'acme', jiraCommented('PROJ-12', '99999'), { secret: JIRA });
    expect(gone).toEqual({ status: 200, body: { ignored: 'comment 99999 is gone' } });
    await worker.service.cancel(executionId, { tenantId: 'acme' }, { source: 'library' });
  });

  it('a project without a repository is told so on the ticket, once', async () => {
    const payload = jiraLabelsChanged('OTHER-1', [], ['prfactory']);
    const answer = await deliver(base, 'jira', 'acme', payload, { secret: JIRA, delivery: 'jira-d-2' });
    expect(answer).toEqual({
      status: 200,
      body: { ignored: 'no repository is configured for project OTHER' },
    });
    expect(await deliver(base, 'jira', 'acme', payload, { secret: JIRA, delivery: 'jira-d-2' })).toEqual({
      status: 200,
      body: { ignored: 'duplicate delivery' },
    });
    const replies = jira.posted.filter((p) => p.ticketKey === 'OTHER-1');
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toMatch(/no repository is configured for project `OTHER`/);
    expect(await executionsOf('OTHER-1')).toEqual([]);
  });

  it('a tracker that cannot be reached is 503 and nothing is recorded: the redelivery starts it', async () => {
    jira.tickets.set('PROJ-13', { key: 'PROJ-13', title: 'T', description: '', url: 'u', labels: [] });
    const payload = jiraLabelsChanged('PROJ-13', [], ['prfactory']);
    jira.down = true;
    try {
      const refused = await deliver(base, 'jira', 'acme', payload, { secret: JIRA, delivery: 'jira-d-3' });
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({
        error: { code: 'unavailable', message: /jira reading the ticket failed/ },
      });
    } finally {
      jira.down = false;
    }
    expect(await executionsOf('PROJ-13')).toEqual([]);
    const redelivered = await deliver(base, 'jira', 'acme', payload, { secret: JIRA, delivery: 'jira-d-3' });
    expect(redelivered.status).toBe(202);
    await worker.service.cancel(
      redelivered.body.executionId as string,
      { tenantId: 'acme' },
      { source: 'library' },
    );
  });
});
