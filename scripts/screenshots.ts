/**
 * `npm run screenshots`: the dashboard's pages as PNG files in docs/images/, which README.md shows.
 *
 *   build dist/ui if it is stale ─▶ a worker on an embedded PGlite in a temporary folder (or on the PostgreSQL
 *   of DATABASE_URL, in a scratch schema dropped afterwards), offline model, HTTP API on a free port ─▶ executions
 *   made through the API (screenshotSeed.ts) ─▶ each page in Chromium at 1280×800, shot once its
 *   `main[aria-busy="false"]` says its data is shown ─▶ the worker again with an API token, for the sign-in page
 *
 * Prints the files written on stdout, one a line; progress goes to stderr. The token is random, used only here,
 * and never printed.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { WorkerClient } from '../src/cli/client.js';
import type { ConfigInput } from '../src/config.js';
import { createSampleRepository } from '../src/demo/sampleRepository.js';
import { createLogger } from '../src/telemetry/logger.js';
import { createWorker, type Worker } from '../src/worker.js';
import { launchBrowser } from '../test/support/browser.js';
import { dropSchema, uniqueSchema } from '../test/support/database.js';
import { ensureUiBuilt, repositoryRoot } from './ensureUiBuilt.js';
import { type Shot, shootPages } from './pageShots.js';
import { type ScreenshotExecutions, screenshotTenants, seedScreenshotExecutions } from './screenshotSeed.js';

const IMAGES = path.join(repositoryRoot, 'docs/images');

const log = (line: string) => process.stderr.write(`${line}\n`);

/** The pages with data, each shot once what it is about is shown. */
function dataPages(seeded: ScreenshotExecutions): Shot[] {
  return [
    { file: 'executions.png', route: '#/executions', ready: 'main table td' },
    {
      file: 'execution.png',
      route: `#/executions/${seeded.waitingForApproval}`,
      ready: '[data-state].state-current',
      fullPage: true,
    },
    { file: 'failed.png', route: '#/failed', ready: 'main table td' },
    { file: 'workers.png', route: '#/workers', ready: 'main table td' },
  ];
}

const LOGIN_PAGE: Shot = { file: 'login.png', route: '#/login', ready: 'input[type="password"]' };

/** The worker's database: DATABASE_URL's server in a scratch schema, else an embedded PGlite in `dir`. */
function databaseOf(dir: string): { config: ConfigInput['Database']; drop(): Promise<void> } {
  const url = process.env.DATABASE_URL;
  if (!url) {
    return { config: { Url: null, DataDirectory: path.join(dir, 'data') }, drop: async () => {} };
  }
  const schema = uniqueSchema('screenshots');
  return { config: { Url: url, Schema: schema, PoolSize: 4 }, drop: () => dropSchema(schema, url) };
}

async function main(): Promise<void> {
  log(`dashboard bundle: ${await ensureUiBuilt(log)}`);
  mkdirSync(IMAGES, { recursive: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'prf-screenshots-'));
  const database = databaseOf(dir);
  const origin = createSampleRepository(path.join(dir, 'repository'));
  // errors only: the retries of the execution that fails on purpose are warnings nobody needs to read
  const logger = createLogger({
    config: { Level: 'error', Directory: null },
    destination: { write: (line: string) => process.stderr.write(line) },
  });
  const configWith = (apiToken: string | null): ConfigInput => ({
    // a retry a second after the first failure, then failed: the failed execution is there in seconds
    AgentHost: {
      WorkerId: 'worker-a',
      PollIntervalSeconds: 0.5,
      MaxRetries: 1,
      RetryDelayBaseSeconds: 1,
      GracefulShutdownTimeoutSeconds: 1,
    },
    Database: database.config,
    Http: { Host: '127.0.0.1', Port: 0, ApiToken: apiToken },
    Logging: { Level: 'error', Directory: null },
    Workspaces: { Directory: path.join(dir, 'workspaces') },
    Tenants: screenshotTenants(),
  });
  const startWorker = async (apiToken: string | null) => {
    const started = await createWorker({ config: configWith(apiToken), logger, http: true });
    await started.start();
    if (!started.url) throw new Error('the worker serves no HTTP API');
    return { worker: started, url: started.url };
  };

  const written: string[] = [];
  let worker: Worker | undefined;
  let browser: Browser | undefined;
  try {
    const open = await startWorker(null);
    worker = open.worker;
    log(
      `worker on ${open.url} (${process.env.DATABASE_URL ? 'DATABASE_URL' : 'PGlite'}), seeding executions`,
    );
    const seeded = await seedScreenshotExecutions(new WorkerClient({ url: open.url }), origin, log);
    browser = await launchBrowser();
    written.push(
      ...(await shootPages(browser, { baseUrl: open.url, shots: dataPages(seeded), directory: IMAGES, log })),
    );

    // The sign-in page exists only when a token is required: the same database, a worker that requires one.
    await worker.stop(2000);
    worker = undefined;
    const guarded = await startWorker(randomBytes(24).toString('base64url'));
    worker = guarded.worker;
    written.push(
      ...(await shootPages(browser, { baseUrl: guarded.url, shots: [LOGIN_PAGE], directory: IMAGES, log })),
    );
  } finally {
    await browser?.close();
    await worker?.stop(2000);
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  for (const file of written) {
    process.stdout.write(`${path.relative(repositoryRoot, file)} (${statSync(file).size} bytes)\n`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`screenshots failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
