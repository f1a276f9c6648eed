/**
 * The standard `OTEL_EXPORTER_OTLP_*` variables, read from the environment the worker was given.
 *
 * The OTLP exporters read `process.env` themselves; a worker created with another environment (the library's
 * `telemetryEnv`, several workers in one test process) would be told "export" by its own variables and then
 * send to the exporter's default `localhost:4318`. So the endpoint and headers are resolved here, from that
 * environment, with the specification's rules, and handed to the exporter explicitly (what is handed over wins
 * over `process.env`; timeouts, compression and certificates still come from `process.env`).
 */
import { parseKeyPairsIntoRecord } from '@opentelemetry/core';

export type OtlpSignal = 'TRACES' | 'METRICS';

const resourcePath: Record<OtlpSignal, string> = { TRACES: 'v1/traces', METRICS: 'v1/metrics' };

/** True when the standard variables ask for an OTLP export of this signal. */
export function otlpConfigured(env: NodeJS.ProcessEnv, signal: OtlpSignal): boolean {
  const exporter = env[`OTEL_${signal}_EXPORTER`];
  if (exporter && !exporter.split(',').includes('otlp')) return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]);
}

/**
 * `url` and `headers` for an OTLP/HTTP exporter: the signal's own endpoint is used as is, the general one gets
 * `/v1/traces` or `/v1/metrics` appended; signal headers win over general ones.
 */
export function otlpHttpOptions(
  env: NodeJS.ProcessEnv,
  signal: OtlpSignal,
): { url: string; headers?: Record<string, string> } {
  const specific = env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`];
  const general = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318';
  const url = specific || `${general.endsWith('/') ? general : `${general}/`}${resourcePath[signal]}`;
  const headers = {
    ...parseKeyPairsIntoRecord(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseKeyPairsIntoRecord(env[`OTEL_EXPORTER_OTLP_${signal}_HEADERS`]),
  };
  return Object.keys(headers).length > 0 ? { url, headers } : { url };
}

/** A non-negative number from `name`, else `fallback`. */
export function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  const value = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}
