/**
 * The host's periodic work beside its runs: failing the executions whose workers kept dying, pruning what
 * retention lets go (old checkpoint snapshots, published events and refusal notices), counting the queue.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../config.js';
import { pruneCheckpoints } from '../persistence/checkpoints.js';
import { failExhaustedLeases } from '../persistence/claim.js';
import { pruneCursors } from '../persistence/commentCursors.js';
import { countByStatus } from '../persistence/executions.js';
import { dropAllKept } from '../persistence/inbox.js';
import { insertEvents, pruneEvents } from '../persistence/outbox.js';
import { type DB, executionStatuses } from '../persistence/schema.js';
import { pruneTrackerInputs } from '../persistence/trackerInputs.js';
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

/** `queue.depth` from a count refreshed every 15 s by `every`, never per scrape (a count is a table scan). */
export function observeQueueDepth(
  metrics: WorkerMetrics,
  db: Kysely<DB>,
  every: (ms: number, fn: () => Promise<void>) => void,
): void {
  let depth: Record<string, number> = {};
  const refresh = async () => {
    const counts = await countByStatus(db);
    depth = Object.fromEntries(executionStatuses.map((status) => [status, counts[status] ?? 0]));
  };
  metrics.observeQueueDepth(() => depth);
  void refresh().catch(() => {});
  every(15_000, refresh);
}

/**
 * Prunes old checkpoint snapshots and published events (`CheckpointRetentionDays`, `EventRetentionDays`), the
 * records of tracker deliveries and comments (`InputRetentionDays`) and the comment cursors of finished executions.
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
  const inputs = await pruneTrackerInputs(db, inputDays);
  if (inputs > 0) log.info({ pruned: inputs, days: inputDays }, 'old tracker deliveries and comments pruned');
  await pruneCursors(db);
}
