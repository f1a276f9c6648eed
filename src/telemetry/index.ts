/**
 * Telemetry of one worker: metrics and traces with a shared resource (`service.name`, `service.instance.id`).
 * Created once per worker, never at import time; the standard `OTEL_*` variables choose the OTLP export.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { createMetrics, type WorkerMetrics } from './metrics.js';
import { createTracing, type WorkerTracing } from './tracing.js';

export interface Telemetry {
  metrics: WorkerMetrics;
  tracing: WorkerTracing;
  shutdown(): Promise<void>;
}

export function createTelemetry(options: {
  workerId: string;
  tracingEnabled: boolean;
  env?: NodeJS.ProcessEnv;
}): Telemetry {
  const env = options.env ?? process.env;
  const resource = resourceFromAttributes({
    'service.name': env.OTEL_SERVICE_NAME ?? 'prfactory-worker',
    'service.instance.id': options.workerId,
  });
  const metrics = createMetrics({ resource, env });
  const tracing = createTracing({ enabled: options.tracingEnabled, resource, env });
  return {
    metrics,
    tracing,
    async shutdown() {
      await Promise.allSettled([tracing.shutdown(), metrics.shutdown()]);
    },
  };
}
