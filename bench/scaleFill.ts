/**
 * A year of history written by SQL into a migrated scratch schema: `executions` rows over 1,000 tenants, one
 * checkpoint each (the template's ~4 KB snapshot, its ids replaced) and their inbox rows — one `INSERT … SELECT
 * FROM generate_series` per table and kind, the secondary indexes dropped before and built again after (one sort
 * per index instead of a million index insertions), `synchronous_commit` off for the fill's session only (the
 * worker's own sessions keep the server's setting). Tables stay logged: `UNLOGGED` would change what is measured.
 *
 * The mix, deterministic (multiplying the row number by a prime walks every residue, so shares hold in any
 * window of time): `suspended` rows are clones of the template (a `gate` execution waiting for
 * `answers_received`, tenant `acme`), so the worker can resume them; of the rest, per mille, 2 `pending` held
 * back (`run_at` a month ahead: a worker that claimed them would run graphs it does not have), 800 `completed`,
 * 120 `failed`, 78 `cancelled`; graphs `prfactory` 75 %, `refinement` 12 %, `planning` 12.99 %, `implementation`
 * 0.01 % (the rarely used one: 1 at 10,000, 100 at a million); `created_at` one row every (a year / count), newest last, so the heap is in time order
 * as a real one is. Tenant 0 is `acme`, the others `tenant-0001` … `tenant-0999`; the three oldest rows are
 * `tenant-rare`'s, a tenant that stopped using the installation a year ago.
 *
 * What is left out: outbox rows (the relay publishes them and `EventRetentionDays` prunes them, so a steady
 * state holds only recent ones), older checkpoints of finished executions (their snapshots pruned to NULL).
 */
import type pg from 'pg';
import type { BenchSchema } from './benchSchema.js';
import { progress, round } from './report.js';
import type { ScaleTemplate } from './scaleTemplate.js';

export const TENANTS = 1000;
/** the graph of 1 % of the history: the filter a rarely used graph makes */
export const RARE_GRAPH = 'implementation';
/** a tenant with three executions, the oldest of the history: the filter that walks the whole newest-first order */
export const RARE_TENANT = 'tenant-rare';

export interface FillPlan {
  executions: number;
  /** clones of the template, resumable */
  suspended: number;
}

export interface FillResult {
  executions: number;
  byStatus: Record<string, number>;
  seconds: number;
  /** each step of the fill, seconds */
  steps: Record<string, number>;
}

const DAY_MS = 86_400_000;

/** A UUID from an md5 (of the row number): version 4, variant 1, as the API's checks want it. */
const uuidOf = (seed: string) =>
  `overlay(overlay(md5(${seed}) placing '4' from 13) placing 'a' from 17)::uuid`;

/** The columns of `executions` as this schema has them (later migrations add some). */
async function columnsOf(client: pg.ClientBase, schema: string, table: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2
     ORDER BY ordinal_position`,
    [schema, table],
  );
  return rows.map((r) => r.name);
}

/** INSERT INTO table (every column) SELECT the template's row with `overrides`, once per `g` of the series. */
function cloneSql(
  table: string,
  columns: string[],
  overrides: Record<string, string>,
  where: string,
): string {
  const select = columns.map((c) => overrides[c] ?? `t.${c}`);
  const list = columns.filter((c) => overrides[c] !== 'DEFAULT');
  return `INSERT INTO ${table} (${list.join(', ')})
    SELECT ${select.filter((s) => s !== 'DEFAULT').join(', ')}
    FROM ${table} AS t, generate_series(1, $1::int) AS g WHERE ${where} ORDER BY g`;
}

export async function fillHistory(
  target: BenchSchema,
  client: pg.ClientBase,
  template: ScaleTemplate,
  plan: FillPlan,
): Promise<FillResult> {
  const started = performance.now();
  const steps: Record<string, number> = {};
  const step = async (name: string, sql: string, params: unknown[] = []) => {
    const t0 = performance.now();
    const result = await client.query(sql, params);
    steps[name] = round((performance.now() - t0) / 1000, 1);
    progress(`scale fill ${plan.executions}: ${name}`, { seconds: steps[name], rows: result.rowCount });
  };
  await client.query(`SET synchronous_commit = off; SET maintenance_work_mem = '512MB'`);
  const T = template.executionId;
  const yearMs = 365 * DAY_MS;
  const every = yearMs / plan.executions;
  const rest = plan.executions - plan.suspended;

  // Secondary indexes (not those behind a key: the foreign key of checkpoints needs the primary key), saved to
  // be built again after the fill exactly as the migrations made them.
  const { rows: indexes } = await client.query<{ name: string; def: string }>(
    `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
     WHERE i.schemaname = $1 AND i.tablename IN ('executions', 'checkpoints', 'inbox')
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                       WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)`,
    [target.schema],
  );
  for (const i of indexes) await client.query(`DROP INDEX ${i.name}`);

  // The template's clones, resumable: its row, every checkpoint and inbox row, the id replaced everywhere.
  const id = uuidOf(`'scale-s-' || g`);
  const createdAt = `now() - make_interval(secs => (g * 86400.0 * 30 / $1::int))`;
  const execColumns = await columnsOf(client, target.schema, 'executions');
  await step(
    'suspended executions',
    cloneSql(
      'executions',
      execColumns,
      {
        id,
        ticket: `jsonb_set(t.ticket, '{key}', to_jsonb('ACME-S' || g))`,
        request_hash: `md5('scale-s-' || g) || md5('hash-s-' || g)`,
        created_at: createdAt,
        started_at: createdAt,
        updated_at: createdAt,
        run_at: createdAt,
      },
      `t.id = '${T}'`,
    ),
    [plan.suspended],
  );
  await step(
    'suspended checkpoints',
    cloneSql(
      'checkpoints',
      await columnsOf(client, target.schema, 'checkpoints'),
      {
        execution_id: id,
        snapshot: `replace(t.snapshot::text, '${T}', ${id}::text)::jsonb`,
        created_at: createdAt,
      },
      `t.execution_id = '${T}'`,
    ),
    [plan.suspended],
  );
  await step(
    'suspended inbox',
    cloneSql(
      'inbox',
      await columnsOf(client, target.schema, 'inbox'),
      {
        id: `replace(t.id, '${T}', ${id}::text)`,
        execution_id: id,
        payload: `replace(t.payload::text, '${T}', ${id}::text)::jsonb`,
        received_seq: 'DEFAULT',
        received_at: createdAt,
        settled_at: createdAt,
      },
      `t.execution_id = '${T}'`,
    ),
    [plan.suspended],
  );

  // The history. `r` rolls the status, `t` the tenant, `gr` the graph; all from the row number `g`.
  const rows = `
    SELECT g, id, tenant, status, graph, CASE graph WHEN 'refinement' THEN 1 WHEN '${RARE_GRAPH}' THEN 1 ELSE 2 END
             AS version, created,
           CASE status WHEN 'completed' THEN 'done' WHEN 'pending' THEN NULL
                       ELSE (CASE graph WHEN 'prfactory' THEN 'implementation.implement' WHEN 'refinement'
                             THEN 'analyseCodebase' WHEN 'planning' THEN 'draftPlan' ELSE 'implement' END) END AS state
    FROM (
      SELECT g, ${uuidOf(`'scale-' || g`)} AS id,
             CASE WHEN g <= 3 THEN '${RARE_TENANT}' WHEN (g * 7919) % ${TENANTS} = 0 THEN 'acme'
                  ELSE 'tenant-' || lpad(((g * 7919) % ${TENANTS})::text, 4, '0') END AS tenant,
             CASE WHEN (g * 37) % 1000 < 2 THEN 'pending' WHEN (g * 37) % 1000 < 802 THEN 'completed'
                  WHEN (g * 37) % 1000 < 922 THEN 'failed' ELSE 'cancelled' END AS status,
             CASE WHEN (g * 53 + 11) % 100 < 75 THEN 'prfactory' WHEN (g * 53 + 11) % 100 < 87 THEN 'refinement'
                  WHEN (g * 53 + 11) % 100 < 99 OR g % 10000 >= 100 THEN 'planning' ELSE '${RARE_GRAPH}' END AS graph,
             now() - make_interval(secs => ($1::int - g + ${plan.suspended}) * ${every / 1000}) AS created
      FROM generate_series(1, $1::bigint) AS g) AS s`; // bigint: g × 7919 passes 2^31 at a million
  await step(
    'history executions',
    `INSERT INTO executions (id, graph, graph_version, tenant_id, ticket, repository, request_hash, status, state,
       attempts, last_error, run_at, started_at, finished_at, created_at, updated_at, checkpoint_seq, event_seq)
     SELECT id, graph, version, tenant,
       jsonb_build_object('key', upper(left(tenant, 4)) || '-' || g, 'system', 'local',
         'title', 'Greet people by their preferred name', 'description', 'A ticket of the scale benchmark.'),
       jsonb_build_object('url', 'https://git.example.com/' || tenant || '/greeter.git', 'defaultBranch', 'main'),
       md5('scale-' || g) || md5('hash-' || g), status, state,
       CASE status WHEN 'failed' THEN 4 ELSE 0 END,
       CASE status WHEN 'failed' THEN 'agent ' || state || ' failed: the model answered 503 (after 4 attempts)'
                   WHEN 'cancelled' THEN 'cancelled: no longer needed' END,
       CASE status WHEN 'pending' THEN now() + interval '30 days' ELSE created END,
       CASE status WHEN 'pending' THEN NULL ELSE created + interval '200 milliseconds' END,
       CASE status WHEN 'pending' THEN NULL ELSE created + make_interval(secs => 5 + (g * 13) % 180) END,
       created, created + make_interval(secs => 5 + (g * 13) % 180),
       CASE status WHEN 'pending' THEN 0 ELSE 1 END, CASE status WHEN 'pending' THEN 0 ELSE 3 END
     FROM (${rows}) AS r ORDER BY g`,
    [rest],
  );
  // Its ids set by jsonb_set (the latest snapshot names the execution once, in its context) rather than by a
  // text replace and a parse of 4 KB per row: the parse was most of this step's time.
  await step(
    'history checkpoints',
    `INSERT INTO checkpoints (execution_id, seq, graph_version, state, waiting, snapshot, created_at)
     SELECT r.id, 1, r.version, r.state, false, jsonb_set(s.snapshot, '{context,executionId}', to_jsonb(r.id::text)),
            r.created + make_interval(secs => 5 + (r.g * 13) % 180)
     FROM (${rows}) AS r,
          (SELECT snapshot FROM checkpoints WHERE execution_id = '${T}' ORDER BY seq DESC LIMIT 1) AS s
     WHERE r.status <> 'pending' ORDER BY r.g`,
    [rest],
  );
  await step(
    'history inbox',
    `INSERT INTO inbox (id, execution_id, kind, type, payload, payload_hash, status, received_at, settled_at)
     SELECT r.id::text, r.id, 'start', NULL,
            jsonb_build_object('graph', r.graph, 'tenantId', r.tenant, 'ticket', jsonb_build_object('key',
              upper(left(r.tenant, 4)) || '-' || r.g, 'title', 'Greet people by their preferred name')),
            md5('payload-' || r.g), CASE r.status WHEN 'pending' THEN 'kept' ELSE 'applied' END,
            r.created, CASE r.status WHEN 'pending' THEN NULL ELSE r.created END
     FROM (${rows}) AS r ORDER BY r.g`,
    [rest],
  );
  await step(
    'history resume inputs',
    `INSERT INTO inbox (id, execution_id, kind, type, payload, payload_hash, status, received_at, settled_at)
     SELECT md5('resume-' || r.g), r.id, 'resume', 'answers_received',
            jsonb_build_object('type', 'answers_received', 'answers', jsonb_build_object('q1', 'yes')),
            md5('resume-payload-' || r.g), 'applied', r.created + interval '1 minute', r.created + interval '1 minute'
     FROM (${rows}) AS r WHERE r.status = 'completed' AND r.graph <> '${RARE_GRAPH}' AND r.g % 3 = 0 ORDER BY r.g`,
    [rest],
  );
  // The template itself goes: its clones stand for it.
  await client.query('DELETE FROM inbox WHERE execution_id = $1', [T]);
  await client.query('DELETE FROM outbox WHERE execution_id = $1', [T]);
  await client.query('DELETE FROM executions WHERE id = $1', [T]);

  for (const i of indexes) await step(`index ${i.name}`, i.def);
  await step('vacuum analyze', 'VACUUM ANALYZE executions, checkpoints, inbox, outbox');
  const { rows: counts } = await client.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM executions GROUP BY status ORDER BY status',
  );
  const byStatus = Object.fromEntries(counts.map((r) => [r.status, r.n]));
  return {
    executions: Object.values(byStatus).reduce((a, b) => a + b, 0),
    byStatus,
    seconds: round((performance.now() - started) / 1000, 1),
    steps,
  };
}
