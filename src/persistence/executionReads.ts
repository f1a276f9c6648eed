/**
 * Reads of the `executions` table for the API that leave its large columns where they are. A ticket's
 * description may hold 100 KB, and `view` the plan and the questions: selecting whole rows for a page of 200 read
 * and shipped ~20 MB per request (30 such requests held 1.17 GB and delayed `/healthz` by seconds). These
 * queries name the few fields they return, so PostgreSQL sends only those.
 */
import { sql } from 'kysely';
import { isUuid } from '../uuid.js';
import type { Db, ExecutionStatus } from './schema.js';

/** One row of a list page: the summary's fields, and the keyset position of the row. */
export interface ExecutionSummaryRow {
  id: string;
  graph: string;
  graph_version: number;
  tenant_id: string;
  ticket_key: string;
  ticket_system: string | null;
  ticket_title: string | null;
  status: ExecutionStatus;
  state: string | null;
  waiting_for: string[];
  priority: number;
  attempts: number;
  /** `last_error` cut to `errorChars` characters in the database */
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  /** `created_at` in UTC to the microsecond (`2026-01-02T03:04:05.123456Z`): a `Date` would drop the last three digits */
  position_at: string;
}

export interface SummaryFilter {
  status?: ExecutionStatus;
  graph?: string;
  tenantId?: string;
  ticketKey?: string;
  limit: number;
  /** longest `last_error` returned */
  errorChars: number;
  /** keyset: rows strictly older than this `(created_at, id)` (`at` as in {@link ExecutionSummaryRow.position_at}) */
  before?: { at: string; id: string };
}

/**
 * Newest first, keyset-paginated on `(created_at, id)` — the order of the `executions_newest` index — so pages
 * stay stable while rows are added. The position is compared to the microsecond: at millisecond precision the
 * rows created in the same millisecond as a page's last one, but before it, were skipped.
 */
export async function listExecutionSummaries(db: Db, f: SummaryFilter): Promise<ExecutionSummaryRow[]> {
  let q = db
    .selectFrom('executions')
    .select([
      'id',
      'graph',
      'graph_version',
      'tenant_id',
      sql<string>`ticket->>'key'`.as('ticket_key'),
      sql<string | null>`ticket->>'system'`.as('ticket_system'),
      sql<string | null>`ticket->>'title'`.as('ticket_title'),
      'status',
      'state',
      'waiting_for',
      'priority',
      'attempts',
      sql<string | null>`left(last_error, ${f.errorChars})`.as('last_error'),
      'created_at',
      'updated_at',
      sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('position_at'),
    ]);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.graph) q = q.where('graph', '=', f.graph);
  if (f.tenantId) q = q.where('tenant_id', '=', f.tenantId);
  if (f.ticketKey) q = q.where(sql<string>`ticket->>'key'`, '=', f.ticketKey);
  if (f.before) {
    const { at, id } = f.before;
    q = q.where(sql<boolean>`(created_at, id) < (${at}::timestamptz, ${id}::uuid)`);
  }
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).execute();
}

/** The tenant of an execution, reading one short column; undefined when there is none with that id. */
export async function findExecutionTenant(db: Db, id: string): Promise<string | undefined> {
  // Not a uuid: no row can match, and PostgreSQL would refuse the comparison with the uuid column.
  if (!isUuid(id)) return undefined;
  const row = await db.selectFrom('executions').select('tenant_id').where('id', '=', id).executeTakeFirst();
  return row?.tenant_id;
}
