/**
 * A real OTLP/HTTP receiver on loopback for the telemetry tests: `POST /v1/traces` and `POST /v1/metrics` with
 * the JSON encoding (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`), decoded into plain spans and metric names.
 * Protobuf requests (the SDK's default protocol) are answered and listed, not decoded. It answers as a
 * collector does (200 with an empty partial-success object); anything else is kept in `errors` so a test fails
 * on it instead of silently receiving nothing.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span */
  parentSpanId: string;
  name: string;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string }[];
  /** 0 unset, 1 ok, 2 error */
  statusCode: number;
  statusMessage: string | undefined;
  /** `service.instance.id` of the resource that sent it (the worker's id) */
  instance: string;
  /** `service.name` of the resource that sent it */
  service: string;
  startNs: bigint;
  endNs: bigint;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpAttribute[];
  links?: { traceId: string; spanId: string }[];
  status?: { code?: number; message?: string };
}
interface TraceRequest {
  resourceSpans: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans: { spans?: OtlpSpan[] }[] }[];
}
interface MetricsRequest {
  resourceMetrics: { scopeMetrics: { metrics?: { name: string }[] }[] }[];
}

export interface OtlpReceiver {
  /** base URL for OTEL_EXPORTER_OTLP_ENDPOINT */
  url: string;
  spans: ReceivedSpan[];
  /** names of the metrics received, once each */
  metricNames: Set<string>;
  /** every request received, in order: path and headers (protobuf bodies are not decoded) */
  requests: { path: string; headers: IncomingHttpHeaders }[];
  /** requests it could not decode */
  errors: string[];
  /** polls until `predicate` holds for the spans received (or throws after `timeoutMs`) */
  waitForSpans(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

function attributeValue(value: OtlpValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return JSON.stringify(value);
}

function attributesOf(list: OtlpAttribute[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, attributeValue(a.value)]));
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metricNames = new Set<string>();
  const errors: string[] = [];
  const requests: OtlpReceiver['requests'] = [];

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        requests.push({ path: String(request.url), headers: request.headers });
        if (request.method !== 'POST') throw new Error(`${request.method} ${request.url}`);
        if (request.headers['content-type'] === 'application/x-protobuf') {
          // An empty message is a valid (all fields absent) export response.
          response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
          return;
        }
        if (!String(request.headers['content-type']).startsWith('application/json'))
          throw new Error(
            `content-type ${request.headers['content-type']}: only the JSON encoding is decoded`,
          );
        let body = Buffer.concat(chunks);
        if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const json: unknown = JSON.parse(body.toString('utf8'));
        if (request.url === '/v1/traces') {
          for (const rs of (json as TraceRequest).resourceSpans) {
            const resource = attributesOf(rs.resource?.attributes);
            const instance = String(resource['service.instance.id'] ?? '');
            const service = String(resource['service.name'] ?? '');
            for (const ss of rs.scopeSpans) {
              for (const s of ss.spans ?? []) {
                spans.push({
                  traceId: s.traceId,
                  spanId: s.spanId,
                  parentSpanId: s.parentSpanId ?? '',
                  name: s.name,
                  attributes: attributesOf(s.attributes),
                  links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
                  statusCode: s.status?.code ?? 0,
                  statusMessage: s.status?.message,
                  instance,
                  service,
                  startNs: BigInt(s.startTimeUnixNano),
                  endNs: BigInt(s.endTimeUnixNano),
                });
              }
            }
          }
        } else if (request.url === '/v1/metrics') {
          for (const rm of (json as MetricsRequest).resourceMetrics)
            for (const sm of rm.scopeMetrics) for (const m of sm.metrics ?? []) metricNames.add(m.name);
        } else throw new Error(`unexpected path ${request.url}`);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (error) {
        errors.push((error as Error).message);
        response.writeHead(400, { 'content-type': 'application/json' }).end('{}');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    metricNames,
    requests,
    errors,
    async waitForSpans(predicate, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(spans)) {
        if (Date.now() > deadline)
          throw new Error(
            `the spans expected did not arrive in ${timeoutMs} ms; got ${spans.map((s) => s.name).join(', ') || 'none'}${errors.length ? `; errors: ${errors.join('; ')}` : ''}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
      return spans;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
