/**
 * The workers holding leases now, for `GET /v1/workers`: every `running` execution whose lease has not expired,
 * grouped by its owner. The condition is the cluster limit's own (`prfactory_cluster_room`), so it reads the
 * partial index `executions_leases` and counts exactly what that limit counts. Time is the database's `now()`.
 */
import { sql } from 'kysely';
import type { Db } from './schema.js';

export interface LeaseHolderRow {
  workerId: string;
  /** the executions it holds, oldest lease first */
  executionIds: string[];
  /** the latest expiry among its leases */
  leaseExpiresAt: Date;
}

export async function leaseHolders(db: Db, filter: { tenantId?: string } = {}): Promise<LeaseHolderRow[]> {
  let q = db
    .selectFrom('executions')
    .select([
      'lease_owner',
      sql<string[]>`array_agg(id::text ORDER BY lease_expires_at, id)`.as('ids'),
      sql<Date>`max(lease_expires_at)`.as('expires'),
    ])
    .where('status', '=', 'running')
    .where('lease_expires_at', '>', sql<Date>`now()`)
    .where('lease_owner', 'is not', null)
    .groupBy('lease_owner')
    .orderBy('lease_owner');
  if (filter.tenantId !== undefined) q = q.where('tenant_id', '=', filter.tenantId);
  const rows = await q.execute();
  return rows.map((r) => ({
    workerId: r.lease_owner ?? '',
    executionIds: r.ids,
    leaseExpiresAt: new Date(r.expires),
  }));
}
