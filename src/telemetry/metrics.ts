/**
 * The worker's metrics on an OpenTelemetry MeterProvider of its own: read by `GET /metrics` in Prometheus text
 * format on the worker's HTTP port, and exported as the standard `OTEL_*` variables say (see sdkFromEnv.ts).
 * (The Prometheus exporter writes `.` as `_` and adds `_total` to counters: `workflow_started_total`.)
 */
import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { Resource } from '@opentelemetry/resources';
import { type IMetricReader, MeterProvider } from '@opentelemetry/sdk-metrics';

export interface WorkerMetrics {
  workflowStarted(graph: string): void;
  workflowCompleted(graph: string, status: string, durationSeconds?: number): void;
  agentExecution(agent: string, status: 'completed' | 'failed'): void;
  checkpointWrite(seconds: number): void;
  /** `llm.tokens` by provider, model and kind (input, output, cache_read, cache_write) */
  llmTokens(provider: string, model: string, tokens: Record<TokenKind, number>): void;
  /** `llm.requests` by provider and outcome */
  llmRequest(provider: string, outcome: LlmOutcome): void;
  /** `coding_agent.runs` by preset and outcome */
  codingAgentRun(preset: string, outcome: LlmOutcome): void;
  /** gauges read at collection time */
  observeActive(read: () => number): void;
  observeQueueDepth(read: () => Record<string, number>): void;
  /** `nats.intake.oldest_unacked_seconds`: how long this worker's oldest unsettled NATS input has waited */
  observeIntakeOldestUnacked(read: () => number): void;
  /** Prometheus text of every metric */
  prometheusText(): Promise<string>;
  shutdown(): Promise<void>;
}

const seconds = { unit: 's' };

export type TokenKind = 'input' | 'output' | 'cache_read' | 'cache_write';
/** how a model call or an agent run ended: the step failure kinds of actors/failures.ts, and `ok` */
export type LlmOutcome = 'ok' | 'transient' | 'rate_limited' | 'permanent';

/** @param readers the exports the `OTEL_*` variables ask for (sdkFromEnv.ts), besides `GET /metrics` */
export function createMetrics(options: { resource: Resource; readers?: IMetricReader[] }): WorkerMetrics {
  // Read on request and serialised by the HTTP route: the exporter's own server is never started.
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({
    resource: options.resource,
    readers: [prometheus, ...(options.readers ?? [])],
  });
  const meter: Meter = provider.getMeter('prfactory-worker');
  const started: Counter = meter.createCounter('workflow.started', {
    description: 'executions first run, by graph',
  });
  const completed: Counter = meter.createCounter('workflow.completed', {
    description: 'executions ended, by graph and final status',
  });
  const duration: Histogram = meter.createHistogram('workflow.duration', {
    ...seconds,
    description: 'from creation to end, by graph',
    // From a run without a wait (seconds) to a ticket that waited a week for its people: the SDK's default
    // boundaries (0 … 10,000) stop at under three hours.
    advice: { explicitBucketBoundaries: [1, 5, 15, 60, 300, 900, 3600, 14_400, 86_400, 259_200, 604_800] },
  });
  const agents: Counter = meter.createCounter('agent.executions', {
    description: 'agent steps, by agent and status',
  });
  const checkpointWrite: Histogram = meter.createHistogram('checkpoint.write.duration', {
    ...seconds,
    description: 'one group commit of checkpoints',
    advice: {
      explicitBucketBoundaries: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    },
  });
  const llmTokens: Counter = meter.createCounter('llm.tokens', {
    description: 'tokens spent by model calls, by provider, model and kind',
  });
  const llmRequests: Counter = meter.createCounter('llm.requests', {
    description: 'model calls, by provider and outcome',
  });
  const agentRuns: Counter = meter.createCounter('coding_agent.runs', {
    description: 'coding agent runs, by preset and outcome',
  });
  const active = meter.createObservableGauge('workflow.active', {
    description: 'executions this worker runs now',
  });
  const depth = meter.createObservableGauge('queue.depth', {
    description:
      'executions by status: pending, running, suspended, retrying and failed (never the completed and cancelled history)',
  });
  const oldestUnacked = meter.createObservableGauge('nats.intake.oldest_unacked_seconds', {
    ...seconds,
    description: 'age of the oldest NATS input this worker holds unacknowledged (0: none)',
  });
  const serializer = new PrometheusSerializer();
  const add = (counter: Counter, attributes: Attributes) => counter.add(1, attributes);

  return {
    workflowStarted: (graph) => add(started, { graph }),
    workflowCompleted(graph, status, durationSeconds) {
      add(completed, { graph, status });
      if (durationSeconds !== undefined) duration.record(durationSeconds, { graph });
    },
    agentExecution: (agent, status) => add(agents, { agent, status }),
    checkpointWrite: (s) => checkpointWrite.record(s),
    llmTokens(provider, model, tokens) {
      for (const [kind, n] of Object.entries(tokens)) {
        if (n > 0) llmTokens.add(n, { provider, model, kind });
      }
    },
    llmRequest: (provider, outcome) => add(llmRequests, { provider, outcome }),
    codingAgentRun: (preset, outcome) => add(agentRuns, { preset, outcome }),
    observeActive(read) {
      active.addCallback((result) => result.observe(read()));
    },
    observeQueueDepth(read) {
      depth.addCallback((result) => {
        for (const [status, n] of Object.entries(read())) result.observe(n, { status });
      });
    },
    observeIntakeOldestUnacked(read) {
      oldestUnacked.addCallback((result) => result.observe(read()));
    },
    async prometheusText() {
      const { resourceMetrics } = await prometheus.collect();
      return serializer.serialize(resourceMetrics);
    },
    shutdown: () => provider.shutdown(),
  };
}
