/**
 * The SQL of the local pull-request adapter: one row of `pull_requests` per pull request, unique by
 * idempotency key. The URL holds the row's id (`local://<repo>/pull/<id>`), so the id is drawn from the
 * table's sequence first and the row is written whole in one statement: never a row without its URL.
 */
import { type Kysely, sql } from 'kysely';
import type { PullRequest } from '../../machines/domain.js';
import type { DB } from '../../persistence/schema.js';

export interface NewPullRequest {
  idempotencyKey: string;
  tenantId: string;
  executionId: string | null;
  repositoryUrl: string;
  /** names the pull request in its URL */
  repositoryName: string;
  branch: string;
  baseBranch: string;
  title: string;
  body: string;
}

export async function findPullRequestByKey(
  db: Kysely<DB>,
  idempotencyKey: string,
): Promise<PullRequest | undefined> {
  return db
    .selectFrom('pull_requests')
    .select(['url', 'branch'])
    .where('idempotency_key', '=', idempotencyKey)
    .executeTakeFirst();
}

/**
 * Records the pull request unless its key is taken, and returns the row holding the key. Two workers racing
 * with one key both draw an id; the loser's insert does nothing (its id is a harmless gap) and both return the
 * winner's row.
 */
export async function insertPullRequestOnce(db: Kysely<DB>, pr: NewPullRequest): Promise<PullRequest> {
  const { id } = await sql<{
    id: number;
  }>`SELECT nextval(pg_get_serial_sequence('pull_requests', 'id')) AS id`
    .execute(db)
    .then((result) => result.rows[0]!);
  const number = Number(id);
  await db
    .insertInto('pull_requests')
    .values({
      id: number,
      idempotency_key: pr.idempotencyKey,
      tenant_id: pr.tenantId,
      execution_id: pr.executionId,
      repository_url: pr.repositoryUrl,
      branch: pr.branch,
      base_branch: pr.baseBranch,
      title: pr.title,
      body: pr.body,
      url: `local://${pr.repositoryName}/pull/${number}`,
    })
    .onConflict((conflict) => conflict.column('idempotency_key').doNothing())
    .execute();
  const row = await findPullRequestByKey(db, pr.idempotencyKey);
  if (!row) throw new Error(`pull request ${pr.idempotencyKey} vanished right after it was written`);
  return row;
}
