/**
 * The host's periodic work beside its runs: failing the executions whose workers kept dying, pruning what
 * retention lets go (old checkpoint snapshots, published events and refusal notices), counting the queue.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../config.js';
import { inBatches } from '../persistence/batches.js';
import { pruneCheckpoints } from '../persistence/checkpoints.js';
import { failExhaustedLeases } from '../persistence/claim.js';
import { pruneCursors } from '../persistence/commentCursors.js';
import { EXECUTION_BATCH, pruneFinishedExecutions } from '../persistence/executionRetention.js';
import { countQueue } from '../persistence/executions.js';
import { dropAllKept } from '../persistence/inbox.js';
import { INPUT_BATCH, pruneSettledInputs } from '../persistence/inboxRetention.js';
import { insertEvents, pruneEvents } from '../persistence/outbox.js';
import type { DB } from '../persistence/schema.js';
import { pruneTrackerInputs, TRACKER_INPUT_BATCH } from '../persistence/trackerInputs.js';
import type { Telemetry } from '../telemetry/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { WorkerMetrics } from '../telemetry/metrics.js';

/**
 * Executions whose worker died too often while running them (an expired lease counts as a failed attempt) fail
 * instead of being taken over again: their `failed` events and the drop of their kept resumes are written in
 * `trx`. Returns how many failed.
 */
export async function failExhaustedExecutions(
  trx: Transaction<DB>,
  o: { maxRetries: number; log: Logger; telemetry: Telemetry | undefined },
): Promise<number> {
  const failed = await failExhaustedLeases(trx, o.maxRetries);
  if (failed.length === 0) return 0;
  const at = new Date().toISOString();
  await insertEvents(
    trx,
    failed.map((r) => ({
      executionId: r.id,
      seq: r.event_seq,
      graph: r.graph,
      tenantId: r.tenant_id,
      kind: 'failed',
      status: 'failed',
      ...(r.state && { state: r.state }),
      attempt: r.attempts,
      at,
      error: r.last_error ?? 'lease expired too often',
    })),
  );
  const reason = 'the execution failed before this resume could apply';
  for (const r of failed) {
    // Their refusal notices are written with the drop (rejections); the relay publishes them.
    for (const d of await dropAllKept(trx, r.id, reason)) {
      o.log.warn({ eventId: d.id, executionId: d.execution_id }, 'kept resume dropped');
    }
    o.log.error({ executionId: r.id, err: r.last_error }, 'execution failed: its worker kept dying');
    // An ending counts in workflow.completed, whichever worker's sweep ended it.
    const seconds = (Date.now() - new Date(r.created_at).getTime()) / 1000;
    o.telemetry?.metrics.workflowCompleted(r.graph, 'failed', seconds);
  }
  return failed.length;
}

/**
 * `queue.depth` from a count refreshed every 15 s by `every`, never per scrape. The count reads the partial
 * index of the counted statuses (countQueue): with a million finished executions it costs what it costs with
 * none (it read every row before: 456 ms a count at a million).
 */
export function observeQueueDepth(
  metrics: WorkerMetrics,
  db: Kysely<DB>,
  every: (ms: number, fn: () => Promise<void>) => void,
): void {
  let depth: Record<string, number> = {};
  const refresh = async () => {
    depth = await countQueue(db);
  };
  metrics.observeQueueDepth(() => depth);
  void refresh().catch(() => {});
  every(15_000, refresh);
}

/**
 * At most this many statements per table per pass (an hourly pass): a million settled inputs, a hundred
 * thousand executions. A backlog larger than that (retention just turned on over years of history) is worked
 * off over the following hours instead of in one long pass.
 */
const MAX_BATCHES = 1_000;

/**
 * Prunes old checkpoint snapshots and published events (`CheckpointRetentionDays`, `EventRetentionDays`), the
 * settled inputs of the inbox and the records of tracker deliveries and comments (`InputRetentionDays`), the
 * comment cursors of finished executions and, with `ExecutionRetentionDays` set, completed and cancelled
 * executions with their rows. Inputs and executions go in small batches (batches.ts), each its own statement.
 */
export async function pruneHistory(db: Kysely<DB>, config: Config, log: Logger): Promise<void> {
  const days = config.AgentFramework.CheckpointRetentionDays;
  const pruned = await pruneCheckpoints(db, days);
  if (pruned > 0) log.info({ pruned, days }, 'old checkpoint snapshots pruned');
  const events = await pruneEvents(db, config.Nats.EventRetentionDays);
  if (events.events + events.rejections > 0) {
    log.info({ ...events, days: config.Nats.EventRetentionDays }, 'old published events pruned');
  }
  const inputDays = config.AgentFramework.InputRetentionDays;
  const batched = async (what: string, days: number, size: number, prune: () => Promise<number>) => {
    const { deleted, batches } = await inBatches(prune, { size, maxBatches: MAX_BATCHES });
    if (deleted > 0) log.info({ pruned: deleted, batches, days }, what);
  };
  await batched('old settled inputs pruned', inputDays, INPUT_BATCH, () => pruneSettledInputs(db, inputDays));
  await batched('old tracker deliveries and comments pruned', inputDays, TRACKER_INPUT_BATCH, () =>
    pruneTrackerInputs(db, inputDays),
  );
  await pruneCursors(db);
  const executionDays = config.AgentFramework.ExecutionRetentionDays;
  if (executionDays !== null) {
    await batched('finished executions past their retention deleted', executionDays, EXECUTION_BATCH, () =>
      pruneFinishedExecutions(db, executionDays),
    );
  }
}
