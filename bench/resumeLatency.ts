/**
 * Resume latency: from publishing a resume on NATS to the commit of the checkpoint it causes, over `resumes`
 * executions suspended in `gate`, one resume at a time (each waits until its execution has settled again, so the
 * figure is latency, not queueing).
 *
 * What happens in between: JetStream stores the message and answers the publisher; the worker's pull consumer
 * receives it; intake, which has room for the run, reads the suspended execution and its latest checkpoint
 * (one statement), restores the actor, sends the event and builds the write of the state it enters (`after`,
 * before the `after` agent may start); one call of `prfactory_resume` then commits the inbox row, the claim,
 * that checkpoint and the `resumed` event together (src/host/preparedResume.ts). Then `after` runs and `done`
 * is committed (not measured). Without room, or when the execution moved on meanwhile, the resume takes the
 * ordinary way: intake commits it (and claims it when it has room), the runner restores the actor and writes.
 *
 * Clocks, per resume, all started just before the publish (`performance.now()`):
 * - `publishAckMs`: JetStream's answer to the publish (the message is stored);
 * - `checkpointCommittedMs` (THE figure): a NOTIFY from an AFTER INSERT trigger on `checkpoints`, which the
 *   bench installs in its scratch schema for this measurement. PostgreSQL delivers a notification only after
 *   the transaction that sent it has committed (WAL flushed: synchronous_commit is on), so its arrival at the
 *   bench's LISTENing connection is the commit, plus the delivery over a local socket;
 * - `breakdownMs`: when each transaction on the way began, in the database's clock (`now()`, which is the
 *   transaction's start) minus the publish time in the same system clock: intake's (`inbox.received_at`), the
 *   claim's (`lease_expires_at` as the claim set it, minus LeaseSeconds; read by the trigger), the
 *   checkpoint's (`checkpoints.created_at`). The last is a lower bound of the commit. On the prepared way the
 *   three are one transaction and the three figures are equal;
 * - `resumedEventMs`: the `resumed` lifecycle event arriving on `P.events.<id>.resumed` (core NATS subscription
 *   on the subject the outbox relay publishes to): what a client watching the execution sees.
 */
import { randomUUID } from 'node:crypto';
import type { Msg } from '@nats-io/transport-node';
import pg from 'pg';
import { TEST_DATABASE_URL } from '../test/support/database.js';
import type { NatsTestClient } from '../test/support/nats.js';
import type { BenchSchema } from './benchSchema.js';
import { type Distribution, distribution, progress } from './report.js';

export interface ResumeLatencyResult {
  resumes: number;
  warmup: number;
  publishAckMs: Distribution;
  checkpointCommittedMs: Distribution;
  /** when each transaction on the way began (its `now()`), from the publish: lower bounds of each phase's end */
  breakdownMs: {
    /** intake's transaction (`inbox.received_at`): NATS delivery to the worker */
    intakeTransactionStart: Distribution;
    /** the claim's transaction (`lease_expires_at − LeaseSeconds`): intake's commit, the wake-up */
    claimTransactionStart: Distribution;
    /** the checkpoint's transaction (`checkpoints.created_at`): the claim, loading and restoring the actor */
    checkpointTransactionStart: Distribution;
  };
  resumedEventMs: Distribution;
  /** storage of the inbox stream the resumes went through, as JetStream reports it (`file`: durable) */
  inboxStorage: string;
  /** the state of the checkpoint each resume committed first (all `after` when right) */
  checkpointStates: Record<string, number>;
  seconds: number;
}

interface Committed {
  at: number;
  createdAtMs: number;
  leaseExpiresAtMs: number;
  state: string;
}

/** Offset from `performance.now()` to the system clock, read at a tick of `Date.now()` (µs-exact). */
function clockOffset(): number {
  const first = Date.now();
  let now = Date.now();
  while (now === first) now = Date.now();
  return now - performance.now();
}

function waiter<T>(timeoutMs: number, what: string) {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = setTimeout(() => reject(new Error(`${what}: nothing within ${timeoutMs} ms`)), timeoutMs);
  const settled = promise.finally(() => clearTimeout(timer));
  settled.catch(() => {}); // a waiter left behind by an earlier failure must not crash the run as unhandled
  return { promise: settled, resolve };
}

export async function measureResumeLatency(options: {
  target: BenchSchema;
  client: NatsTestClient;
  executionIds: string[];
  resumes: number;
  warmup: number;
  /** the worker's LeaseSeconds: its claim's `now()` is `lease_expires_at` minus this */
  leaseSeconds: number;
}): Promise<ResumeLatencyResult> {
  const { target, client, executionIds, resumes, warmup, leaseSeconds } = options;
  if (executionIds.length < resumes + warmup) throw new Error('not enough suspended executions');
  const inboxStorage = String((await client.jsm.streams.info(client.names.inboxStream)).config.storage);
  if (inboxStorage !== 'file') throw new Error(`the inbox stream is on ${inboxStorage} storage, not durable`);
  const channel = `bench_checkpoint_${target.schema}`;
  const schema = pg.escapeIdentifier(target.schema);
  await target.pool.query(`
    CREATE FUNCTION ${schema}.bench_checkpoint_committed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify(${pg.escapeLiteral(channel)}, json_build_object(
        'id', NEW.execution_id, 'state', NEW.state,
        'createdAtMs', extract(epoch FROM NEW.created_at) * 1000,
        'leaseExpiresAtMs', (SELECT extract(epoch FROM e.lease_expires_at) * 1000
                             FROM ${schema}.executions AS e WHERE e.id = NEW.execution_id))::text);
      RETURN NULL;
    END $$`);
  await target.pool.query(`CREATE TRIGGER bench_checkpoint_committed AFTER INSERT ON ${schema}.checkpoints
    FOR EACH ROW EXECUTE FUNCTION ${schema}.bench_checkpoint_committed()`);

  const committed = new Map<string, (c: Committed) => void>();
  const resumed = new Map<string, (at: number) => void>();
  const listener = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await listener.connect();
  listener.on('notification', (n) => {
    const at = performance.now();
    const c = JSON.parse(n.payload ?? '{}') as Omit<Committed, 'at'> & { id: string };
    committed.get(c.id)?.({
      at,
      createdAtMs: Number(c.createdAtMs),
      leaseExpiresAtMs: Number(c.leaseExpiresAtMs),
      state: c.state,
    });
    committed.delete(c.id);
  });
  await listener.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
  const completed = new Map<string, (at: number) => void>();
  const on = (kind: string, waiting: Map<string, (at: number) => void>) =>
    client.nc.subscribe(`${client.names.prefix}.events.*.${kind}`, {
      callback: (error: Error | null, msg: Msg) => {
        if (error) return;
        const at = performance.now();
        const id = msg.subject.split('.').at(-2)!;
        waiting.get(id)?.(at);
        waiting.delete(id);
      },
    });
  const subscriptions = [on('resumed', resumed), on('completed', completed)];
  await client.nc.flush();

  const samples = {
    ack: [] as number[],
    intake: [] as number[],
    claim: [] as number[],
    commit: [] as number[],
    txStart: [] as number[],
    event: [] as number[],
  };
  const states: Record<string, number> = {};
  const started = performance.now();
  let offset = clockOffset();
  try {
    for (const [i, executionId] of executionIds.slice(0, warmup + resumes).entries()) {
      if (i % 100 === 0) {
        offset = clockOffset(); // re-read now and then: the monotonic clock and the system clock may drift
        if (i > 0 && i <= warmup) progress(`resume latency: warm-up, ${i} of ${warmup}`);
        else if (i > warmup) progress(`resume latency: ${i - warmup} of ${resumes}`);
      }
      const commit = waiter<Committed>(10_000, `checkpoint of ${executionId}`);
      const event = waiter<number>(10_000, `resumed event of ${executionId}`);
      const done = waiter<number>(10_000, `completed event of ${executionId}`);
      committed.set(executionId, commit.resolve);
      resumed.set(executionId, event.resolve);
      completed.set(executionId, done.resolve);
      const eventId = randomUUID();
      const body = {
        eventId,
        executionId,
        tenantId: 'acme',
        type: 'answers_received',
        answers: { q1: 'yes' },
      };
      const t0 = performance.now();
      await client.publish(client.names.resume(executionId), body, { msgId: eventId });
      const acked = performance.now();
      const [c, e] = await Promise.all([commit.promise, event.promise]);
      // settled again (the `after` agent ran, `done` committed and published) before the next resume
      await done.promise;
      if (i < warmup) continue;
      const { rows } = await target.pool.query<{ ms: number }>(
        'SELECT extract(epoch FROM received_at)::float8 * 1000 AS ms FROM inbox WHERE id = $1',
        [eventId],
      );
      const sent = t0 + offset; // the publish in the system clock
      samples.ack.push(acked - t0);
      samples.intake.push(rows[0]!.ms - sent);
      samples.claim.push(c.leaseExpiresAtMs - leaseSeconds * 1000 - sent);
      samples.txStart.push(c.createdAtMs - sent);
      samples.commit.push(c.at - t0);
      samples.event.push(e - t0);
      states[c.state] = (states[c.state] ?? 0) + 1;
    }
  } finally {
    for (const s of subscriptions) s.unsubscribe();
    await listener.end();
  }
  return {
    resumes,
    warmup,
    publishAckMs: distribution(samples.ack),
    checkpointCommittedMs: distribution(samples.commit),
    breakdownMs: {
      intakeTransactionStart: distribution(samples.intake),
      claimTransactionStart: distribution(samples.claim),
      checkpointTransactionStart: distribution(samples.txStart),
    },
    resumedEventMs: distribution(samples.event),
    inboxStorage,
    checkpointStates: states,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}
