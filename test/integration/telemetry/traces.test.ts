/**
 * Traces (docs/operations.md) as a collector receives them: worker processes export over OTLP/HTTP (the standard
 * OTEL_* variables) to a real receiver on loopback, for one `prfactory` ticket on a sample git repository.
 *
 *   start    → HTTP, traceparent T1, worker A   → run 1 (refinement, up to the questions)
 *   answers  → HTTP, traceparent T2, worker A   → run 2 (up to the plan's approval)
 *   A drains (SIGTERM) and exits
 *   approval → HTTP, traceparent T3, worker B   → run 3 (implementation, pull request)
 *
 * Each run is a span `workflow prfactory` whose parent is the traceparent of the input that woke it; runs 2 and
 * 3 link to run 1 (run 3 from another process, through the database); every agent step is a child span of its
 * run. And with `AgentFramework.EnableTracing: false` nothing is sent.
 *
 * Workers built in this process read the variables when they are created: those tests stub `process.env`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { metrics, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AgentFn } from '../../../src/actors/agent.js';
import { createSampleOrigin, type SampleOrigin } from '../../support/git.js';
import { createProcessCluster, type ProcessCluster } from '../../support/processes/processCluster.js';
import type { WorkerProcess } from '../../support/processes/workerProcess.js';
import { gateGraph, startBody, stepsGraph } from '../../support/testGraphs.js';
import { answersBody, meta, prepareAsIntake, startCluster, waitForStatus } from '../../support/worker.js';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './otlpReceiver.js';

interface Caller {
  traceId: string;
  spanId: string;
  header: string;
}

/** A caller's span, as an API in front of the worker would send it. */
function caller(): Caller {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
}

async function post(url: string, body: unknown, traceparent: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  expect(response.status, JSON.stringify(json)).toBe(202);
  return json;
}

async function waitUntil(
  url: string,
  predicate: (e: Record<string, unknown>) => boolean,
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    last = (await (await fetch(url)).json()) as Record<string, unknown>;
    if (predicate(last)) return last;
    if (['failed', 'cancelled'].includes(last.status as string)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `condition not met: ${JSON.stringify({ status: last.status, state: last.state, lastError: last.lastError })}`,
  );
}

/** The standard variables for the workers created next in this process (until the test ends). */
function stubOtelEnv(variables: Record<string, string>): void {
  for (const [name, value] of Object.entries(variables)) vi.stubEnv(name, value);
}
afterEach(() => {
  vi.unstubAllEnvs();
});

const waitingFor = (type: string) => (e: Record<string, unknown>) =>
  e.status === 'suspended' && (e.waitingFor as string[]).includes(type);

describe('traces of a prfactory ticket across two worker processes', () => {
  let receiver: OtlpReceiver;
  let cluster: ProcessCluster;
  let origin: SampleOrigin;
  let a: WorkerProcess;
  let b: WorkerProcess;
  const t1 = caller();
  const t2 = caller();
  const t3 = caller();
  let id: string;
  let runs: ReceivedSpan[];
  let agents: ReceivedSpan[];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    cluster = await createProcessCluster();
    origin = createSampleOrigin();
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRIC_EXPORT_INTERVAL: '500',
    };
    a = await cluster.spawn({ workerId: 'worker-a', http: true, env });
    const started = await post(
      `${a.url}/v1/executions`,
      {
        graph: 'prfactory',
        tenantId: 'acme',
        ticket: { key: 'PROJ-7', title: 'Add a greeting', description: 'Say hello' },
        repository: { url: origin.url },
      },
      t1.header,
    );
    id = started.executionId as string;
    const questions = await waitUntil(`${a.url}/v1/executions/${id}`, waitingFor('answers_received'));
    await post(
      `${a.url}/v1/executions/${id}/events`,
      {
        eventId: randomUUID(),
        tenantId: 'acme',
        type: 'answers_received',
        answers: Object.fromEntries((questions.questions as { id: string }[]).map((q) => [q.id, 'yes'])),
      },
      t2.header,
    );
    await waitUntil(`${a.url}/v1/executions/${id}`, waitingFor('plan_approved'));
    a.signal('SIGTERM');
    expect((await a.exitWithin(15_000)).code).toBe(0);

    b = await cluster.spawn({ workerId: 'worker-b', http: true, env });
    await post(
      `${b.url}/v1/executions/${id}/events`,
      { eventId: randomUUID(), tenantId: 'acme', type: 'plan_approved', approvedBy: 'ana' },
      t3.header,
    );
    await waitUntil(`${b.url}/v1/executions/${id}`, (e) => e.status === 'completed');
    b.signal('SIGTERM');
    expect((await b.exitWithin(15_000)).code).toBe(0);

    const mine = (s: ReceivedSpan) => s.attributes['execution.id'] === id;
    await receiver.waitForSpans(
      (spans) => spans.filter((s) => mine(s) && s.name.startsWith('workflow')).length >= 3,
    );
    runs = receiver.spans
      .filter((s) => mine(s) && s.name === 'workflow prfactory')
      .sort((x, y) => (x.startNs < y.startNs ? -1 : 1));
    agents = receiver.spans.filter((s) => mine(s) && s.name.startsWith('agent '));
  }, 120_000);

  afterAll(async () => {
    await cluster?.cleanup();
    await receiver?.close();
    origin?.cleanup();
  });

  it('receives one workflow span per run, with its attributes', () => {
    expect(receiver.errors).toEqual([]);
    expect(runs).toHaveLength(3);
    for (const run of runs) {
      expect(run.attributes).toMatchObject({
        'execution.id': id,
        'tenant.id': 'acme',
        'ticket.key': 'PROJ-7',
        graph: 'prfactory',
      });
      expect(run.endNs).toBeGreaterThan(run.startNs);
    }
    expect(runs.map((r) => r.instance)).toEqual(['worker-a', 'worker-a', 'worker-b']);
    expect(runs.map((r) => r.service)).toEqual(['prfactory-worker', 'prfactory-worker', 'prfactory-worker']);
    expect(runs.map((r) => r.attributes['run.outcome'])).toEqual(['suspended', 'suspended', 'completed']);
  });

  it('makes the start’s traceparent the parent of the first run', () => {
    expect(runs[0]).toMatchObject({ traceId: t1.traceId, parentSpanId: t1.spanId, links: [] });
  });

  it('makes each resume’s traceparent the parent of the run it wakes, even on another worker', () => {
    expect(runs[1]).toMatchObject({ traceId: t2.traceId, parentSpanId: t2.spanId });
    expect(runs[2]).toMatchObject({ traceId: t3.traceId, parentSpanId: t3.spanId, instance: 'worker-b' });
  });

  it('links every later run to the first run’s span', () => {
    const first = { traceId: runs[0]!.traceId, spanId: runs[0]!.spanId };
    expect(runs[1]!.links).toEqual([first]);
    expect(runs[2]!.links).toEqual([first]); // written by worker A, read back by worker B
  });

  it('makes every agent step a child span of its run', () => {
    const byRun = runs.map((run) =>
      agents
        .filter((s) => s.parentSpanId === run.spanId)
        .map((s) => {
          expect(s.traceId).toBe(run.traceId);
          expect(s.startNs).toBeGreaterThanOrEqual(run.startNs);
          expect(s.endNs).toBeLessThanOrEqual(run.endNs);
          expect(s.statusCode).not.toBe(2);
          return s.name;
        }),
    );
    // No orphan: every agent span belongs to one of the three runs.
    expect(byRun.flat().sort()).toEqual(agents.map((s) => s.name).sort());
    expect(byRun[0]).toEqual(
      expect.arrayContaining([
        'agent cloneRepository',
        'agent analyseCodebase',
        'agent generateQuestions',
        'agent postQuestions',
      ]),
    );
    expect(byRun[1]).toEqual(
      expect.arrayContaining([
        'agent processAnswers',
        'agent generatePlan',
        'agent commitPlan',
        'agent postPlan',
      ]),
    );
    expect(byRun[2]).toEqual(expect.arrayContaining(['agent implement', 'agent openPullRequest']));
  });

  it('puts the run’s trace and span ids on the worker’s log lines of that run', () => {
    const line = a.logs.find((l) => l.executionId === id && l.msg === 'resume applied');
    expect(line).toMatchObject({ traceId: runs[1]!.traceId, spanId: runs[1]!.spanId });
  });

  it('exports the metrics over OTLP too', () => {
    for (const name of [
      'workflow.started',
      'workflow.completed',
      'workflow.duration',
      'agent.executions',
      'workflow.active',
      'queue.depth',
      'checkpoint.write.duration',
    ])
      expect(receiver.metricNames, name).toContain(name);
  });
});

describe('AgentFramework.EnableTracing', () => {
  it('false sends no span; true (the control, same receiver) does', async () => {
    const receiver = await startOtlpReceiver();
    // A batch delay longer than the test: what arrives was flushed by the worker's stop.
    stubOtelEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    });
    const step = (async () => ({ ok: true })) as AgentFn<never, unknown>;
    const runOne = async (enabled: boolean) => {
      const cluster = await startCluster(0);
      try {
        const worker = await cluster.add({
          graphs: [stepsGraph('traced', 2)],
          agents: { step1: step, step2: step },
          config: { AgentFramework: { EnableTracing: enabled } },
        });
        const { executionId } = await worker.service.start(startBody('traced'), {
          ...meta,
          traceParent: caller().header,
        });
        await waitForStatus(worker, executionId, ['completed']);
        await worker.stop(); // flushes what is buffered
        return executionId;
      } finally {
        await cluster.cleanup();
      }
    };
    try {
      const traced = await runOne(true);
      const untraced = await runOne(false);
      const names = (execution: string) =>
        receiver.spans
          .filter((s) => s.attributes['execution.id'] === execution)
          .map((s) => s.name)
          .sort();
      expect(names(traced)).toEqual(['agent step1', 'agent step2', 'workflow traced']);
      expect(names(untraced)).toEqual([]);
      expect(receiver.errors).toEqual([]);
    } finally {
      await receiver.close();
    }
  });
});

describe('a resume that arrives while its execution runs', () => {
  it('is kept, and its traceparent is the parent of the run that applies it', async () => {
    const receiver = await startOtlpReceiver();
    stubOtelEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const cluster = await startCluster(0);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      const worker = await cluster.add({
        graphs: [gateGraph('gate')],
        agents: {
          before: (async () => {
            await held;
            return { ok: true };
          }) as AgentFn<never, unknown>,
          after: (async () => ({ ok: true })) as AgentFn<never, unknown>,
        },
      });
      const start = caller();
      const resume = caller();
      const { executionId } = await worker.service.start(startBody('gate'), {
        ...meta,
        traceParent: start.header,
      });
      await waitForStatus(worker, executionId, ['running']);
      const kept = await worker.service.resume(
        executionId,
        { eventId: randomUUID(), tenantId: 'acme', type: 'answers_received', answers: { q1: 'yes' } },
        { ...meta, traceParent: resume.header },
      );
      expect(kept.status).toBe('running'); // kept for the wait the run is heading to
      release();
      await waitForStatus(worker, executionId, ['completed']);
      await worker.stop();
      const runs = receiver.spans
        .filter((s) => s.attributes['execution.id'] === executionId && s.name === 'workflow gate')
        .sort((x, y) => (x.startNs < y.startNs ? -1 : 1));
      expect(runs).toHaveLength(2);
      expect(runs[0]).toMatchObject({ traceId: start.traceId, parentSpanId: start.spanId });
      expect(runs[1]).toMatchObject({
        traceId: resume.traceId,
        parentSpanId: resume.spanId,
        links: [{ traceId: runs[0]!.traceId, spanId: runs[0]!.spanId }],
      });
    } finally {
      release();
      await cluster.cleanup();
      await receiver.close();
    }
  });
});

describe('a prepared resume that the database takes the ordinary way', () => {
  it('leaves no span of the run that never got its lease', async () => {
    const receiver = await startOtlpReceiver();
    stubOtelEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const cluster = await startCluster(0);
    const done = (async () => ({ ok: true })) as AgentFn<never, unknown>;
    try {
      const worker = await cluster.add({
        graphs: [gateGraph('gate')],
        agents: { before: done, after: done },
      });
      const { executionId } = await worker.service.start(startBody('gate'), meta);
      await waitForStatus(worker, executionId, ['suspended']);
      // What intake does when its call answers anything but `applied` (here without making the call at all).
      const { slot, apply } = await prepareAsIntake(worker, executionId, answersBody());
      expect(apply).toBeDefined();
      slot.abandon();
      await worker.service.resume(executionId, answersBody(), meta);
      await waitForStatus(worker, executionId, ['completed']);
      await worker.stop();
      const outcomes = receiver.spans
        .filter((s) => s.attributes['execution.id'] === executionId && s.name === 'workflow gate')
        .sort((x, y) => (x.startNs < y.startNs ? -1 : 1))
        .map((s) => s.attributes['run.outcome']);
      expect(outcomes).toEqual(['suspended', 'completed']);
    } finally {
      await cluster.cleanup();
      await receiver.close();
    }
  });
});

describe('the standard OTEL_* variables, read by the SDK', () => {
  const step = (async () => ({ ok: true })) as AgentFn<never, unknown>;

  /** One worker of its own cluster runs one `steps` execution to its end, then stops (flushing). */
  async function runOnce(workerId: string, traceParent?: string): Promise<string> {
    const cluster = await startCluster(0);
    try {
      const worker = await cluster.add({
        graphs: [stepsGraph('steps', 1)],
        agents: { step1: step },
        config: { AgentHost: { WorkerId: workerId } },
      });
      const { executionId } = await worker.service.start(startBody('steps'), {
        ...meta,
        ...(traceParent && { traceParent }),
      });
      await waitForStatus(worker, executionId, ['completed']);
      await worker.stop();
      return executionId;
    } finally {
      await cluster.cleanup();
    }
  }

  it('take the signal’s own endpoint as given, headers, service name and sampler', async () => {
    const receiver = await startOtlpReceiver();
    try {
      stubOtelEnv({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=k-123',
        OTEL_SERVICE_NAME: 'ticket-bot',
      });
      const kept = await runOnce('named');
      stubOtelEnv({ OTEL_TRACES_SAMPLER: 'always_off' });
      const dropped = await runOnce('sampled-out', caller().header);
      const of = (id: string) => receiver.spans.filter((s) => s.attributes['execution.id'] === id);
      expect(of(kept).map((s) => [s.name, s.service, s.instance])).toEqual(
        expect.arrayContaining([
          ['workflow steps', 'ticket-bot', 'named'],
          ['agent step1', 'ticket-bot', 'named'],
        ]),
      );
      expect(of(dropped)).toEqual([]);
      // Only the traces endpoint is set: metrics are not exported.
      expect(receiver.requests.map((r) => r.path)).not.toContain('/v1/metrics');
      expect(receiver.requests.map((r) => r.headers['x-collector-key'])).toContain('k-123');
      expect(receiver.errors).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('default to OTLP over HTTP with protobuf, and OTEL_METRICS_EXPORTER=none stops the metrics', async () => {
    const receiver = await startOtlpReceiver();
    try {
      stubOtelEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
      await runOnce('protobuf');
      const sent = () => receiver.requests.map((r) => `${r.path} ${r.headers['content-type']}`);
      expect(sent()).toEqual(
        expect.arrayContaining(['/v1/traces application/x-protobuf', '/v1/metrics application/x-protobuf']),
      );
      receiver.requests.length = 0;
      stubOtelEnv({ OTEL_METRICS_EXPORTER: 'none' });
      await runOnce('no-metrics');
      expect(sent()).toContain('/v1/traces application/x-protobuf');
      expect(sent()).not.toContain('/v1/metrics application/x-protobuf');
      expect(receiver.errors).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('give each worker of one process its own providers, and leave the API’s global ones alone', async () => {
    const receiver = await startOtlpReceiver();
    try {
      stubOtelEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
      const [a, b] = await Promise.all([runOnce('alpha'), runOnce('beta')]);
      const instances = (id: string) => [
        ...new Set(receiver.spans.filter((s) => s.attributes['execution.id'] === id).map((s) => s.instance)),
      ];
      expect(instances(a)).toEqual(['alpha']);
      expect(instances(b)).toEqual(['beta']);
      // Nothing was registered globally: the API still hands out its no-op tracer and meter.
      expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
      expect(metrics.getMeter('probe').constructor.name).toBe('NoopMeter');
    } finally {
      await receiver.close();
    }
  });
});
