/**
 * A model client as a step uses it, on the machine's PostgreSQL: usage rows, the token budget, the breaker, the
 * metrics and the `llm <operation>` span.
 */
import { randomUUID } from 'node:crypto';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BreakerOpenFailure, PermanentFailure, TransientFailure } from '../../../../src/actors/failures.js';
import { LLM_DEFAULTS, type LlmSettings } from '../../../../src/agentSettings.js';
import { meteredClient } from '../../../../src/integrations/llm/meteredClient.js';
import type { ModelClient, ModelRequest } from '../../../../src/integrations/llm/modelClient.js';
import { ProviderBreakers } from '../../../../src/integrations/llm/providerBreakers.js';
import { type Database, openDatabase } from '../../../../src/persistence/database.js';
import { insertExecution } from '../../../../src/persistence/executions.js';
import { migrateToLatest } from '../../../../src/persistence/migrate.js';
import { usageOf } from '../../../../src/persistence/usage.js';
import { createMetrics } from '../../../../src/telemetry/metrics.js';
import { createTracing } from '../../../../src/telemetry/tracing.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../../support/database.js';

const signal = () => new AbortController().signal;
const settings: LlmSettings = {
  ...LLM_DEFAULTS,
  Provider: 'anthropic',
  Model: 'claude-test',
  ApiKey: 'sk-test',
  BreakerFailures: 2,
  BreakerSeconds: 0.5,
  InputPricePerMTok: 3,
  OutputPricePerMTok: 15,
};
const request: ModelRequest = {
  prompt: 'analyse@1',
  system: 'You analyse.',
  messages: [{ role: 'user', content: 'Go' }],
  output: { name: 'answer', description: 'the answer', schema: { type: 'object' } },
  maxOutputTokens: 1000,
};
const usage = { inputTokens: 1200, outputTokens: 300, cacheReadTokens: 5000, cacheWriteTokens: 0 };

/** A client whose next answers are scripted: a usage to answer with, or an error to throw. */
function scriptedClient(script: (typeof usage | Error)[]): ModelClient & { calls: number } {
  const client = {
    provider: 'anthropic' as const,
    model: 'claude-test',
    calls: 0,
    async complete() {
      client.calls++;
      const next = script.shift();
      if (next === undefined) throw new Error('the script ran out');
      if (next instanceof Error) throw next;
      return { output: { ok: true }, text: '{"ok":true}', usage: next };
    },
  };
  return client;
}

describe('metered model client', () => {
  const schema = uniqueSchema('llmmeter');
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({
      Url: TEST_DATABASE_URL,
      Schema: schema,
      DataDirectory: 'x',
      PoolSize: 4,
    });
    await migrateToLatest(database.db, schema);
  });
  afterAll(async () => {
    await database?.close();
    await dropSchema(schema);
  });

  async function newExecution(): Promise<string> {
    const id = randomUUID();
    await insertExecution(database.db, {
      id,
      graph: 'refinement',
      graphVersion: 1,
      tenantId: 'acme',
      ticket: {},
      repository: {},
      input: {},
      requestHash: 'h',
      priority: 0,
      traceParent: null,
    });
    return id;
  }

  it('records each answered call per step, counts tokens and traces it under the step', async () => {
    const executionId = await newExecution();
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing({
      enabled: true,
      resource: resourceFromAttributes({}),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const metrics = createMetrics({ resource: resourceFromAttributes({}) });
    const step = tracing.tracer.startSpan('agent analyseCodebase');
    const call = {
      tenantId: 'acme',
      executionId,
      step: 'analyseCodebase',
      trace: trace.setSpan(ROOT_CONTEXT, step),
    };
    const deps = { db: database.db, breakers: new ProviderBreakers(), metrics, tracer: tracing.tracer };
    const client = meteredClient(scriptedClient([usage, usage]), call, settings, deps);
    await client.complete(request, signal());
    await client.complete({ ...request, prompt: 'analyse@2' }, signal());
    step.end();

    const recorded = await usageOf(database.db, executionId);
    expect(recorded.steps).toEqual([
      {
        step: 'analyseCodebase',
        provider: 'anthropic',
        model: 'claude-test',
        prompts: ['analyse@1', 'analyse@2'],
        calls: 2,
        inputTokens: 2400,
        outputTokens: 600,
        cacheReadTokens: 10_000,
        cacheWriteTokens: 0,
        // (1,200 + 5,000) × $3 + 300 × $15, per million, twice
        costUsd: 0.0462,
      },
    ]);
    expect(recorded.total).toMatchObject({ calls: 2, inputTokens: 2400, costUsd: 0.0462 });

    const spans = exporter.getFinishedSpans().filter((s) => s.name === 'llm analyse');
    expect(spans).toHaveLength(2);
    expect(spans[0]!.parentSpanContext?.spanId).toBe(step.spanContext().spanId);
    expect(spans[0]!.attributes).toMatchObject({
      'llm.provider': 'anthropic',
      'llm.model': 'claude-test',
      'llm.usage.input_tokens': 1200,
      'llm.usage.cache_read_tokens': 5000,
    });
    const text = await metrics.prometheusText();
    expect(text).toMatch(/llm_tokens_total\{[^}]*kind="cache_read"[^}]*\} 10000/);
    expect(text).toMatch(/llm_requests_total\{provider="anthropic",outcome="ok"[^}]*\} 2\n/);
    await tracing.shutdown();
    await metrics.shutdown();
  });

  it('stops an execution whose next call could pass Llm.MaxTokensPerExecution, before calling', async () => {
    const executionId = await newExecution();
    const inner = scriptedClient([usage, usage]);
    const call = { tenantId: 'acme', executionId, step: 'generatePlan' };
    const client = meteredClient(
      inner,
      call,
      { ...settings, MaxTokensPerExecution: 8000 },
      {
        db: database.db,
        breakers: new ProviderBreakers(),
      },
    );
    await client.complete(request, signal()); // 6,500 spent
    const refused = client.complete(request, signal()); // 6,500 + 1,000 ≤ 8,000: allowed
    await expect(refused).resolves.toBeDefined();
    const over = client.complete(request, signal()); // 13,000 + 1,000 > 8,000
    await expect(over).rejects.toBeInstanceOf(PermanentFailure);
    await expect(over).rejects.toThrow(/13000 of 8000 tokens used \(Llm\.MaxTokensPerExecution\)/);
    expect(inner.calls).toBe(2);
  });

  it('opens the breaker after BreakerFailures transient failures, parks calls without calling, then probes once', async () => {
    const executionId = await newExecution();
    const breakers = new ProviderBreakers();
    const inner = scriptedClient([
      new TransientFailure('500 from anthropic'),
      // not the provider's fault: neither counted nor a success that would reset the count
      new PermanentFailure('400 from anthropic'),
      new TransientFailure('529 overloaded'),
      usage,
    ]);
    const call = { tenantId: 'acme', executionId, step: 'analyseCodebase' };
    const client = meteredClient(inner, call, settings, { db: database.db, breakers });
    await expect(client.complete(request, signal())).rejects.toBeInstanceOf(TransientFailure);
    await expect(client.complete(request, signal())).rejects.toBeInstanceOf(PermanentFailure);
    expect(breakers.stateOf({ tenantId: 'acme', provider: 'anthropic' })).toBe('closed');
    await expect(client.complete(request, signal())).rejects.toBeInstanceOf(TransientFailure);
    expect(breakers.stateOf({ tenantId: 'acme', provider: 'anthropic' })).toBe('open');

    const parked = await client.complete(request, signal()).catch((e: unknown) => e);
    expect(parked).toBeInstanceOf(BreakerOpenFailure);
    expect((parked as BreakerOpenFailure).retryAfterMs).toBeGreaterThan(0);
    expect((parked as BreakerOpenFailure).retryAfterMs).toBeLessThanOrEqual(500);
    expect(inner.calls).toBe(3);
    // another tenant's circuit is its own
    expect(breakers.stateOf({ tenantId: 'globex', provider: 'anthropic' })).toBe('closed');

    await new Promise((r) => setTimeout(r, 550));
    await expect(client.complete(request, signal())).resolves.toBeDefined();
    expect(inner.calls).toBe(4);
    expect(breakers.stateOf({ tenantId: 'acme', provider: 'anthropic' })).toBe('closed');
  });
});
