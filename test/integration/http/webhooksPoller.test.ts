/**
 * Nothing is lost while webhooks are missed or the worker is down: the comment poller reads the tickets of
 * suspended executions and handles their comments exactly as deliveries, once. On PostgreSQL with real git and
 * the in-memory trackers.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../../src/worker.js';
import { createSampleOrigin, type SampleOrigin } from '../../support/git.js';
import { type MemoryTracker, MemoryTrackers, memoryTicketsPort } from '../../support/memoryTrackers.js';
import { githubCommented, githubLabeled } from '../../support/trackerPayloads.js';
import { deliver } from '../../support/webhookClient.js';
import { startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

const SECRET = 'acme-webhook-secret';

let cluster: TestCluster;
let origin: SampleOrigin;
let trackers: MemoryTrackers;
let github: MemoryTracker;

/** A worker of the cluster with the trackers, polling every 0.3 s. */
function addWorker(): Promise<Worker> {
  return cluster.add({
    http: true,
    trackers,
    ports: { tickets: memoryTicketsPort(trackers) },
    config: { Tenants: { acme: { GitHub: { Token: 'ghs_acme', WebhookSecret: SECRET, PollSeconds: 0.3 } } } },
  });
}

beforeAll(async () => {
  origin = createSampleOrigin();
  trackers = new MemoryTrackers();
  github = trackers.add('acme', 'github');
  cluster = await startCluster(0);
});

afterAll(async () => {
  await cluster.cleanup();
  origin.cleanup();
});

async function waitFor(worker: Worker, executionId: string, type: string) {
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

async function start(worker: Worker, issue: number, delivery: string): Promise<string> {
  const answer = await deliver(
    worker.url!,
    'github',
    'acme',
    githubLabeled({ number: issue, cloneUrl: origin.url }),
    {
      event: 'issues',
      secret: SECRET,
      delivery,
    },
  );
  expect(answer.status).toBe(202);
  return answer.body.executionId as string;
}

describe('the comment poller', () => {
  it('picks up comments whose webhooks never came, each once', async () => {
    const worker = await addWorker();
    const key = 'acme/widgets#21';
    const executionId = await start(worker, 21, 'poll-label-1');
    await waitFor(worker, executionId, 'answers_received');

    // a comment on the issue, no delivery: the poller reads it
    const answers = github.addComment(key, { body: 'q1: read by the poller', author: 'ana' });
    const e = await waitFor(worker, executionId, 'plan_approved');
    expect(e.answers).toMatchObject({ q1: 'read by the poller' });

    // its webhook, late: the same comment, no second effect
    const late = await deliver(
      worker.url!,
      'github',
      'acme',
      githubCommented({
        number: 21,
        cloneUrl: origin.url,
        commentId: Number(answers.id),
        body: answers.body,
      }),
      { event: 'issue_comment', secret: SECRET },
    );
    expect(late).toEqual({ status: 200, body: { ignored: 'the comment was handled already' } });

    // chatter and the worker's own comments get nothing; /approve by someone not heard neither
    github.addComment(key, { body: 'nice plan', author: 'bob' });
    github.addComment(key, { body: '/approve', author: 'mallory', association: 'NONE' });
    github.addComment(key, { body: '/approve lgtm', author: 'ana' });
    const done = await waitForStatus(worker, executionId, ['completed', 'failed'], 60_000);
    expect(done.status, done.lastError).toBe('completed');
    const { rows } = await sql<{ payload: Record<string, unknown> }>`
      SELECT payload FROM inbox WHERE execution_id = ${executionId} AND kind = 'resume' ORDER BY received_seq`.execute(
      worker.database.db,
    );
    expect(rows.map((r) => r.payload.type)).toEqual(['answers_received', 'plan_approved']);
    expect(rows[1]!.payload).toMatchObject({ approvedBy: 'ana', comment: 'lgtm' });
    // no reply to anything: nothing asked for one
    expect(github.postedWith('reply-to-')).toEqual([]);
    await worker.stop(1000);
  });

  it('loses nothing across a restart: a comment made while no worker runs is read by the next', async () => {
    const first = await addWorker();
    const key = 'acme/widgets#22';
    const executionId = await start(first, 22, 'poll-label-2');
    await waitFor(first, executionId, 'answers_received');
    await first.stop(1000);

    github.addComment(key, { body: '**Q1:** answered while the worker was down', author: 'ana' });
    const second = await addWorker();
    const e = await waitFor(second, executionId, 'plan_approved');
    expect(e.answers).toMatchObject({ q1: 'answered while the worker was down' });
    // the label's delivery again, to the new worker: recorded in the database, so no second effect
    const again = await deliver(
      second.url!,
      'github',
      'acme',
      githubLabeled({ number: 22, cloneUrl: origin.url }),
      {
        event: 'issues',
        secret: SECRET,
        delivery: 'poll-label-2',
      },
    );
    expect(again).toEqual({ status: 200, body: { ignored: 'duplicate delivery' } });
    expect((await second.service.list({ ticketKey: key })).items).toHaveLength(1);
  });

  it('reads again, at its next interval, a comment it could not handle', async () => {
    const worker = cluster.workers.at(-1)!;
    const key = 'acme/widgets#23';
    const executionId = await start(worker, 23, 'poll-label-3');
    await waitFor(worker, executionId, 'answers_received');
    github.down = true;
    github.addComment(key, { body: 'q2: after the outage', author: 'ana' });
    await new Promise((r) => setTimeout(r, 1000));
    expect((await worker.service.get(executionId)).status).toBe('suspended');
    github.down = false;
    const e = await waitFor(worker, executionId, 'plan_approved');
    expect(e.answers).toMatchObject({ q2: 'after the outage' });
  });
});
