/**
 * The {@link ExecutionService} every door uses: intake for inputs, queries for reads, the bus (and, as a
 * safety net, the outbox table) for live events.
 */
import type { Kysely } from 'kysely';
import type { TicketsPort } from '../actors/ports.js';
import type { GraphRegistry } from '../machines/registry.js';
import { type GraphStateTree, stateTreeOf } from '../machines/stateTree.js';
import { findExecutionTenant } from '../persistence/executionReads.js';
import type { DB } from '../persistence/schema.js';
import type { Bus } from './bus.js';
import { ClusterEventFeed } from './eventFeed.js';
import type { LifecycleEvent } from './events.js';
import type { Intake } from './intake.js';
import type { InputMeta } from './messages.js';
import { executionEventsAfter, getExecution, listPage } from './queries.js';
import type { ExecutionService, ListQuery } from './service.js';
import { executionStats, workersView } from './stats.js';

export interface ExecutionServiceDeps {
  db: Kysely<DB>;
  /** where the comments the worker posted for an execution are read */
  tickets: Pick<TicketsPort, 'postedComments'>;
  intake: Intake;
  bus: Bus;
  /** named readiness checks: the database, NATS when configured, the host not draining */
  readinessChecks: Record<string, () => Promise<boolean>>;
  /** the graphs whose state trees `graphs()` answers */
  registry: GraphRegistry;
  /** how often a live subscription reads the outbox for events another process published */
  pollMs?: number;
}

/** Every version of every graph of `registry`, by id then version. */
function stateTreesOf(registry: GraphRegistry): GraphStateTree[] {
  return registry
    .list()
    .flatMap(({ id }) => registry.versions(id).flatMap((v) => registry.getVersion(id, v) ?? []))
    .map(stateTreeOf);
}

export function createExecutionService(deps: ExecutionServiceDeps): ExecutionService {
  const { db, intake, bus } = deps;
  const feed = new ClusterEventFeed({ db, bus, ...(deps.pollMs !== undefined && { pollMs: deps.pollMs }) });
  let trees: GraphStateTree[] | undefined;
  return {
    start: (body, meta: InputMeta) => intake.start(body, meta),
    resume: (id, body, meta) => intake.resume(id, body, meta),
    cancel: (id, body, meta) => intake.cancel(id, body, meta),
    retry: (id, body, meta) => intake.retry(id, body, meta),
    get: (id) => getExecution(db, deps.tickets, id),
    tenantOf: (id) => findExecutionTenant(db, id),
    list: (query: ListQuery) => listPage(db, query),
    eventsAfter: (id, afterSeq) => executionEventsAfter(db, id, afterSeq),
    subscribeAll: (filter, listener) => feed.subscribe(filter, listener),
    stats: (query) => executionStats(db, query),
    workers: (query) => workersView(db, query),
    // machines do not change while the worker runs: built once, on first use
    graphs: () => (trees ??= stateTreesOf(deps.registry)),

    subscribe(pathId, listener) {
      const executionId = pathId.toLowerCase();
      // Events reach this process's bus only when its own relay published them; those another worker's relay
      // published are read from the outbox. Delivery stays gap-free and in order: an event that skips a seq
      // triggers a read instead of being passed on.
      let lastSeq = 0;
      let closed = false;
      let reading = false;
      const deliver = (event: LifecycleEvent) => {
        if (closed || event.seq <= lastSeq) return;
        lastSeq = event.seq;
        listener(event);
      };
      const read = () => {
        if (reading) return;
        reading = true;
        executionEventsAfter(db, executionId, lastSeq)
          .then((events) => {
            for (const event of events) deliver(event);
          })
          .catch(() => {}) // the next tick reads again
          .finally(() => {
            reading = false;
          });
      };
      const off = bus.onEvent((event) => {
        if (event.executionId !== executionId) return;
        if (event.seq === lastSeq + 1) deliver(event);
        else if (event.seq > lastSeq) read();
      });
      const timer = setInterval(read, deps.pollMs ?? 1000);
      timer.unref();
      read();
      return () => {
        closed = true;
        off();
        clearInterval(timer);
      };
    },

    async readiness() {
      const entries = await Promise.all(
        Object.entries(deps.readinessChecks).map(async ([name, check]) => [
          name,
          await check().catch(() => false),
        ]),
      );
      const checks = Object.fromEntries(entries) as Record<string, boolean>;
      return { ready: Object.values(checks).every(Boolean), checks };
    },
  };
}
