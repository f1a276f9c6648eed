/**
 * Pruning on real PostgreSQL removes only what may go: settled inputs past `InputRetentionDays` (never a kept
 * resume, never one inside its de-duplication horizon), and with `ExecutionRetentionDays` set the completed and
 * cancelled executions finished before it with every row they left (never a failed one, never a live one's
 * checkpoint, never one still owing an event). Rows are written by SQL with their ages set, as a year of history
 * would have left them.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { pruneHistory } from '../../../src/host/housekeeping.js';
import { type Database, openDatabase } from '../../../src/persistence/database.js';
import { pruneSettledInputs } from '../../../src/persistence/inboxRetention.js';
import { migrateToLatest } from '../../../src/persistence/migrate.js';
import type { ExecutionStatus } from '../../../src/persistence/schema.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../support/database.js';

/**
 * Both backends: pruning is plain SQL that PGlite runs too (one connection there, so the test of a row another
 * transaction holds is PostgreSQL's only).
 */
const backends = [
  { name: 'PostgreSQL', pglite: false },
  { name: 'PGlite', pglite: true },
] as const;

let database: Database;

const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

/** An execution with one row in every table that keeps rows of it, all `finishedDaysAgo` old. */
async function execution(status: ExecutionStatus, finishedDaysAgo: number | null): Promise<string> {
  const id = randomUUID();
  const at = ago(finishedDaysAgo ?? 0);
  const db = database.db;
  await sql`
    INSERT INTO executions (id, graph, graph_version, tenant_id, ticket, repository, request_hash, status,
                            created_at, updated_at, finished_at)
    VALUES (${id}, 'prfactory', 2, 'acme', ${JSON.stringify({ key: `acme#${id}`, system: 'github' })}, '{}', 'h',
            ${status}, ${at}, ${at}, ${finishedDaysAgo === null ? null : at})`.execute(db);
  await sql`
    INSERT INTO checkpoints (execution_id, seq, graph_version, state, waiting, snapshot, created_at)
    VALUES (${id}, 1, 2, 'done', false, '{"value":"done"}', ${at})`.execute(db);
  await sql`
    INSERT INTO inbox (id, execution_id, kind, payload, payload_hash, status, received_at, settled_at)
    VALUES (${id}, ${id}, 'start', '{}', 'h', 'applied', ${at}, ${at})`.execute(db);
  await sql`
    INSERT INTO outbox (execution_id, seq, kind, payload, created_at, published_at)
    VALUES (${id}, 1, 'completed', '{}', ${at}, ${at})`.execute(db);
  await sql`
    INSERT INTO step_usage (execution_id, step, provider, created_at)
    VALUES (${id}, 'analyse', 'anthropic', ${at})`.execute(db);
  await sql`
    INSERT INTO ticket_comments (idempotency_key, tenant_id, ticket_key, execution_id, body, created_at)
    VALUES (${`c-${id}`}, 'acme', 'acme#1', ${id}, 'done', ${at})`.execute(db);
  await sql`
    INSERT INTO pull_requests (idempotency_key, tenant_id, execution_id, repository_url, branch, base_branch,
                               title, body, url, created_at)
    VALUES (${`p-${id}`}, 'acme', ${id}, 'https://example.test/r', 'b', 'main', 't', 'b', 'https://example.test/pr',
            ${at})`.execute(db);
  await sql`
    INSERT INTO tracker_comment_cursors (execution_id, last_comment_at, next_poll_at)
    VALUES (${id}, ${at}, ${at})`.execute(db);
  return id;
}

/** How many rows of the execution each table holds. */
async function rowsOf(id: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [table, column] of [
    ['executions', 'id'],
    ['checkpoints', 'execution_id'],
    ['inbox', 'execution_id'],
    ['outbox', 'execution_id'],
    ['step_usage', 'execution_id'],
    ['ticket_comments', 'execution_id'],
    ['pull_requests', 'execution_id'],
    ['tracker_comment_cursors', 'execution_id'],
  ] as const) {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE ${sql.ref(column)} = ${id}`.execute(
      database.db,
    );
    counts[table] = rows[0]!.n;
  }
  return counts;
}

const all = (n: number) => ({
  executions: n,
  checkpoints: n,
  inbox: n,
  outbox: n,
  step_usage: n,
  ticket_comments: n,
  pull_requests: n,
  tracker_comment_cursors: n,
});

async function input(
  executionId: string,
  id: string,
  status: 'kept' | 'applied' | 'dropped',
  days: number,
): Promise<void> {
  await sql`
    INSERT INTO inbox (id, execution_id, kind, type, payload, payload_hash, status, received_at, settled_at)
    VALUES (${id}, ${executionId}, 'resume', 'answer', '{}', 'h', ${status}, ${ago(days)},
            ${status === 'kept' ? null : ago(days)})`.execute(database.db);
}

async function inputIds(executionId: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    SELECT id FROM inbox WHERE execution_id = ${executionId} AND kind = 'resume' ORDER BY id`.execute(
    database.db,
  );
  return rows.map((r) => r.id);
}

describe.each(backends)('pruning on $name', ({ pglite }) => {
  const schema = uniqueSchema('ret');
  let dataDirectory: string | undefined;
  beforeAll(async () => {
    dataDirectory = pglite ? mkdtempSync(path.join(tmpdir(), 'prf-retention-')) : undefined;
    database = await openDatabase({
      Url: pglite ? null : TEST_DATABASE_URL,
      Schema: schema,
      PoolSize: pglite ? 1 : 4,
      DataDirectory: dataDirectory ?? '',
    });
    await migrateToLatest(database.db, schema);
  });
  afterAll(async () => {
    await database.close();
    if (dataDirectory) rmSync(dataDirectory, { recursive: true, force: true });
    else await dropSchema(schema);
  });

  it('keeps every finished execution while ExecutionRetentionDays is null, and prunes settled inputs past their horizon only', async () => {
    const suspended = await execution('suspended', null);
    await input(suspended, 'applied-old', 'applied', 10);
    await input(suspended, 'dropped-old', 'dropped', 10);
    await input(suspended, 'applied-young', 'applied', 6); // inside the 7-day horizon: a redelivery is still a no-op
    await input(suspended, 'kept-old', 'kept', 400); // waiting to apply, whatever its age
    const completed = await execution('completed', 400);
    const cancelled = await execution('cancelled', 400);

    const config = parseConfig({ AgentFramework: { InputRetentionDays: 7 } });
    expect(config.AgentFramework.ExecutionRetentionDays).toBeNull();
    await pruneHistory(database.db, config, silentLogger());

    expect(await inputIds(suspended)).toEqual(['applied-young', 'kept-old']);
    // the suspended execution's only checkpoint (30 days past CheckpointRetentionDays) keeps its snapshot
    const { rows } = await sql<{ snapshot: unknown }>`
      SELECT snapshot FROM checkpoints WHERE execution_id = ${suspended}`.execute(database.db);
    expect(rows).toEqual([{ snapshot: { value: 'done' } }]);
    // finished executions are all kept, with all their rows but their settled start input (400 days old)
    for (const id of [completed, cancelled]) {
      expect(await rowsOf(id)).toEqual({ ...all(1), inbox: 0, tracker_comment_cursors: 0 });
    }
  });

  it('deletes completed and cancelled executions past ExecutionRetentionDays with all their rows, and nothing else', async () => {
    const completed = await execution('completed', 40);
    const cancelled = await execution('cancelled', 31);
    const young = await execution('completed', 20);
    const failed = await execution('failed', 4_000);
    const suspended = await execution('suspended', null);
    await sql`UPDATE executions SET created_at = ${ago(400)} WHERE id = ${suspended}`.execute(database.db);
    // finished long ago but one of its events was never published: kept until the relay has it out
    const owing = await execution('completed', 40);
    await sql`
      INSERT INTO outbox (execution_id, seq, kind, payload) VALUES (${owing}, 2, 'completed', '{}')`.execute(
      database.db,
    );
    // finished long ago with a kept resume (the sweep drops those at the end; pruning never loses one)
    const keeping = await execution('cancelled', 40);
    await input(keeping, 'late', 'kept', 40);

    const config = parseConfig({ AgentFramework: { InputRetentionDays: 365, ExecutionRetentionDays: 30 } });
    await pruneHistory(database.db, config, silentLogger());

    expect(await rowsOf(completed)).toEqual(all(0));
    expect(await rowsOf(cancelled)).toEqual(all(0));
    // the comment cursors of finished executions go whatever their age (pruneCursors)
    const finishedKept = { ...all(1), tracker_comment_cursors: 0 };
    expect(await rowsOf(young)).toEqual(finishedKept);
    // its start input settled 4,000 days ago: past InputRetentionDays, it goes like any settled input
    expect(await rowsOf(failed)).toEqual({ ...finishedKept, inbox: 0 });
    expect(await rowsOf(owing)).toEqual({ ...finishedKept, outbox: 2 });
    expect(await rowsOf(keeping)).toEqual({ ...finishedKept, inbox: 2 });
    expect(await rowsOf(suspended)).toEqual(all(1));
  });

  it.skipIf(pglite)(
    'deletes settled inputs a batch at a time, skipping rows another transaction holds',
    async () => {
      while ((await pruneSettledInputs(database.db, 7)) > 0) {} // what the other tests left
      const id = await execution('suspended', null);
      for (const n of [1, 2, 3]) await input(id, `old-${n}`, 'applied', 30);
      await database.db.transaction().execute(async (trx) => {
        // a worker holding one of them: the pruning neither waits for it nor deletes it
        await sql`SELECT 1 FROM inbox WHERE execution_id = ${id} AND id = 'old-1' FOR UPDATE`.execute(trx);
        expect(await pruneSettledInputs(database.db, 7, 1)).toBe(1);
        expect(await pruneSettledInputs(database.db, 7, 5)).toBe(1); // the third; its start input is young
        expect(await pruneSettledInputs(database.db, 7, 5)).toBe(0);
      });
      expect(await inputIds(id)).toEqual(['old-1']);
    },
  );
});
