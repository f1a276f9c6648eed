/**
 * The tables of migration 0004 on real PostgreSQL: the ticket lookup and its index, the poller's claim (each due
 * execution to one claimant), and retention of the delivery and comment records.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { pruneHistory } from '../../../src/host/housekeeping.js';
import { advanceCursor, claimDuePolls } from '../../../src/persistence/commentCursors.js';
import { type Database, openDatabase } from '../../../src/persistence/database.js';
import { migrateToLatest } from '../../../src/persistence/migrate.js';
import type { ExecutionStatus } from '../../../src/persistence/schema.js';
import { findActiveTicketExecution } from '../../../src/persistence/ticketExecutions.js';
import { findTrackerInput, recordTrackerInput } from '../../../src/persistence/trackerInputs.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../support/database.js';

const schema = uniqueSchema('trk');
let database: Database;

beforeAll(async () => {
  database = await openDatabase({ Url: TEST_DATABASE_URL, Schema: schema, PoolSize: 4, DataDirectory: '' });
  await migrateToLatest(database.db, schema);
});

afterAll(async () => {
  await database.close();
  await dropSchema(schema);
});

async function execution(
  ticket: { key: string; system: string },
  status: ExecutionStatus,
  o: { tenantId?: string; createdAt?: string } = {},
): Promise<string> {
  const id = randomUUID();
  await sql`
    INSERT INTO executions (id, graph, graph_version, tenant_id, ticket, repository, request_hash, status, created_at)
    VALUES (${id}, 'prfactory', 2, ${o.tenantId ?? 'acme'}, ${JSON.stringify(ticket)}, '{}', 'h', ${status},
      ${o.createdAt ?? new Date().toISOString()})`.execute(database.db);
  return id;
}

describe('the ticket lookup', () => {
  it('finds the newest active execution of the ticket, never a finished one nor another tenant’s', async () => {
    const ticket = { key: 'acme/widgets#1', system: 'github' };
    await execution(ticket, 'completed');
    await execution(ticket, 'suspended', { tenantId: 'globex' });
    await execution({ ...ticket, system: 'jira' }, 'suspended');
    expect(await findActiveTicketExecution(database.db, { tenantId: 'acme', ...ticket })).toBeUndefined();
    const older = await execution(ticket, 'running', { createdAt: '2026-01-01T00:00:00Z' });
    const newer = await execution(ticket, 'suspended', { createdAt: '2026-01-02T00:00:00Z' });
    const found = await findActiveTicketExecution(database.db, { tenantId: 'acme', ...ticket });
    expect(found).toMatchObject({
      id: newer,
      status: 'suspended',
      waiting_for: [],
      last_checkpoint_at: null,
    });
    expect(older).not.toBe(newer);
  });

  it('is served by the partial index executions_ticket', async () => {
    const plan = await database.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL enable_seqscan = off`.execute(trx);
      const { rows } = await sql<{ 'QUERY PLAN': string }>`
        EXPLAIN SELECT id FROM executions AS e
        WHERE e.tenant_id = 'acme' AND (e.ticket->>'system') = 'github' AND (e.ticket->>'key') = 'x'
          AND e.status NOT IN ('completed', 'failed', 'cancelled')`.execute(trx);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('executions_ticket');
  });
});

describe('the poller’s claim', () => {
  const poll = (tenantId = 'polled') => ({ tenantId, system: 'github', pollSeconds: 3600, limit: 10 });

  it('gives a new execution its cursor, due one interval later, then to one claimant at a time', async () => {
    const created = '2026-03-01T10:00:00.000Z';
    const id = await execution({ key: 'acme/widgets#2', system: 'github' }, 'suspended', {
      tenantId: 'polled',
      createdAt: created,
    });
    await execution({ key: 'acme/widgets#3', system: 'github' }, 'running', { tenantId: 'polled' });
    await execution({ key: 'PROJ-1', system: 'jira' }, 'suspended', { tenantId: 'polled' });
    expect(await claimDuePolls(database.db, poll())).toEqual([]);
    const { rows } = await sql<{ execution_id: string; last_comment_at: Date }>`
      SELECT execution_id, last_comment_at FROM tracker_comment_cursors`.execute(database.db);
    expect(rows).toEqual([{ execution_id: id, last_comment_at: new Date(created) }]);

    await sql`UPDATE tracker_comment_cursors SET next_poll_at = now() - interval '1 second'`.execute(
      database.db,
    );
    const claims = await Promise.all(Array.from({ length: 6 }, () => claimDuePolls(database.db, poll())));
    expect(claims.flat()).toEqual([
      { execution_id: id, ticket_key: 'acme/widgets#2', last_comment_at: new Date(created) },
    ]);
    expect(await claimDuePolls(database.db, poll())).toEqual([]);

    await advanceCursor(database.db, id, new Date('2026-03-01T11:00:00Z'));
    await advanceCursor(database.db, id, new Date('2026-03-01T10:30:00Z')); // never back
    await sql`UPDATE tracker_comment_cursors SET next_poll_at = now()`.execute(database.db);
    expect(await claimDuePolls(database.db, poll())).toEqual([
      { execution_id: id, ticket_key: 'acme/widgets#2', last_comment_at: new Date('2026-03-01T11:00:00Z') },
    ]);
  });
});

describe('retention', () => {
  it('prunes the records older than InputRetentionDays and the cursors of finished executions', async () => {
    const key = (id: string) => ({ tenantId: 'acme', system: 'github', kind: 'delivery' as const, id });
    await recordTrackerInput(database.db, key('old'), 'ignored: ping');
    await recordTrackerInput(database.db, key('young'), 'ignored: ping');
    await recordTrackerInput(database.db, key('young'), 'accepted: start'); // the first record stays
    await sql`UPDATE tracker_inputs SET received_at = now() - interval '4 days' WHERE id = 'old'`.execute(
      database.db,
    );
    const finished = await execution({ key: 'acme/widgets#9', system: 'github' }, 'suspended', {
      tenantId: 'retained',
    });
    await claimDuePolls(database.db, { tenantId: 'retained', system: 'github', pollSeconds: 1, limit: 10 });
    await sql`UPDATE executions SET status = 'completed' WHERE id = ${finished}`.execute(database.db);

    await pruneHistory(
      database.db,
      parseConfig({ AgentFramework: { InputRetentionDays: 3 } }),
      silentLogger(),
    );
    expect(await findTrackerInput(database.db, key('old'))).toBeUndefined();
    expect(await findTrackerInput(database.db, key('young'))).toBe('ignored: ping');
    const { rows } = await sql`
      SELECT 1 FROM tracker_comment_cursors WHERE execution_id = ${finished}`.execute(database.db);
    expect(rows).toEqual([]);
  });
});
