/** The read side of the dashboard's overview: counts per status, graph and tenant; who holds leases now. */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { countExecutions, type ExecutionCountRow } from '../persistence/executionCounts.js';
import { leaseHolders } from '../persistence/leaseHolders.js';
import { type DB, executionStatuses } from '../persistence/schema.js';
import { InvalidInputError } from './errors.js';
import type { ExecutionStats, StatsQuery, StatusCounts, WorkersView } from './service.js';

const statsQuerySchema = z.object({
  tenantId: z.string().min(1).max(200).optional(),
  graph: z.string().min(1).max(100).optional(),
});

/** A stats query checked: throws {@link InvalidInputError} (HTTP 400) naming the field. */
export function parseStatsQuery(query: StatsQuery): StatsQuery {
  const parsed = statsQuerySchema.safeParse(query);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new InvalidInputError(`query ${issue.path.join('.')}: ${issue.message}`);
}

/** Every status at zero. */
export function noCounts(): StatusCounts {
  return Object.fromEntries(executionStatuses.map((status) => [status, 0])) as StatusCounts;
}

function addTo(totals: Record<string, StatusCounts>, key: string, row: ExecutionCountRow): void {
  totals[key] ??= noCounts();
  totals[key][row.status] += row.count;
}

export async function executionStats(db: Kysely<DB>, query: StatsQuery): Promise<ExecutionStats> {
  const rows = await countExecutions(db, parseStatsQuery(query));
  const stats: ExecutionStats = { byStatus: noCounts(), byGraph: {}, byTenant: {} };
  for (const row of rows) {
    stats.byStatus[row.status] += row.count;
    addTo(stats.byGraph, row.graph, row);
    addTo(stats.byTenant, row.tenantId, row);
  }
  return stats;
}

export async function workersView(db: Kysely<DB>, query: { tenantId?: string }): Promise<WorkersView> {
  const filter = parseStatsQuery({ tenantId: query.tenantId });
  const [holders, counts] = await Promise.all([leaseHolders(db, filter), countExecutions(db, filter)]);
  const queue = noCounts();
  for (const row of counts) queue[row.status] += row.count;
  return {
    workers: holders.map((h) => ({
      workerId: h.workerId,
      executions: h.executionIds,
      leaseExpiresAt: h.leaseExpiresAt.toISOString(),
      held: h.executionIds.length,
    })),
    queue,
  };
}
