/**
 * Reading the outbox as one log of the whole cluster's events, in `id` order, for the live feed of
 * `GET /v1/events/stream` (host/eventFeed.ts). `id` is a sequence: rows are numbered when inserted, not when
 * committed, so a row may become visible after a higher one. The feed therefore re-reads a recent window and
 * says which ids it already has (`skip`), instead of trusting "everything above the last id".
 */
import { sql } from 'kysely';
import type { Db } from './schema.js';

export interface OutboxRow {
  id: number;
  payload: Record<string, unknown>;
}

/** The highest outbox id now (0 when empty): where a feed that shows only new events starts. */
export async function newestEventId(db: Db): Promise<number> {
  const row = await db.selectFrom('outbox').select(sql<string | null>`max(id)`.as('id')).executeTakeFirst();
  return Number(row?.id ?? 0);
}

/**
 * Events with an id above `afterId` other than those in `skip`, in id order, at most `limit`. The primary key
 * bounds the scan; `skip` is at most the feed's recent window.
 */
export async function eventsSince(
  db: Db,
  afterId: number,
  skip: readonly number[],
  limit: number,
): Promise<OutboxRow[]> {
  let q = db.selectFrom('outbox').select(['id', 'payload']).where('id', '>', afterId);
  if (skip.length > 0) q = q.where(sql<boolean>`NOT (id = ANY(${skip}::bigint[]))`);
  const rows = await q.orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ id: Number(r.id), payload: r.payload }));
}
