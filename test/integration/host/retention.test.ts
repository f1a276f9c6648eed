/**
 * Retention on real PostgreSQL: old checkpoint snapshots are pruned (each execution's latest is kept), and old
 * published events and refusal notices are deleted (what the relay still owes is kept).
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { pruneCheckpoints } from '../../../src/persistence/checkpoints.js';
import { pruneEvents } from '../../../src/persistence/outbox.js';
import { recordingAgents, startBody, stepsGraph } from '../../support/testGraphs.js';
import { allEvents, meta, startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

describe('retention', () => {
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

  it('deletes published events and refusal notices older than the retention, never what is still owed', async () => {
    cluster = await startCluster(1, {
      graphs: [stepsGraph('chain', 2)],
      agents: recordingAgents(['step1', 'step2'], []),
    });
    const worker = cluster.workers[0]!;
    const db = worker.database.db;
    const old = await worker.service.start(startBody('chain'), meta);
    const owed = await worker.service.start(startBody('chain'), meta);
    for (const e of [old, owed]) await waitForStatus(worker, e.executionId, ['completed']);
    // After the others, so that its events come after theirs in id order, as a younger event does.
    const fresh = await worker.service.start(startBody('chain'), meta);
    await waitForStatus(worker, fresh.executionId, ['completed']);
    await worker.host.stop(); // the relay has published everything; nothing writes meanwhile
    const eightDaysAgo = sql`now() - interval '8 days'`;
    await sql`UPDATE outbox SET created_at = ${eightDaysAgo}
              WHERE execution_id IN (${old.executionId}, ${owed.executionId})`.execute(db);
    // The relay never got to the last event of `owed` (NATS away for a week, say).
    await sql`UPDATE outbox SET published_at = NULL
              WHERE execution_id = ${owed.executionId} AND kind = 'completed'`.execute(db);
    await sql`INSERT INTO rejections (execution_id, message_id, reason, created_at, published_at) VALUES
              (${old.executionId}, 'm-old', 'dropped', ${eightDaysAgo}, ${eightDaysAgo}),
              (${old.executionId}, 'm-owed', 'dropped', ${eightDaysAgo}, NULL),
              (${fresh.executionId}, 'm-fresh', 'dropped', now(), now())`.execute(db);
    const freshEvents = await allEvents(worker, fresh.executionId);

    const pruned = await pruneEvents(db, 7, 3); // three rows per statement: the walk goes on across statements
    const owedEvents = await allEvents(worker, owed.executionId);
    expect(await allEvents(worker, old.executionId)).toEqual([]);
    expect(owedEvents.map((e) => e.kind)).toEqual(['completed']);
    expect(await allEvents(worker, fresh.executionId)).toEqual(freshEvents);
    const notices = await db.selectFrom('rejections').select('message_id').orderBy('message_id').execute();
    expect(notices.map((n) => n.message_id)).toEqual(['m-fresh', 'm-owed']);
    expect(pruned.rejections).toBe(1);
    expect(pruned.events).toBe(freshEvents.length * 2 - 1); // old's events and owed's but its last
    expect(await pruneEvents(db, 7, 3)).toEqual({ events: 0, rejections: 0 });
  });
});
