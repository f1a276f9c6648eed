/**
 * The dashboard's list page with 10,000 executions in the database: how long from navigation start until the
 * page shows its rows, in Chromium, and what the API calls under it take.
 *
 *   10,000 executions inserted straight into the table (executionRows.ts), VACUUM ANALYZE ─▶ a fresh worker
 *   process serving the HTTP API and dist/ui ─▶ the list API and the stats, `apiRequests` each, one at a time ─▶
 *   Chromium opens `/ui/#/executions`: once untimed, `runs` times cold (a new browser context each: empty HTTP
 *   cache, new renderer), `runs` times warm (one context, through about:blank each time: the bundle cached)
 *
 * The figure, `firstRenderMs`: `performance.now()` in the page (whose origin is the navigation's start) when a
 * MutationObserver, installed before any page script, sees `main` with `aria-busy="false"` and a table row with
 * cells in it — the hook every page of the dashboard sets once its data is shown. `nextFrameMs` is the first task
 * after the next animation frame, i.e. once that DOM was painted. `breakdownMs` (medians) says where the time
 * went: the document's response, DOMContentLoaded (the bundle parsed and run), the list's and the stats' answers.
 *
 *   npx tsx bench/ui-list.ts       # alone: prints one `uiList` JSON line
 *   npm run bench -- ui            # as a part of the bench (on request), with the machine and the target
 */
import { pathToFileURL } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { z } from 'zod';
import { ensureUiBuilt } from '../scripts/ensureUiBuilt.js';
import { launchBrowser } from '../test/support/browser.js';
import { createBenchSchema } from './benchSchema.js';
import { killAll, spawnBenchWorkers } from './benchWorkers.js';
import { insertExecutionRows } from './executionRows.js';
import { type Distribution, distribution, emit, median, progress, round } from './report.js';

export interface UiListOptions {
  executions: number;
  /** cold navigations, and as many warm ones */
  runs: number;
  /** timed requests per API call (after a tenth as many of warm-up) */
  apiRequests: number;
}

export interface UiListResult {
  executions: number;
  /** rows the list showed (its first page) */
  rowsShown: number;
  runs: number;
  /** the untimed first navigation of the run: a fresh browser, a worker that served no page yet */
  firstMs: number;
  firstRenderMs: { cold: Distribution; warm: Distribution };
  nextFrameMs: { cold: Distribution; warm: Distribution };
  breakdownMs: { cold: Breakdown; warm: Breakdown };
  /** each API call, from the bench process over loopback with keep-alive: the round trip */
  apiMs: Record<string, Distribution>;
  seedSeconds: number;
  seconds: number;
}

type Breakdown = Record<
  'documentResponseEnd' | 'domContentLoaded' | 'listResponseEnd' | 'statsResponseEnd',
  number
>;

/** The sizes of the part, alone or in `npm run bench -- ui` (~1 min on the 2-core machine). */
export const UI_LIST_PLAN: UiListOptions = { executions: 10_000, runs: 20, apiRequests: 200 };

/** The target for the list's first render with 10,000 executions. */
export const UI_LIST_TARGET_MS = 1000;

/** Runs in the page before its own scripts (CDP injects it, so the page's CSP does not apply). */
const RENDER_PROBE = `(() => {
  const probe = {};
  window.__uiListRender = probe;
  const observer = new MutationObserver(() => {
    const main = document.getElementById('main');
    if (!main || main.getAttribute('aria-busy') !== 'false') return;
    const rows = main.querySelectorAll('table tr:has(td)').length;
    if (rows === 0) return;
    observer.disconnect();
    probe.rendered = performance.now();
    probe.rows = rows;
    requestAnimationFrame(() => setTimeout(() => { probe.frame = performance.now(); }, 0));
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-busy'] });
})()`;

const PROBE_DONE = 'window.__uiListRender !== undefined && window.__uiListRender.frame !== undefined';

const READ_PROBE = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const answered = (path) => {
    const entry = performance.getEntriesByType('resource').find((e) => new URL(e.name).pathname === path);
    return entry ? entry.responseEnd : null;
  };
  return {
    ...window.__uiListRender,
    documentResponseEnd: nav.responseEnd,
    domContentLoaded: nav.domContentLoadedEventEnd,
    listResponseEnd: answered('/v1/executions'),
    statsResponseEnd: answered('/v1/stats'),
  };
})()`;

const probeSchema = z.object({
  rendered: z.number(),
  frame: z.number(),
  rows: z.number().int().positive(),
  documentResponseEnd: z.number(),
  domContentLoaded: z.number(),
  listResponseEnd: z.number().nullable(),
  statsResponseEnd: z.number().nullable(),
});
type Probe = z.output<typeof probeSchema>;

const NAVIGATION_TIMEOUT_MS = 30_000;

/**
 * Opens `url` and waits for the probe's frame. Polled with `page.evaluate` (CDP's own evaluation):
 * `page.waitForFunction` evaluates its predicate through `eval` in the page, which the dashboard's CSP refuses.
 * The times are the page's own, so the polling's pace does not enter them.
 */
async function navigate(page: Page, url: string): Promise<Probe> {
  await page.goto(url, { waitUntil: 'commit', timeout: NAVIGATION_TIMEOUT_MS });
  const deadline = performance.now() + NAVIGATION_TIMEOUT_MS;
  while ((await page.evaluate(PROBE_DONE)) !== true) {
    if (performance.now() > deadline) {
      throw new Error(
        `${url} showed no rows with main[aria-busy="false"] within ${NAVIGATION_TIMEOUT_MS} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return probeSchema.parse(await page.evaluate(READ_PROBE));
}

async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(RENDER_PROBE);
  return context;
}

function breakdown(probes: Probe[]): Breakdown {
  const med = (values: (number | null)[]) =>
    round(median(values.filter((v): v is number => v !== null)) ?? Number.NaN);
  return {
    documentResponseEnd: med(probes.map((p) => p.documentResponseEnd)),
    domContentLoaded: med(probes.map((p) => p.domContentLoaded)),
    listResponseEnd: med(probes.map((p) => p.listResponseEnd)),
    statsResponseEnd: med(probes.map((p) => p.statsResponseEnd)),
  };
}

/** The answers the API latency checks before counting a request: a page of items, the counts by status. */
const pageSchema = z.object({ items: z.array(z.unknown()).min(1) });
const statsSchema = z.object({ byStatus: z.record(z.string(), z.number()) });

async function measureApi(
  baseUrl: string,
  calls: Record<string, { path: string; answer: z.ZodType }>,
  requests: number,
): Promise<Record<string, Distribution>> {
  const out: Record<string, Distribution> = {};
  for (const [name, { path, answer }] of Object.entries(calls)) {
    const samples: number[] = [];
    const warmup = Math.max(1, Math.round(requests / 10));
    for (let i = 0; i < warmup + requests; i++) {
      const t0 = performance.now();
      const response = await fetch(`${baseUrl}${path}`);
      const body: unknown = await response.json();
      const ms = performance.now() - t0;
      if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${JSON.stringify(body)}`);
      answer.parse(body);
      if (i >= warmup) samples.push(ms);
    }
    out[name] = distribution(samples);
    progress(`ui list: API ${name}`, { p50: out[name].p50, p95: out[name].p95 });
  }
  return out;
}

export type FirstRender = Pick<
  UiListResult,
  'rowsShown' | 'firstMs' | 'firstRenderMs' | 'nextFrameMs' | 'breakdownMs'
>;

/** The page at `url` opened once untimed, then `runs` times cold and `runs` times warm. */
export async function measureFirstRender(browser: Browser, url: string, runs: number): Promise<FirstRender> {
  const first = await newContext(browser);
  const firstProbe = await navigate(await first.newPage(), url);
  await first.close();

  const cold: Probe[] = [];
  for (let run = 1; run <= runs; run++) {
    const context = await newContext(browser);
    try {
      cold.push(await navigate(await context.newPage(), url));
    } finally {
      await context.close();
    }
  }
  progress('ui list: cold', { p50: round(median(cold.map((p) => p.rendered)) ?? 0) });

  const warm: Probe[] = [];
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    await navigate(page, url); // fills the cache
    for (let run = 1; run <= runs; run++) {
      await page.goto('about:blank');
      warm.push(await navigate(page, url));
    }
  } finally {
    await context.close();
  }
  progress('ui list: warm', { p50: round(median(warm.map((p) => p.rendered)) ?? 0) });

  return {
    rowsShown: firstProbe.rows,
    firstMs: round(firstProbe.rendered),
    firstRenderMs: {
      cold: distribution(cold.map((p) => p.rendered)),
      warm: distribution(warm.map((p) => p.rendered)),
    },
    nextFrameMs: {
      cold: distribution(cold.map((p) => p.frame)),
      warm: distribution(warm.map((p) => p.frame)),
    },
    breakdownMs: { cold: breakdown(cold), warm: breakdown(warm) },
  };
}

export async function measureUiList(options: UiListOptions): Promise<UiListResult> {
  const started = performance.now();
  progress(`ui list: dashboard bundle ${await ensureUiBuilt((line) => progress(line))}`);
  const target = await createBenchSchema('ui');
  let browser: Browser | undefined;
  let workers: Awaited<ReturnType<typeof spawnBenchWorkers>> = [];
  try {
    const seeding = performance.now();
    await insertExecutionRows(target.pool, options.executions);
    await target.vacuum();
    const seedSeconds = round((performance.now() - seeding) / 1000, 1);
    progress(`ui list: ${options.executions} executions inserted`, {
      seedSeconds,
      ...(await target.countByStatus()),
    });
    const { rows } = await target.pool.query<{ key: string }>(
      `SELECT ticket->>'key' AS key FROM executions ORDER BY created_at LIMIT 1 OFFSET $1`,
      [Math.floor(options.executions / 2)],
    );
    const ticketKey = rows[0]?.key ?? '';

    workers = await spawnBenchWorkers(target, 1, { http: true });
    const baseUrl = workers[0]?.url;
    if (!baseUrl) throw new Error('the worker process serves no HTTP API');

    const apiMs = await measureApi(
      baseUrl,
      {
        list: { path: '/v1/executions?limit=50', answer: pageSchema },
        listByStatus: { path: '/v1/executions?status=failed&limit=50', answer: pageSchema },
        listByTicketKey: {
          path: `/v1/executions?ticketKey=${encodeURIComponent(ticketKey)}&limit=50`,
          answer: pageSchema,
        },
        stats: { path: '/v1/stats', answer: statsSchema },
      },
      options.apiRequests,
    );

    browser = await launchBrowser();
    const render = await measureFirstRender(browser, `${baseUrl}/ui/#/executions`, options.runs);

    return {
      executions: options.executions,
      runs: options.runs,
      ...render,
      apiMs,
      seedSeconds,
      seconds: round((performance.now() - started) / 1000, 1),
    };
  } finally {
    await browser?.close();
    await killAll(workers);
    await target.cleanup();
  }
}

/** The target line of the result: the cold median against a second. */
export function uiListTarget(result: UiListResult | undefined) {
  const name = `dashboard list with 10,000 executions: first render in Chromium, cold, p50 < ${UI_LIST_TARGET_MS} ms`;
  const value = result?.firstRenderMs.cold.p50;
  return value === undefined
    ? { name, value: null, met: null }
    : { name, value, met: value < UI_LIST_TARGET_MS };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  measureUiList(UI_LIST_PLAN).then(
    (result) => {
      emit({ bench: 'uiList', ...result, target: uiListTarget(result) });
      process.exit(0);
    },
    (error: unknown) => {
      progress(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
