/**
 * What the standard `OTEL_*` variables ask a worker to export, built by the OpenTelemetry Node SDK's own
 * factories (the ones `NodeSDK.start()` calls), so every variable means what the specification says:
 * `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER`, the `OTEL_EXPORTER_OTLP_*` family (endpoint, headers,
 * protocol, timeout, compression, certificates, each with its per-signal form), `OTEL_BSP_*`,
 * `OTEL_METRIC_EXPORT_INTERVAL` / `_TIMEOUT`; the tracer provider itself reads `OTEL_TRACES_SAMPLER(_ARG)` and
 * the span limits, the resource `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` and
 * `OTEL_NODE_RESOURCE_DETECTORS`.
 *
 * Why not `new NodeSDK().start()`: it registers the global tracer, meter and logger providers, context manager
 * and propagator, and keeps its providers private. Several workers run in one process (tests, a program that
 * embeds more than one): the second one's registrations are refused, whatever it traces through the API lands
 * in the first worker's provider under the first worker's `service.instance.id`, and its own exporters receive
 * nothing, even after the first shuts down. Each worker therefore owns its providers and never touches the
 * globals. The factories are not re-exported by the package's index, hence the paths into its build (the
 * version is pinned; the type check fails if a path moves).
 */
import { getBooleanFromEnv, getStringFromEnv, getStringListFromEnv } from '@opentelemetry/core';
import {
  defaultResource,
  detectResources,
  envDetector,
  type Resource,
  type ResourceDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { ConsoleMetricExporter, type IMetricReader } from '@opentelemetry/sdk-metrics';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-node';

/**
 * The SDK's factories pull in every exporter it knows (OTLP over HTTP and gRPC, protobuf, Zipkin): loaded only
 * when a variable asks for an export or for resource detectors, so a worker that exports nothing starts without
 * them (about 120 ms and a few hundred module files fewer; a start with a low open-file limit needs them).
 */
type SdkFactories = typeof import('@opentelemetry/sdk-node/build/src/utils.js');
const sdkFactories = (): Promise<SdkFactories> => import('@opentelemetry/sdk-node/build/src/utils.js');

type Signal = 'TRACES' | 'METRICS';

/**
 * True when the variables ask for an export of `signal`: an exporter list or an OTLP endpoint is set. The
 * specification's default (`otlp` to `localhost:4318`) is not applied: a worker run without a collector would
 * otherwise retry a refused connection every few seconds for its whole life. `OTEL_SDK_DISABLED=true` exports
 * nothing (`GET /metrics` stays: it is the worker's own API, not an export).
 */
export function exportRequested(signal: Signal): boolean {
  if (getBooleanFromEnv('OTEL_SDK_DISABLED')) return false;
  return [
    `OTEL_${signal}_EXPORTER`,
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`,
  ].some((name) => getStringFromEnv(name) !== undefined);
}

/** What the variables ask a worker to export, and which resource detectors they ask for. */
export interface ExportsFromEnv {
  spanProcessors: SpanProcessor[];
  metricReaders: IMetricReader[];
  resource: (workerId: string) => Resource;
}

export async function exportsFromEnv(): Promise<ExportsFromEnv> {
  const traces = exportRequested('TRACES');
  const metrics = exportRequested('METRICS');
  const detect = getStringFromEnv('OTEL_NODE_RESOURCE_DETECTORS') !== undefined;
  const sdk = traces || metrics || detect ? await sdkFactories() : undefined;
  return {
    // each batching per `OTEL_BSP_*`
    spanProcessors: sdk && traces ? sdk.getSpanProcessorsFromEnv(undefined) : [],
    metricReaders: sdk && metrics ? metricReaders(sdk) : [],
    resource: (workerId) => resourceOf(workerId, sdk && detect ? sdk.getResourceDetectorsFromEnv() : []),
  };
}

/**
 * The periodic readers of `OTEL_METRICS_EXPORTER` (default `otlp`; `console` too). `prometheus` adds nothing:
 * the worker already serves that format on its own port (`GET /metrics`), and the SDK's Prometheus exporter
 * would open a second server on a fixed port that a second worker could not bind.
 */
function metricReaders(sdk: SdkFactories): IMetricReader[] {
  const names = new Set(getStringListFromEnv('OTEL_METRICS_EXPORTER') ?? []);
  if (names.size === 0) names.add('otlp');
  if (names.has('none')) return [];
  const readers: IMetricReader[] = [];
  if (names.has('otlp'))
    readers.push(sdk.getPeriodicExportingMetricReaderFromEnv(sdk.getOtlpMetricExporterFromEnv()));
  if (names.has('console'))
    readers.push(sdk.getPeriodicExportingMetricReaderFromEnv(new ConsoleMetricExporter()));
  return readers;
}

/**
 * The resource of one worker's telemetry: the SDK's defaults, `service.name` `prfactory-worker` unless
 * `OTEL_SERVICE_NAME` says otherwise, `OTEL_RESOURCE_ATTRIBUTES`, and `service.instance.id` the worker's id
 * (several workers of one process must stay apart). Host and process detectors only when
 * `OTEL_NODE_RESOURCE_DETECTORS` asks for them: the resource is also served, unauthenticated, as `target_info`
 * by `GET /metrics`, and the process detector would publish the worker's command line there.
 */
function resourceOf(workerId: string, asked: ResourceDetector[]): Resource {
  // The environment last, so that `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` win over what is detected.
  const detectors = [...asked, envDetector];
  return defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'prfactory-worker' }))
    .merge(detectResources({ detectors }))
    .merge(resourceFromAttributes({ 'service.instance.id': workerId }));
}
