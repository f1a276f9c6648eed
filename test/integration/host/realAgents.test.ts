/**
 * The prfactory graph end to end with real adapters on PostgreSQL: the `anthropic` provider against a loopback
 * Messages API, `claude-code` pointed at the fake Claude Code, keys given as files. The feature branch must hold
 * the agent's edit and deletion; the usage must show in the API and in /metrics; and neither key may appear in
 * the logs, the events, the checkpoints, the spans, the API's answers or the origin.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { secretsOf } from '../../../src/redaction.js';
import type { Telemetry } from '../../../src/telemetry/index.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { createTracing } from '../../../src/telemetry/tracing.js';
import { fakeAgentPath, writeScript } from '../../support/codingAgents.js';
import { type FakeAnthropic, startFakeAnthropic } from '../../support/fakeAnthropic.js';
import { createSampleOrigin, git, type SampleOrigin } from '../../support/git.js';
import { meta, startCluster, type TestCluster, testConfig, waitForStatus } from '../../support/worker.js';

const LLM_KEY = 'sk-ant-e2e-model-key-7f3a9c';
const AGENT_KEY = 'sk-ant-e2e-agent-key-51d0be';
const MODEL = 'claude-e2e-test';

describe('the prfactory graph with a real model and a real coding agent', () => {
  let scratch: string;
  let origin: SampleOrigin;
  let anthropic: FakeAnthropic;
  let cluster: TestCluster;
  const logLines: string[] = [];
  const spans = new InMemorySpanExporter();

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'prf-e2e-'));
    origin = createSampleOrigin({
      files: {
        'README.md': '# Greeter\n\nSays hello.\n',
        'src/greeting.ts': 'export const greeting = "hello";\n',
        'src/legacyGreeting.ts': 'export const old = "hi";\n',
      },
    });
    anthropic = await startFakeAnthropic({ apiKey: LLM_KEY, model: MODEL, caching: true, maxTokens: 2048 });
    cluster = await startCluster(0);
  });
  afterAll(async () => {
    await cluster?.cleanup();
    await anthropic?.close();
    origin?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('ends with a feature branch holding the agent’s change, its usage shown, and no key anywhere', async () => {
    const llmKeyFile = path.join(scratch, 'anthropic.key');
    const agentKeyFile = path.join(scratch, 'agent.key');
    writeFileSync(llmKeyFile, `${LLM_KEY}\n`);
    writeFileSync(agentKeyFile, `${AGENT_KEY}\n`);
    const counter = path.join(scratch, 'agent-runs');
    process.env.FAKE_AGENT_SCRIPT = writeScript(path.join(scratch, 'claude.json'), {
      counter,
      promptMustContain: ['PROJ-7', '# Plan: a friendlier greeting'],
      actions: [
        { write: 'src/greeting.ts', content: 'export const greeting = "hello, friend";\n' },
        { delete: 'src/legacyGreeting.ts' },
      ],
      result: { result: 'Made the greeting friendlier and removed the legacy one.', total_cost_usd: 0.125 },
    });
    const tenants = {
      default: {
        Llm: {
          Provider: 'anthropic',
          Model: MODEL,
          BaseUrl: anthropic.url,
          ApiKeyFile: llmKeyFile,
          MaxOutputTokens: 2048,
          InputPricePerMTok: 3,
          OutputPricePerMTok: 15,
        },
        CodingAgent: {
          Preset: 'claude-code',
          Command: [fakeAgentPath('claude')],
          ApiKeyFile: agentKeyFile,
          Env: ['FAKE_AGENT_SCRIPT'],
          MaxTurns: 12,
        },
      },
    } as const;
    anthropic.reply(
      {
        kind: 'tool',
        input: { summary: 'A greeter: src/greeting.ts holds the text.' },
        usage: { input_tokens: 1500, output_tokens: 120, cache_creation_input_tokens: 2000 },
      },
      {
        kind: 'tool',
        input: { questions: [{ id: 'q1', text: 'How friendly?' }] },
        usage: { input_tokens: 400, output_tokens: 40 },
      },
      {
        kind: 'tool',
        input: { description: 'Greet as "hello, friend"; drop the legacy greeting.' },
        usage: { input_tokens: 500, output_tokens: 60 },
      },
      {
        kind: 'tool',
        input: {
          markdown:
            '# Plan: a friendlier greeting\n\n1. Change src/greeting.ts\n2. Delete src/legacyGreeting.ts',
        },
        usage: { input_tokens: 1400, output_tokens: 90, cache_read_input_tokens: 2000 },
      },
      {
        kind: 'tool',
        input: { notes: ['Say which tests cover the greeting.'] },
        usage: { input_tokens: 600, output_tokens: 30 },
      },
    );

    // Configured as `run` does it: the keys read from their files, the logger scrubbing every secret.
    const input = {
      Tenants: tenants,
      Logging: { Level: 'debug', Directory: null },
      AgentHost: { WorkerId: 'e2e' },
    } as const;
    const config = parseConfig(testConfig(cluster.schema, path.join(scratch, 'workspaces'), input));
    const logger = createLogger({
      config: config.Logging,
      secrets: secretsOf(config),
      destination: { write: (line: string) => logLines.push(line) },
    });
    const resource = resourceFromAttributes({});
    const tracing = createTracing({
      enabled: true,
      resource,
      spanProcessors: [new SimpleSpanProcessor(spans)],
    });
    const metrics = createMetrics({ resource });
    const telemetry: Telemetry = {
      metrics,
      tracing,
      shutdown: async () => {
        await Promise.allSettled([tracing.shutdown(), metrics.shutdown()]);
      },
    };
    const worker = await cluster.add({ config: input, logger, telemetry, http: true });

    const { executionId } = await worker.service.start(
      {
        graph: 'prfactory',
        tenantId: 'acme',
        ticket: {
          key: 'PROJ-7',
          title: 'A friendlier greeting',
          description: 'Make the greeting friendlier.',
        },
        repository: { url: origin.url },
      },
      meta,
    );
    let e = await waitForStatus(worker, executionId, ['suspended', 'failed']);
    expect(e.questions).toEqual([{ id: 'q1', text: 'How friendly?' }]);
    await worker.service.resume(
      executionId,
      { eventId: randomUUID(), tenantId: 'acme', type: 'answers_received', answers: { q1: 'Very' } },
      meta,
    );
    e = await waitForStatus(worker, executionId, ['suspended', 'failed']);
    expect(e.state).toBe('planning.awaitingApproval');
    expect(e.plan?.markdown).toContain('## Review notes\n\n- Say which tests cover the greeting.');
    await worker.service.resume(
      executionId,
      { eventId: randomUUID(), tenantId: 'acme', type: 'plan_approved', approvedBy: 'ana' },
      meta,
    );
    e = await waitForStatus(worker, executionId, ['completed', 'failed'], 60_000);
    expect(e.lastError).toBeUndefined();
    expect(e.status).toBe('completed');

    // The model: five calls, each a forced tool call with the repository context cached.
    expect(anthropic.violations).toEqual([]);
    expect(anthropic.requests).toHaveLength(5);
    const firstContext = JSON.stringify(anthropic.requests[0]!.body?.messages[0]);
    expect(firstContext).toContain('src/greeting.ts');
    expect(firstContext).toContain('Says hello.');

    // The feature branch: the agent's edit and deletion, as one commit with the trailers.
    const branch = e.pullRequest!.branch;
    expect(git(origin.url, 'diff', '--name-status', `refs/heads/main`, `refs/heads/${branch}`)).toBe(
      'M\tsrc/greeting.ts\nD\tsrc/legacyGreeting.ts',
    );
    expect(origin.show(branch, 'src/greeting.ts')).toBe('export const greeting = "hello, friend";');
    const message = git(origin.url, 'log', '-1', '--format=%B', `refs/heads/${branch}`);
    expect(message).toContain('Made the greeting friendlier and removed the legacy one.');
    expect(message).toContain(`PRFactory-Execution: ${executionId}`);
    expect(message).toContain(`PRFactory-Idempotency-Key: ${executionId}:implement:0`);

    // Usage through the API, per step and in total, and in /metrics.
    const details = (await (await fetch(`${worker.url}/v1/executions/${executionId}`)).json()) as {
      usage: { total: Record<string, number>; steps: Record<string, unknown>[] };
    };
    expect(details.usage.steps.map((s) => [s.step, s.provider])).toEqual([
      ['analyseCodebase', 'anthropic'],
      ['generateQuestions', 'anthropic'],
      ['processAnswers', 'anthropic'],
      ['generatePlan', 'anthropic'],
      ['reviewPlan', 'anthropic'],
      ['implement', 'claude-code'],
    ]);
    expect(details.usage.steps[0]).toMatchObject({
      model: MODEL,
      prompts: ['analyse@1'],
      inputTokens: 1500,
      outputTokens: 120,
      cacheWriteTokens: 2000,
    });
    expect(details.usage.steps[5]).toMatchObject({ costUsd: 0.125 });
    expect(details.usage.total).toMatchObject({
      calls: 6,
      inputTokens: 4400,
      outputTokens: 340,
      cacheReadTokens: 2000,
      cacheWriteTokens: 2000,
    });
    // (4,400 + 4,000 cached) × $3 + 340 × $15 per million, and the agent's $0.125
    expect(details.usage.total.costUsd).toBeCloseTo(0.0252 + 0.0051 + 0.125, 6);
    const scraped = await (await fetch(`${worker.url}/metrics`)).text();
    expect(scraped).toMatch(
      /llm_tokens_total\{provider="anthropic",model="claude-e2e-test",kind="input"[^}]*\} 4400\n/,
    );
    expect(scraped).toMatch(/llm_requests_total\{provider="anthropic",outcome="ok"[^}]*\} 5\n/);
    expect(scraped).toMatch(/coding_agent_runs_total\{preset="claude-code",outcome="ok"[^}]*\} 1\n/);
    expect(spans.getFinishedSpans().map((s) => s.name)).toEqual(
      expect.arrayContaining(['llm analyse', 'llm questions', 'llm refine', 'llm plan', 'llm review']),
    );

    // Neither key, anywhere the worker writes or answers.
    const events = await worker.service.eventsAfter(executionId, 0);
    const { rows: checkpoints } = await sql<{ text: string }>`
      SELECT snapshot::text AS text FROM ${sql.id(cluster.schema, 'checkpoints')}
      WHERE execution_id = ${executionId}`.execute(worker.database.db);
    const api = await Promise.all(
      [`/v1/executions/${executionId}`, '/v1/executions'].map(async (route) =>
        (await fetch(`${worker.url}${route}`)).text(),
      ),
    );
    await tracing.flush();
    const exported = spans
      .getFinishedSpans()
      .map((s) =>
        JSON.stringify({ name: s.name, attributes: s.attributes, status: s.status, events: s.events }),
      );
    const originText = git(origin.url, 'log', '--all', '--format=%H %B');
    const everything = {
      logs: logLines.join(''),
      events: JSON.stringify(events),
      checkpoints: checkpoints.map((c) => c.text).join('\n'),
      spans: exported.join('\n'),
      api: api.join('\n'),
      origin: originText,
    };
    expect(everything.logs.length).toBeGreaterThan(1000);
    expect(checkpoints.length).toBeGreaterThan(5);
    for (const [where, text] of Object.entries(everything)) {
      expect(text.includes(LLM_KEY), `the model key in ${where}`).toBe(false);
      expect(text.includes(AGENT_KEY), `the agent key in ${where}`).toBe(false);
    }
  });
});
