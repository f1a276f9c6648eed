/**
 * The four kinds of step failure on real PostgreSQL (src/host/failurePolicy.ts has the table): a permanent one
 * fails at once and an operator's retry runs it again; a rate limit and an open breaker wait without spending an
 * attempt, show why over the API and in the `retrying` event, and hold no slot meanwhile; rate-limited waits
 * past the tenant's `Llm.MaxRateLimitWaitSeconds` count as failures. The transient kind is failures.test.ts's.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { BreakerOpenFailure, PermanentFailure, RateLimitedFailure } from '../../../src/actors/failures.js';
import { afterAgentFailure } from '../../../src/host/failurePolicy.js';
import type { ExecutionDetails } from '../../../src/host/service.js';
import { writeTargetOf } from '../../../src/host/settlementWrites.js';
import { findExecution } from '../../../src/persistence/executions.js';
import { applyExecutionWrites } from '../../../src/persistence/executionWrites.js';
import { recordingAgents, startBody, stepsGraph } from '../../support/testGraphs.js';
import { allEvents, meta, startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

describe('failure kinds', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = undefined;
  });

  it('a permanent failure fails at once with its reason, and the operator’s retry runs it again', async () => {
    const runs: { key: string; executionId: string }[] = [];
    let misconfigured = true;
    cluster = await startCluster(1, {
      config: { AgentHost: { MaxRetries: 3 } },
      graphs: [stepsGraph('chain', 3)],
      agents: recordingAgents(['step1', 'step2', 'step3'], runs, async (key) => {
        if (key === 'step2' && misconfigured) throw new PermanentFailure('401: the API key was refused');
      }),
    });
    const worker = cluster.workers[0]!;
    const { executionId } = await worker.service.start(startBody('chain'), meta);
    const failed = await waitForStatus(worker, executionId, ['failed']);
    expect(runs.map((r) => r.key)).toEqual(['step1', 'step2']);
    expect(failed.attempts).toBe(1);
    expect(failed.lastError).toBe('agent step2 failed: 401: the API key was refused');
    expect(failed.retry).toBeUndefined();
    const events = await allEvents(worker, executionId);
    expect(events.map((e) => e.kind)).not.toContain('retrying');
    expect(events.at(-1)).toMatchObject({
      kind: 'failed',
      attempt: 1,
      error: 'agent step2 failed: 401: the API key was refused',
    });

    misconfigured = false; // the operator fixed the configuration
    await worker.service.retry(executionId, { tenantId: 'acme' }, meta);
    const done = await waitForStatus(worker, executionId, ['completed', 'failed']);
    expect(done).toMatchObject({ status: 'completed', attempts: 0 });
    expect(runs.map((r) => r.key)).toEqual(['step1', 'step2', 'step2', 'step3']);
  });

  it('a rate limit waits max(backoff, retry-after) without spending an attempt, and says so', async () => {
    const starts: number[] = [];
    cluster = await startCluster(1, {
      // No retry at all: a rate limit that spent an attempt would fail the execution.
      config: { AgentHost: { MaxRetries: 0, RetryDelayBaseSeconds: 0.01 } },
      graphs: [stepsGraph('chain', 2)],
      agents: recordingAgents(['step1', 'step2'], [], async (key) => {
        if (key !== 'step2') return;
        starts.push(Date.now());
        if (starts.length === 1) throw new RateLimitedFailure('429: slow down', 1500);
      }),
      http: true,
    });
    const worker = cluster.workers[0]!;
    const { executionId } = await worker.service.start(startBody('chain'), meta);
    const waiting = await waitForStatus(worker, executionId, ['retrying', 'completed', 'failed']);
    expect(waiting).toMatchObject({ status: 'retrying', attempts: 0 });
    const failedAt = starts[0]!;
    const retry = waiting.retry!;
    expect(retry.reason).toBe('rate_limited');
    // `at` is the database's clock: when the next attempt may run, 1.5 s (+ ≤ 20 %) after the failure.
    expect(Date.parse(retry.at) - failedAt).toBeGreaterThanOrEqual(1400);
    expect(Date.parse(retry.at) - failedAt).toBeLessThan(1500 * 1.2 + 1000);
    const overHttp = (await (
      await fetch(`${worker.url}/v1/executions/${executionId}`)
    ).json()) as ExecutionDetails;
    expect(overHttp.retry).toEqual(retry);
    const parked = await findExecution(worker.database.db, executionId);
    expect(parked?.rate_limit_wait_seconds).toBeGreaterThanOrEqual(1.5);

    const done = await waitForStatus(worker, executionId, ['completed', 'failed']);
    expect(done).toMatchObject({ status: 'completed', attempts: 0 });
    expect(done.retry).toBeUndefined();
    expect(starts).toHaveLength(2);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(1500);
    const retrying = (await allEvents(worker, executionId)).filter((e) => e.kind === 'retrying');
    expect(retrying).toEqual([
      expect.objectContaining({
        status: 'retrying',
        state: 'step2',
        attempt: 1,
        reason: 'rate_limited',
        error: 'agent step2 failed: 429: slow down',
      }),
    ]);
    // The wait was recorded, and the progress after it started the count again.
    const row = await findExecution(worker.database.db, executionId);
    expect(row?.rate_limit_wait_seconds).toBe(0);
  });

  it('rate-limited waits past Llm.MaxRateLimitWaitSeconds count as failed attempts', async () => {
    let calls = 0;
    let release: (() => void) | undefined;
    cluster = await startCluster(1, {
      config: {
        AgentHost: { MaxRetries: 1, RetryDelayBaseSeconds: 0.01 },
        Tenants: { default: { Llm: { MaxRateLimitWaitSeconds: 1 } } },
      },
      graphs: [stepsGraph('chain', 1)],
      agents: recordingAgents(['step1'], [], async () => {
        calls++;
        if (calls > 3) return new Promise<void>((r) => (release = r));
        throw new RateLimitedFailure('429: quota exhausted', 600);
      }),
    });
    const worker = cluster.workers[0]!;
    const { db } = worker.database;
    const { executionId } = await worker.service.start(startBody('chain'), meta);
    const failed = await waitForStatus(worker, executionId, ['failed']);
    // 0.6 s (+ jitter) fits in the 1 s; the next would not: counted, retried once (MaxRetries 1), then failed.
    expect(calls).toBe(3);
    expect(failed.attempts).toBe(2);
    expect(failed.lastError).toMatch(
      /^agent step1 failed: 429: quota exhausted \(rate-limited for \d+ s since the last progress, past Llm.MaxRateLimitWaitSeconds 1: counted as a failed attempt\) \(after 2 attempts\)$/,
    );
    const events = await allEvents(worker, executionId);
    expect(events.filter((e) => e.kind === 'retrying').map((e) => [e.attempt, e.reason])).toEqual([
      [1, 'rate_limited'],
      [1, 'failed'],
    ]);
    expect(events.at(-1)).toMatchObject({ kind: 'failed', attempt: 2 });
    expect((await findExecution(db, executionId))?.rate_limit_wait_seconds).toBeGreaterThanOrEqual(0.6);

    // The operator's retry starts the rate-limited wait again, as it does the attempts.
    await worker.service.retry(executionId, { tenantId: 'acme' }, meta);
    while (!release) await new Promise((r) => setTimeout(r, 20));
    expect(await findExecution(db, executionId)).toMatchObject({
      status: 'running',
      attempts: 0,
      rate_limit_wait_seconds: 0,
    });
    release();
    await waitForStatus(worker, executionId, ['completed']);
  });

  it('an open breaker parks the execution as retrying, attempts unchanged, reason shown', async () => {
    let calls = 0;
    cluster = await startCluster(1, {
      config: { AgentHost: { MaxRetries: 0, RetryDelayBaseSeconds: 0.01 } },
      graphs: [stepsGraph('chain', 1)],
      agents: recordingAgents(['step1'], [], async () => {
        calls++;
        if (calls <= 2) throw new BreakerOpenFailure('the anthropic circuit is open', 700);
      }),
    });
    const worker = cluster.workers[0]!;
    const { executionId } = await worker.service.start(startBody('chain'), meta);
    const parked = await waitForStatus(worker, executionId, ['retrying', 'completed', 'failed']);
    expect(parked).toMatchObject({
      status: 'retrying',
      attempts: 0,
      lastError: 'agent step1 failed: the anthropic circuit is open',
      retry: { reason: 'breaker_open' },
    });
    // A wait for the breaker is not a rate-limited wait: nothing is added to that bound.
    expect(await findExecution(worker.database.db, executionId)).toMatchObject({
      retry_reason: 'breaker_open',
      rate_limit_wait_seconds: 0,
    });
    const done = await waitForStatus(worker, executionId, ['completed', 'failed']);
    expect(done).toMatchObject({ status: 'completed', attempts: 0 });
    expect(calls).toBe(3);
    const events = await allEvents(worker, executionId);
    expect(events.filter((e) => e.kind === 'retrying').map((e) => [e.attempt, e.reason])).toEqual([
      [1, 'breaker_open'],
      [1, 'breaker_open'],
    ]);
  });

  it('a rate-limited execution gives its slot up while it waits: another runs meanwhile', async () => {
    const log: string[] = [];
    let first: string | undefined;
    cluster = await startCluster(1, {
      config: { AgentHost: { MaxConcurrentExecutions: 1, MaxRetries: 0, RetryDelayBaseSeconds: 0.01 } },
      graphs: [stepsGraph('chain', 1)],
      agents: recordingAgents(['step1'], [], async (_key, input) => {
        first ??= input.executionId;
        const who = input.executionId === first ? 'A' : 'B';
        log.push(who);
        if (who === 'A' && log.filter((w) => w === 'A').length === 1) {
          throw new RateLimitedFailure('429: slow down', 3000);
        }
      }),
    });
    const worker = cluster.workers[0]!;
    const a = (await worker.service.start(startBody('chain'), meta)).executionId;
    await waitForStatus(worker, a, ['retrying']);
    const row = await findExecution(worker.database.db, a);
    expect(row).toMatchObject({ status: 'retrying', lease_owner: null, lease_expires_at: null });

    const b = (await worker.service.start(startBody('chain', { ticket: { key: 'T-2' } }), meta)).executionId;
    await waitForStatus(worker, b, ['completed']);
    expect((await worker.service.get(a)).status).toBe('retrying');
    expect(log).toEqual(['A', 'B']);

    await waitForStatus(worker, a, ['completed']);
    expect(log).toEqual(['A', 'B', 'A']);
  });

  it('a failure written twice counts once: the second write is fenced out', async () => {
    cluster = await startCluster(1, {
      graphs: [stepsGraph('chain', 1)],
      agents: recordingAgents(['step1'], []),
    });
    const worker = cluster.workers[0]!;
    const { db } = worker.database;
    const { executionId } = await worker.service.start(startBody('chain'), meta);
    await waitForStatus(worker, executionId, ['completed']);
    // As if the worker held it, running, after a progress of an earlier rate limit of 5 s.
    await sql`UPDATE executions SET status = 'running', lease_owner = 'w-dup', lease_epoch = lease_epoch + 1,
                lease_expires_at = now() + interval '1 minute', finished_at = NULL, rate_limit_wait_seconds = 5
              WHERE id = ${executionId}`.execute(db);
    const row = (await findExecution(db, executionId))!;
    const decision = afterAgentFailure(
      {
        target: writeTargetOf(row, 'w-dup'),
        state: row.state,
        attempts: row.attempts,
        resumeAttempts: row.resume_attempts,
        rateLimitWaitSeconds: row.rate_limit_wait_seconds,
      },
      { MaxRetries: 3, MaxResumeRetries: 3, RetryDelayBaseSeconds: 1, MaxRateLimitWaitSeconds: 900 },
      { agent: 'step1', message: '429', kind: 'rateLimited', retryAfterMs: 60_000 },
      () => 0,
    );
    const [once] = await applyExecutionWrites(worker.database, [decision.write]);
    const [twice] = await applyExecutionWrites(worker.database, [decision.write]);
    expect(once?.ok).toBe(true);
    expect(twice?.ok).toBe(false);
    const after = (await findExecution(db, executionId))!;
    expect(after).toMatchObject({
      status: 'retrying',
      retry_reason: 'rate_limited',
      rate_limit_wait_seconds: 65,
      attempts: 0,
      lease_owner: null,
    });
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM outbox WHERE execution_id = ${executionId} AND kind = 'retrying'`.execute(
      db,
    );
    expect(rows[0]?.n).toBe(1);
  });
});
