/** Local tickets on the machine's real PostgreSQL, in a schema of this file's own. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TicketRef } from '../../../src/actors/ports.js';
import { createLocalTickets } from '../../../src/integrations/tickets/local.js';
import { type Database, openDatabase } from '../../../src/persistence/database.js';
import { migrateToLatest } from '../../../src/persistence/migrate.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../support/database.js';

const signal = () => new AbortController().signal;

describe('local tickets', () => {
  const schema = uniqueSchema('itest');
  let database: Database;

  beforeAll(async () => {
    database = await openDatabase({
      Url: TEST_DATABASE_URL,
      Schema: schema,
      DataDirectory: 'unused',
      PoolSize: 4,
    });
    await migrateToLatest(database.db, schema);
  });
  afterAll(async () => {
    await database?.close();
    await dropSchema(schema);
  });

  const refOf = (executionId: string): TicketRef => ({
    tenantId: 'acme',
    executionId,
    ticket: { key: 'PROJ-7', system: 'local', title: 'A title', description: '' },
  });

  it('posts a comment once per idempotency key', async () => {
    const tickets = createLocalTickets(database.db);
    const executionId = randomUUID();
    const key = `${executionId}:postQuestions:0`;

    const first = await tickets.postComment(refOf(executionId), 'Questions', key, signal());
    const second = await tickets.postComment(refOf(executionId), 'Questions (re-run)', key, signal());

    expect(second.id).toBe(first.id);
    expect(first.id).toMatch(/^\d+$/);
    const rows = await database.db
      .selectFrom('ticket_comments')
      .selectAll()
      .where('idempotency_key', '=', key)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      tenant_id: 'acme',
      ticket_key: 'PROJ-7',
      execution_id: executionId,
      body: 'Questions',
    });
  });

  it('keeps one comment when the same key is posted concurrently', async () => {
    const tickets = createLocalTickets(database.db);
    const executionId = randomUUID();
    const key = `${executionId}:postPlan:1`;
    const ids = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        tickets.postComment(refOf(executionId), `Plan ${i}`, key, signal()),
      ),
    );
    expect(new Set(ids.map((result) => result.id)).size).toBe(1);
    expect(await tickets.postedComments(executionId)).toHaveLength(1);
  });

  it('lists an execution’s comments in posting order with ISO times', async () => {
    const tickets = createLocalTickets(database.db);
    const executionId = randomUUID();
    const other = randomUUID();
    await tickets.postComment(refOf(executionId), 'first', `${executionId}:a:0`, signal());
    await tickets.postComment(refOf(other), 'someone else’s', `${other}:a:0`, signal());
    await tickets.postComment(refOf(executionId), 'second', `${executionId}:b:0`, signal());
    await tickets.postComment(refOf(executionId), 'third', `${executionId}:a:1`, signal());

    const comments = await tickets.postedComments(executionId);
    expect(comments.map((comment) => comment.body)).toEqual(['first', 'second', 'third']);
    for (const comment of comments) {
      expect(comment.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    expect(await tickets.postedComments(randomUUID())).toEqual([]);
  });

  it('refuses a Jira ticket and an aborted signal without writing', async () => {
    const tickets = createLocalTickets(database.db);
    const executionId = randomUUID();
    const jira: TicketRef = {
      ...refOf(executionId),
      ticket: { ...refOf(executionId).ticket, system: 'jira' },
    };
    await expect(tickets.postComment(jira, 'x', `${executionId}:x:0`, signal())).rejects.toMatchObject({
      code: 'UNSUPPORTED_TICKET_SYSTEM',
    });
    const controller = new AbortController();
    controller.abort();
    await expect(
      tickets.postComment(refOf(executionId), 'x', `${executionId}:y:0`, controller.signal),
    ).rejects.toThrow();
    expect(await tickets.postedComments(executionId)).toEqual([]);
  });
});
