/**
 * The HTTP API's reads against a large history, one request at a time from the bench process over loopback with
 * keep-alive: an execution by id, the list's first and tenth page (the tenth reached by following `nextCursor`
 * nine times, untimed, then requested `samples` times) unfiltered and under each filter, and the `/metrics`
 * scrape. Each answer is parsed before it counts: a page must have items, `/metrics` must be Prometheus text.
 */
import { z } from 'zod';
import { type Distribution, distribution } from './report.js';

const pageSchema = z.object({
  items: z.array(z.object({ executionId: z.string() })).min(1),
  nextCursor: z.string().nullable(),
});
const executionSchema = z.object({ executionId: z.string(), status: z.string() });

export interface ListFilter {
  name: string;
  /** query parameters besides `limit` and `cursor` */
  query: Record<string, string>;
}

const PAGE_SIZE = 50;

async function getJson(url: string): Promise<{ ms: number; body: unknown }> {
  const t0 = performance.now();
  const response = await fetch(url);
  const text = await response.text();
  const ms = performance.now() - t0;
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return { ms, body: url.endsWith('/metrics') ? text : JSON.parse(text) };
}

/**
 * How long one query may be sampled: a read that walks a million rows (~1 s each on main) would otherwise hold the
 * run for minutes. Past it, sampling stops at the next request (with at least 10 samples) and `count` says so.
 */
export const SAMPLING_BUDGET_MS = 15_000;

/** `samples` timed requests of `url` after a tenth as many untimed, each answer checked by `check`. */
async function sample(url: string, samples: number, check: (body: unknown) => void): Promise<Distribution> {
  const warmup = Math.max(1, Math.round(samples / 10));
  const out: number[] = [];
  const started = performance.now();
  for (let i = 0; i < warmup + samples; i++) {
    const { ms, body } = await getJson(url);
    check(body);
    if (i >= warmup) out.push(ms);
    if (out.length >= 10 && performance.now() - started > SAMPLING_BUDGET_MS) break;
  }
  return distribution(out);
}

function listUrl(baseUrl: string, filter: ListFilter, cursor?: string): string {
  const params = new URLSearchParams({ ...filter.query, limit: String(PAGE_SIZE) });
  if (cursor) params.set('cursor', cursor);
  return `${baseUrl}/v1/executions?${params}`;
}

/** The first page and the tenth of `filter`: null for the tenth when the filter has fewer than ten pages. */
export async function measureListPages(
  baseUrl: string,
  filter: ListFilter,
  samples: number,
): Promise<{ first: Distribution; tenth: Distribution | null }> {
  const check = (body: unknown) => void pageSchema.parse(body);
  const first = await sample(listUrl(baseUrl, filter), samples, check);
  let cursor: string | null = null;
  for (let page = 1; page < 10; page++) {
    const { body } = await getJson(listUrl(baseUrl, filter, cursor ?? undefined));
    cursor = pageSchema.parse(body).nextCursor;
    if (cursor === null) return { first, tenth: null };
  }
  const tenth = await sample(listUrl(baseUrl, filter, cursor ?? undefined), samples, check);
  return { first, tenth };
}

/** `GET /v1/executions/:id`, cycling through `ids`. */
export async function measureGetById(baseUrl: string, ids: string[], samples: number): Promise<Distribution> {
  const warmup = Math.max(1, Math.round(samples / 10));
  const out: number[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    const id = ids[i % ids.length]!;
    const { ms, body } = await getJson(`${baseUrl}/v1/executions/${id}`);
    if (executionSchema.parse(body).executionId !== id)
      throw new Error(`GET /v1/executions/${id} answered another execution`);
    if (i >= warmup) out.push(ms);
  }
  return distribution(out);
}

/** `GET /metrics`: the Prometheus text, with the queue depth in it. */
export async function measureMetricsScrape(baseUrl: string, samples: number): Promise<Distribution> {
  return sample(`${baseUrl}/metrics`, samples, (body) => {
    if (typeof body !== 'string' || !body.includes('# TYPE'))
      throw new Error('/metrics answered no Prometheus text');
  });
}
