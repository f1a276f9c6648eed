/**
 * Counts of executions by graph, tenant and status, for `GET /v1/stats` and the queue depth of
 * `GET /v1/workers`. One grouped scan: with 10,000 executions it reads the three short columns of every row
 * (a few milliseconds), and the groups are few (graphs × tenants × seven statuses), so the caller folds them
 * into whichever totals it needs instead of asking PostgreSQL three times.
 */
import type { Db, ExecutionStatus } from './schema.js';

export interface ExecutionCountRow {
  graph: string;
  tenantId: string;
  status: ExecutionStatus;
  count: number;
}

export interface CountFilter {
  tenantId?: string;
  graph?: string;
}

export async function countExecutions(db: Db, filter: CountFilter = {}): Promise<ExecutionCountRow[]> {
  let q = db
    .selectFrom('executions')
    .select(['graph', 'tenant_id', 'status', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy(['graph', 'tenant_id', 'status']);
  if (filter.tenantId !== undefined) q = q.where('tenant_id', '=', filter.tenantId);
  if (filter.graph !== undefined) q = q.where('graph', '=', filter.graph);
  const rows = await q.execute();
  // count(*) is a bigint, which the driver hands over as text
  return rows.map((r) => ({ graph: r.graph, tenantId: r.tenant_id, status: r.status, count: Number(r.n) }));
}
