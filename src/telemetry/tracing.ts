/**
 * Traces: a span `workflow <graph>` for each run of an execution on a worker and a child span
 * `agent <name>` per step. A run's parent is the W3C `traceparent` of the input that caused it (the start, or the
 * resume that woke it); every run after the first links to the first run's span, so one ticket's history can be
 * followed across workers. What is exported, where and how is the standard `OTEL_*` variables' choice (see
 * sdkFromEnv.ts); `AgentFramework.EnableTracing: false` turns tracing off.
 */
import {
  type Context,
  context,
  type Link,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';

export interface SpanRef {
  traceId: string;
  spanId: string;
}

export interface WorkerTracing {
  readonly tracer: Tracer;
  /** the context whose parent is `traceparent` (root when absent or malformed) */
  contextFrom(traceparent: string | null | undefined): Context;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

export function parentContext(traceparent: string | null | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagator.extract(
    ROOT_CONTEXT,
    { traceparent },
    {
      get: (carrier: Record<string, string>, key: string) => carrier[key],
      keys: (carrier: Record<string, string>) => Object.keys(carrier),
    },
  );
}

/** @param spanProcessors the exports the `OTEL_*` variables ask for (sdkFromEnv.ts) */
export function createTracing(options: {
  enabled: boolean;
  resource: Resource;
  spanProcessors?: SpanProcessor[];
}): WorkerTracing {
  // A provider of our own, never registered as the global one: several workers in one process (tests, the
  // library) each trace on their own, and the host passes parents explicitly instead of relying on a context
  // manager. It reads the sampler and span limits from the environment itself.
  const provider = options.enabled
    ? new NodeTracerProvider({ resource: options.resource, spanProcessors: options.spanProcessors ?? [] })
    : undefined;
  // Off means a tracer that records nothing, not the API's global one: a provider some other part of the
  // process registered must not receive this worker's spans. (A proxy with no delegate is the API's no-op.)
  const tracer = (provider ?? new ProxyTracerProvider()).getTracer('prfactory-worker');
  return {
    tracer,
    contextFrom: parentContext,
    flush: async () => {
      await provider?.forceFlush();
    },
    shutdown: async () => {
      await provider?.shutdown();
    },
  };
}

/** Starts a child span of `parent`. */
export function startChild(
  tracer: Tracer,
  name: string,
  parent: Span,
  attributes: Record<string, string>,
): Span {
  return tracer.startSpan(name, { attributes }, trace.setSpan(context.active(), parent));
}

export function startRun(
  tracer: Tracer,
  name: string,
  parent: Context,
  attributes: Record<string, string>,
  firstRun: SpanRef | null,
): Span {
  const links: Link[] = firstRun
    ? [{ context: { traceId: firstRun.traceId, spanId: firstRun.spanId, traceFlags: 1, isRemote: true } }]
    : [];
  return tracer.startSpan(name, { attributes, links }, parent);
}

export function endWithError(span: Span, message: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.end();
}

export function refOf(span: Span): SpanRef {
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}
