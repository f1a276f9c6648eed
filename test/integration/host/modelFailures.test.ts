/**
 * What the host does with a real provider's failures, on PostgreSQL: the `refinement` graph on the `anthropic`
 * provider against a loopback Messages API that answers 429, 529, 500, 400, 401, answers that miss their
 * schema, and enough transient failures to open the tenant's circuit breaker. Each test is its own tenant: the
 * breaker is per tenant and provider.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../../../src/host/events.js';
import { type AnthropicReply, type FakeAnthropic, startFakeAnthropic } from '../../support/fakeAnthropic.js';
import { createSampleOrigin, type SampleOrigin } from '../../support/git.js';
import { meta, startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

const KEY = 'sk-ant-failures-test-key';
const MODEL = 'claude-failures';
const analysis: AnthropicReply = { kind: 'tool', input: { summary: 'A sample repository.' } };
const questions: AnthropicReply = { kind: 'tool', input: { questions: [{ id: 'q1', text: 'Which?' }] } };
const overloaded: AnthropicReply = {
  kind: 'error',
  status: 529,
  type: 'overloaded_error',
  message: 'Overloaded',
};

describe('a real provider’s failures', () => {
  let origin: SampleOrigin;
  let anthropic: FakeAnthropic;
  let cluster: TestCluster;
  beforeAll(async () => {
    origin = createSampleOrigin();
    anthropic = await startFakeAnthropic({ apiKey: KEY, model: MODEL, caching: false });
    cluster = await startCluster(1, {
      config: {
        AgentHost: { MaxRetries: 3, RetryDelayBaseSeconds: 0.05 },
        Tenants: {
          default: {
            Llm: {
              Provider: 'anthropic',
              Model: MODEL,
              BaseUrl: anthropic.url,
              ApiKey: KEY,
              PromptCaching: false,
              BreakerFailures: 2,
              BreakerSeconds: 1.5,
              MaxRateLimitWaitSeconds: 60,
            },
          },
          // two transient failures in a row would open the default's circuit
          overloaded: { Llm: { BreakerFailures: 5 } },
          // a tenant whose key the provider refuses
          wrongkey: { Llm: { ApiKey: 'sk-ant-not-the-key' } },
        },
      },
    });
  });
  afterEach(() => {
    anthropic.requests.length = 0;
  });
  afterAll(async () => {
    await cluster?.cleanup();
    await anthropic?.close();
    origin?.cleanup();
  });

  async function run(tenantId: string, statuses: string[]) {
    const worker = cluster.workers[0]!;
    const { executionId } = await worker.service.start(
      {
        graph: 'refinement',
        tenantId,
        ticket: { key: 'PROJ-3', title: 'Add a greeting', description: '' },
        repository: { url: origin.url },
      },
      meta,
    );
    const details = await waitForStatus(worker, executionId, statuses, 20_000);
    const events = await worker.service.eventsAfter(executionId, 0);
    return { details, events, retries: events.filter((e) => e.kind === 'retrying') };
  }
  const reasons = (retries: LifecycleEvent[]) => retries.map((e) => e.reason);

  it('429 with retry-after: waits at least that long, without spending an attempt', async () => {
    anthropic.reply(
      {
        kind: 'error',
        status: 429,
        type: 'rate_limit_error',
        message: 'slow down',
        headers: { 'retry-after': '1' },
      },
      analysis,
      questions,
    );
    const { details, retries } = await run('ratelimited', ['suspended', 'failed']);
    expect(details.status).toBe('suspended');
    expect(reasons(retries)).toEqual(['rate_limited']);
    expect(retries[0]!.attempt).toBe(1);
    const [limited, again] = anthropic.requests;
    expect(again!.at - limited!.at).toBeGreaterThanOrEqual(1000);
  });

  it('529 and 500: retried after the backoff, each spending an attempt', async () => {
    anthropic.reply(
      overloaded,
      { kind: 'error', status: 500, type: 'api_error', message: 'Internal' },
      analysis,
      questions,
    );
    const { details, retries } = await run('overloaded', ['suspended', 'failed']);
    expect(details.status).toBe('suspended');
    expect(reasons(retries)).toEqual(['failed', 'failed']);
    expect(retries.map((e) => e.error)).toEqual([
      expect.stringContaining('529'),
      expect.stringContaining('500'),
    ]);
    expect(anthropic.requests).toHaveLength(4);
  });

  it('400: failed at once with the server’s reason, no retry spent', async () => {
    anthropic.reply({
      kind: 'error',
      status: 400,
      type: 'invalid_request_error',
      message: 'max_tokens: too large',
    });
    const { details, retries } = await run('badrequest', ['failed', 'suspended']);
    expect(details.status).toBe('failed');
    expect(details.lastError).toContain('max_tokens: too large');
    expect(retries).toEqual([]);
    expect(anthropic.requests).toHaveLength(1);
  });

  it('401: a wrong key fails at once, and the reason does not show the key', async () => {
    const { details, retries } = await run('wrongkey', ['failed', 'suspended']);
    expect(details.status).toBe('failed');
    expect(details.lastError).toMatch(/401/);
    expect(details.lastError).not.toContain('sk-ant-not-the-key');
    expect(retries).toEqual([]);
    expect(anthropic.requests).toHaveLength(1);
    anthropic.violations.length = 0; // the fake notes the wrong key as a violation: that was the point
  });

  it('an answer that misses its schema is asked for again once, then fails the step', async () => {
    anthropic.reply({ kind: 'tool', input: { summary: '' } }, analysis, questions);
    const repaired = await run('repaired', ['suspended', 'failed']);
    expect(repaired.details.status).toBe('suspended');
    expect(repaired.retries).toEqual([]);
    expect(JSON.stringify(anthropic.requests[1]!.body?.messages)).toContain('summary');

    anthropic.requests.length = 0;
    anthropic.reply({ kind: 'tool', input: { wrong: 1 } }, { kind: 'tool', input: { summary: 42 } });
    const failed = await run('unrepaired', ['failed', 'suspended']);
    expect(failed.details.status).toBe('failed');
    expect(failed.details.lastError).toMatch(/schema/);
    expect(failed.retries).toEqual([]);
    expect(anthropic.requests).toHaveLength(2);
  });

  it('the breaker opens after BreakerFailures transient failures; steps wait without spending attempts', async () => {
    anthropic.reply(overloaded, overloaded, analysis, questions);
    const { details, retries } = await run('breaker', ['suspended', 'failed']);
    expect(details.status).toBe('suspended');
    const open = retries.filter((e) => e.reason === 'breaker_open');
    expect(reasons(retries).slice(0, 2)).toEqual(['failed', 'failed']);
    expect(open.length).toBeGreaterThanOrEqual(1);
    // attempts 1 and 2 were the 529s; the open circuit spends none
    expect(open.every((e) => e.attempt === 3)).toBe(true);
    // no call while open: the two 529s, the probe, and the questions
    expect(anthropic.requests).toHaveLength(4);
    const [, second, probe] = anthropic.requests;
    expect(probe!.at - second!.at).toBeGreaterThanOrEqual(1400);
    expect(anthropic.violations).toEqual([]);
  });

  it('a cancel mid-request aborts the call: nothing of its answer is written later', async () => {
    anthropic.reply({ ...analysis, delayMs: 1500 });
    const worker = cluster.workers[0]!;
    const { executionId } = await worker.service.start(
      {
        graph: 'refinement',
        tenantId: 'cancelled',
        ticket: { key: 'PROJ-4', title: 'Add a greeting', description: '' },
        repository: { url: origin.url },
      },
      meta,
    );
    const deadline = Date.now() + 10_000;
    while (anthropic.requests.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const before = await worker.service.get(executionId);
    await worker.service.cancel(executionId, { tenantId: 'cancelled', reason: 'changed our mind' }, meta);
    await new Promise((r) => setTimeout(r, 2000)); // past the moment the answer would have come
    const after = await worker.service.get(executionId);
    expect(after.status).toBe('cancelled');
    expect(anthropic.requests[0]!.closedEarly).toBe(true);
    expect(after.history).toEqual(before.history);
    expect(after.usage.steps).toEqual([]);
  });
});
