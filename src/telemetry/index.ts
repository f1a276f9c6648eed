/**
 * Telemetry of one worker: metrics and traces on providers of its own (never the global ones) with a shared
 * resource (`service.name`, `service.instance.id`). Created once per worker, never at import time; the standard
 * `OTEL_*` variables of the process choose what is exported (sdkFromEnv.ts).
 */
import { createMetrics, type WorkerMetrics } from './metrics.js';
import { exportsFromEnv } from './sdkFromEnv.js';
import { createTracing, type WorkerTracing } from './tracing.js';

export interface Telemetry {
  metrics: WorkerMetrics;
  tracing: WorkerTracing;
  /** flushes what is buffered (spans, a last metric export) and stops the exporters */
  shutdown(): Promise<void>;
}

export async function createTelemetry(options: {
  workerId: string;
  tracingEnabled: boolean;
}): Promise<Telemetry> {
  const exports = await exportsFromEnv();
  const resource = exports.resource(options.workerId);
  const metrics = createMetrics({ resource, readers: exports.metricReaders });
  const tracing = createTracing({
    enabled: options.tracingEnabled,
    resource,
    spanProcessors: exports.spanProcessors,
  });
  return {
    metrics,
    tracing,
    async shutdown() {
      await Promise.allSettled([tracing.shutdown(), metrics.shutdown()]);
    },
  };
}
