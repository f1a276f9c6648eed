/** Checkpoint retention on real PostgreSQL: old snapshots are pruned, each execution's latest is kept. */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { pruneCheckpoints } from '../../../src/persistence/checkpoints.js';
import { recordingAgents, startBody, stepsGraph } from '../../support/testGraphs.js';
import { meta, startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

describe('checkpoint retention', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = undefined;
  });

  it('prunes snapshots older than the retention but keeps the latest of each execution and the history', async () => {
    cluster = await startCluster(1, {
      graphs: [stepsGraph('chain', 3)],
      agents: recordingAgents(['step1', 'step2', 'step3'], []),
    });
    const worker = cluster.workers[0]!;
    const db = worker.database.db;
    const old = await worker.service.start(startBody('chain'), meta);
    const fresh = await worker.service.start(startBody('chain'), meta);
    await waitForStatus(worker, old.executionId, ['completed']);
    await waitForStatus(worker, fresh.executionId, ['completed']);
    await sql`UPDATE checkpoints SET created_at = now() - interval '8 days' WHERE execution_id = ${old.executionId}`.execute(
      db,
    );

    const pruned = await pruneCheckpoints(db, 7);
    const rows = await db
      .selectFrom('checkpoints')
      .select(['execution_id', 'seq', sql<boolean>`snapshot IS NOT NULL`.as('kept')])
      .orderBy('execution_id')
      .orderBy('seq')
      .execute();
    const oldRows = rows.filter((r) => r.execution_id === old.executionId);
    const freshRows = rows.filter((r) => r.execution_id === fresh.executionId);
    expect(pruned).toBe(oldRows.length - 1);
    expect(oldRows.map((r) => r.kept)).toEqual([...Array(oldRows.length - 1).fill(false), true]);
    expect(freshRows.every((r) => r.kept)).toBe(true);
    const history = (await worker.service.get(old.executionId)).history;
    expect(history).toHaveLength(oldRows.length);
  });
});
