/**
 * Migration 0005 on real PostgreSQL: each filter of `GET /v1/executions` walks an index in the list's order
 * (`created_at DESC, id DESC`, keyset-paginated) instead of the whole newest-first index, and the `queue.depth`
 * count reads only the partial index of the statuses it counts. Checked on the plans PostgreSQL picks for
 * 20,000 analysed rows (1,000 tenants, 20 graphs, mostly finished) and a tenant with three
 * executions years older than the rest — the slow case. A tenant with more executions may get them from
 * the tenant + status index and sort them: as cheap, bounded by that tenant's executions; a tenant with a large
 * share of the history walks `executions_newest`, which finds its page quickly.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../src/persistence/database.js';
import { queueStatuses } from '../../../src/persistence/executions.js';
import { migrateToLatest } from '../../../src/persistence/migrate.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../support/database.js';

const schema = uniqueSchema('hix');
let database: Database;

beforeAll(async () => {
  database = await openDatabase({ Url: TEST_DATABASE_URL, Schema: schema, PoolSize: 2, DataDirectory: '' });
  await migrateToLatest(database.db, schema);
  await sql`
    INSERT INTO executions (id, graph, graph_version, tenant_id, ticket, repository, request_hash, status,
                            created_at, finished_at)
    SELECT gen_random_uuid(), 'graph' || (i % 20), 1,
      'tenant' || (i % 1000),
      jsonb_build_object('system', 'github', 'key', 'org/repo#' || i), '{}', 'h',
      CASE WHEN i % 100 = 0 THEN 'suspended' WHEN i % 250 = 1 THEN 'pending' WHEN i % 50 = 2 THEN 'failed'
           WHEN i % 20 = 3 THEN 'cancelled' ELSE 'completed' END,
      now() - make_interval(secs => (20000 - i) * 60), now() - make_interval(secs => (20000 - i) * 60)
    FROM generate_series(1, 20000) AS i`.execute(database.db);
  // the slow case: a tenant with three executions, years older than the rest
  await sql`
    INSERT INTO executions (id, graph, graph_version, tenant_id, ticket, repository, request_hash, status, created_at)
    SELECT gen_random_uuid(), 'graph1', 1, 'tiny', jsonb_build_object('system', 'github', 'key', 'tiny#' || i),
      '{}', 'h', 'completed', now() - interval '5 years' + make_interval(days => i)
    FROM generate_series(1, 3) AS i`.execute(database.db);
  await sql`ANALYZE executions`.execute(database.db);
}, 60_000);

afterAll(async () => {
  await database.close();
  await dropSchema(schema);
});

/** The index scans of the plan, by index name. */
async function indexesOf(query: string): Promise<string[]> {
  const { rows } = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (FORMAT JSON) ${sql.raw(query)}`.execute(
    database.db,
  );
  const found: string[] = [];
  const walk = (node: Record<string, unknown>) => {
    if (typeof node['Index Name'] === 'string') found.push(node['Index Name']);
    if (node['Node Type'] === 'Seq Scan' || node['Node Type'] === 'Sort')
      found.push(String(node['Node Type']));
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  const [plan] = rows[0]!['QUERY PLAN'] as [{ Plan: Record<string, unknown> }];
  walk(plan.Plan);
  return found;
}

/** The list's query (executionReads.ts) with a filter, first page or a later one. */
const page = (where: string, after = false) =>
  `SELECT * FROM executions WHERE ${where}
   ${after ? "AND (created_at, id) < (now() - interval '2 days', 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)" : ''}
   ORDER BY created_at DESC, id DESC LIMIT 51`;

describe('the indexes of migration 0005', () => {
  // Each filter's plan reads its own index (0005) and never walks the whole history: no `executions_newest`
  // filtered row by row, no sequential scan. A tenant's few rows may come from the tenant + status index, sorted.
  it.each([
    ['tenant', "tenant_id = 'tiny'", ['executions_tenant_newest', 'executions_tenant_status_newest']],
    ['graph', "graph = 'graph3'", ['executions_graph_newest']],
    ['status', "status = 'suspended'", ['executions_status_newest']],
    [
      'tenant and status',
      "tenant_id = 'tenant100' AND status = 'suspended'",
      ['executions_tenant_status_newest'],
    ],
    ['ticket key', "ticket->>'key' = 'org/repo#42'", ['executions_ticket_key_newest']],
  ])('serve the list filtered by %s, first page and later', async (_, where, indexes) => {
    for (const query of [page(where), page(where, true)]) {
      const plan = await indexesOf(query);
      expect(plan, query).not.toContain('executions_newest');
      expect(plan, query).not.toContain('Seq Scan');
      expect(
        plan.filter((step) => step !== 'Sort').every((index) => indexes.includes(index)),
        plan.join(),
      ).toBe(true);
      expect(plan.length, plan.join()).toBeGreaterThan(0);
    }
  });

  it('count the queue from the partial index of the statuses queue.depth counts', async () => {
    const list = queueStatuses.map((s) => `'${s}'`).join(', ');
    const plan = await indexesOf(
      `SELECT status, count(*) FROM executions WHERE status IN (${list}) GROUP BY status`,
    );
    expect(plan).toEqual(['executions_queue']);
  });

  it('find finished executions past their retention and settled inputs past theirs by index', async () => {
    await sql`SET enable_seqscan = off`.execute(database.db);
    try {
      expect(
        await indexesOf(`SELECT id FROM executions WHERE status IN ('completed', 'cancelled')
                           AND finished_at < now() - interval '30 days' LIMIT 100`),
      ).toEqual(['executions_retention']);
      expect(
        await indexesOf(`SELECT id FROM inbox WHERE status <> 'kept' AND settled_at < now() - interval '7 days'
                           LIMIT 1000`),
      ).toEqual(['inbox_settled']);
    } finally {
      await sql`RESET enable_seqscan`.execute(database.db);
    }
  });
});
