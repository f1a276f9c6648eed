/**
 * The dashboard as an operator uses it: Chromium on a real worker (PostgreSQL, the offline model, a git origin)
 * serving dist/ui at `/ui/` under its Content-Security-Policy, every action through the page's own buttons and
 * forms, every effect checked in the worker too.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PermanentFailure } from '../../src/actors/failures.js';
import type { Worker } from '../../src/worker.js';
import { checkAccessibility, launchBrowser, watchPage } from '../support/browser.js';
import { builtUi } from '../support/builtUi.js';
import { createSampleOrigin, type SampleOrigin } from '../support/git.js';
import { recordingAgents, stepsGraph } from '../support/testGraphs.js';
import { meta, startCluster, type TestCluster, waitForStatus } from '../support/worker.js';

const TOKEN = 'dashboard-test-operator-token-4f1e2a';
const GLOBEX_TOKEN = 'dashboard-test-globex-token-9b3c7d';

describe('the dashboard in Chromium', () => {
  let cluster: TestCluster;
  let worker: Worker;
  let origin: SampleOrigin;
  let browser: Browser;
  /** the dashboard's address, `…/ui/` */
  let dashboard: string;
  /** the `flaky` graph's only step fails for good while this is true */
  let misconfigured = true;
  /** ends the `holding` graph's running step */
  let release = () => {};
  const contexts: BrowserContext[] = [];
  let tickets = 0;

  beforeAll(async () => {
    await builtUi();
    origin = createSampleOrigin();
    cluster = await startCluster(1, {
      http: true,
      graphs: [stepsGraph('flaky', 1), stepsGraph('holding', 1, 'hold')],
      agents: {
        ...recordingAgents(['step1'], [], async () => {
          if (misconfigured) throw new PermanentFailure('401: the API key was refused');
        }),
        // runs until released (or its run is stopped): its worker holds the lease meanwhile
        ...recordingAgents(['hold1'], [], async (_key, _input, signal) => {
          await new Promise<void>((resolve) => {
            release = resolve;
            signal.addEventListener('abort', () => resolve(), { once: true });
          });
        }),
      },
    });
    worker = cluster.workers[0]!;
    browser = await launchBrowser();
    dashboard = `${worker.url}/ui/`;
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await cluster?.cleanup();
    origin?.cleanup();
  });

  /** a new execution of `graph` for a ticket with a key of its own */
  async function start(
    options: { title?: string; description?: string; tenantId?: string; graph?: string } = {},
  ) {
    const key = `DASH-${++tickets}`;
    const { executionId } = await worker.service.start(
      {
        graph: options.graph ?? 'prfactory',
        tenantId: options.tenantId ?? 'acme',
        ticket: { key, title: options.title ?? `Ticket ${tickets}`, description: options.description ?? '' },
        repository: { url: origin.url },
      },
      meta,
    );
    return { key, executionId };
  }

  async function answerQuestions(executionId: string) {
    const details = await waitForStatus(worker, executionId, ['suspended']);
    const answers = Object.fromEntries((details.questions ?? []).map((q) => [q.id, `answer to ${q.id}`]));
    await worker.service.resume(
      executionId,
      { eventId: randomUUID(), tenantId: details.tenantId, type: 'answers_received', answers },
      meta,
    );
    await waitForState(executionId, 'planning.awaitingApproval');
  }

  async function waitForState(executionId: string, state: string) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const details = await worker.service.get(executionId);
      if (details.state === state && details.status === 'suspended') return details;
      if (Date.now() > deadline) throw new Error(`${executionId} never reached ${state}: ${details.state}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** a page in a fresh context (its own cookies), with its script errors and CSP refusals collected */
  async function open(hash = '', base = dashboard): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    const problems = watchPage(page);
    const response = await page.goto(`${base}${hash}`);
    // the policy that makes any inline script in the page a reported refusal (serious() below)
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    return { page, problems };
  }

  async function shown(page: Page, heading: string | RegExp) {
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    await page.locator('#main[aria-busy="false"]').waitFor();
  }

  /** what would make a page unsafe or broken: uncaught errors and anything the Content-Security-Policy refused */
  function serious(problems: string[]) {
    return problems.filter((p) => p.startsWith('uncaught') || /Content Security Policy/i.test(p));
  }

  async function rowKeys(page: Page): Promise<string[]> {
    return page.locator('table.executions tbody .ticket-key').allTextContents();
  }

  it('boots under its Content-Security-Policy and filters the list by status, tenant and ticket key', async () => {
    const one = await start();
    const two = await start();
    const other = await start({ tenantId: 'globex' });
    for (const { executionId } of [one, two, other]) await waitForStatus(worker, executionId, ['suspended']);

    const { page, problems } = await open();
    await shown(page, 'Executions');
    expect(await rowKeys(page)).toEqual(expect.arrayContaining([one.key, two.key, other.key]));
    const headers = await page.locator('table.executions thead th').allTextContents();
    expect(headers).toEqual(['Execution', 'Graph', 'Tenant', 'Ticket', 'Status', 'State', 'Updated']);

    await page.getByLabel('Ticket key').fill(two.key);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/ticketKey=DASH-/);
    await shown(page, 'Executions');
    expect(await rowKeys(page)).toEqual([two.key]);

    await page.getByRole('link', { name: 'Clear' }).click();
    await page.getByLabel('Tenant').fill('globex');
    await page.getByLabel('Tenant').press('Enter');
    await page.waitForURL(/tenantId=globex/);
    await shown(page, 'Executions');
    expect(await rowKeys(page)).toEqual([other.key]);

    await page.getByLabel('Status', { exact: true }).selectOption('cancelled');
    await page.waitForURL(/status=cancelled/);
    await shown(page, 'Executions');
    expect(await rowKeys(page)).toEqual([]);
    expect(await page.getByText('No execution matches these filters.').isVisible()).toBe(true);

    // the first cell links to the execution
    await page.goto(`${dashboard}#/executions?ticketKey=${one.key}`);
    await shown(page, 'Executions');
    await page.locator('table.executions tbody tr td:first-child a').click();
    await shown(page, `${one.key}: Ticket ${one.key.slice(5)}`);
    expect(page.url()).toContain(`#/executions/${one.executionId}`);
    expect(serious(problems)).toEqual([]);
  });

  it('updates the list live: a new execution appears, its row and the counts follow it', async () => {
    const { page, problems } = await open('#/executions?tenantId=live');
    await shown(page, 'Executions');
    expect(await rowKeys(page)).toEqual([]);
    await page.getByText('Live', { exact: true }).waitFor();

    const { key, executionId } = await start({ tenantId: 'live' });
    const row = page.locator(`tr[data-execution="${executionId}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await rowKeys(page)).toEqual([key]);
    await row.locator('.status-suspended').waitFor({ timeout: 30_000 });
    await page.getByRole('link', { name: 'suspended 1', exact: true }).waitFor({ timeout: 15_000 });

    await answerQuestions(executionId);
    await row.getByText('planning.awaitingApproval').waitFor({ timeout: 15_000 });
    expect(serious(problems)).toEqual([]);
  });

  it('pages through the list over the API cursor with Next page and Previous page', async () => {
    const keys: string[] = [];
    for (let i = 0; i < 51; i++) keys.push((await start({ graph: 'flaky', tenantId: 'paging' })).key);
    const { page } = await open('#/executions?tenantId=paging');
    await shown(page, 'Executions');
    const first = await rowKeys(page);
    expect(first).toEqual(keys.slice(1).reverse()); // newest first, 50 a page
    expect(await page.getByRole('button', { name: 'Previous page' }).isDisabled()).toBe(true);

    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 2', { exact: true }).waitFor();
    await page.locator('#main[aria-busy="false"]').waitFor();
    expect(await rowKeys(page)).toEqual([keys[0]]);
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);

    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Page 1', { exact: true }).waitFor();
    await page.locator('#main[aria-busy="false"]').waitFor();
    expect(await rowKeys(page)).toEqual(first);
  });

  it('shows the counts per status from /v1/stats, each a link to its filter', async () => {
    const { executionId } = await start();
    await waitForStatus(worker, executionId, ['suspended']);
    const { page } = await open();
    await shown(page, 'Executions');
    const suspended = page.getByRole('link', { name: /^suspended \d+$/ });
    await suspended.waitFor();
    const count = Number((await suspended.textContent())?.replace(/\D+/g, ''));
    expect(count).toBeGreaterThanOrEqual(1);
    await suspended.click();
    await page.waitForURL(/status=suspended/);
    await shown(page, 'Executions');
    const statuses = await page.locator('table.executions tbody .status').allTextContents();
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set(['suspended']));
  });

  it('answers the questions from the form and follows the execution live to the plan', async () => {
    const { key, executionId } = await start({ title: 'Add a greeting' });
    await waitForStatus(worker, executionId, ['suspended']);
    const { page, problems } = await open(`#/executions/${executionId}`);
    await shown(page, `${key}: Add a greeting`);
    const questions = (await worker.service.get(executionId)).questions ?? [];
    expect(questions.length).toBeGreaterThanOrEqual(2);
    for (const question of questions) {
      await page.getByLabel(question.text, { exact: true }).fill(`the answer to ${question.id}`);
    }
    await page.getByRole('button', { name: 'Send answers' }).click();

    // the page moves on by itself: the stream's events re-read the details
    await page.getByRole('heading', { level: 2, name: 'Plan' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    expect(await page.locator('dl.details').textContent()).toContain('planning.awaitingApproval');
    const details = await worker.service.get(executionId);
    expect(details.answers).toEqual(
      Object.fromEntries(questions.map((q) => [q.id, `the answer to ${q.id}`])),
    );
    // the answered questions stay, with their answers, and the history shows each checkpoint with how long it lasted
    expect(await page.locator('dl.answers').textContent()).toContain('the answer to q1');
    const timeline = page.locator('ol.timeline li');
    expect(await timeline.count()).toBe(details.history.length);
    expect(await timeline.first().textContent()).toMatch(/for \d/);
    expect(serious(problems)).toEqual([]);
  });

  it('draws the diagram with the current state highlighted, and moves the highlight as the execution moves', async () => {
    const { key, executionId } = await start();
    await waitForStatus(worker, executionId, ['suspended']);
    const { page } = await open(`#/executions/${executionId}`);
    await shown(page, new RegExp(key));
    const waiting = page.locator('[data-state="refinement.awaitingAnswers"]');
    await page.locator('[data-state="refinement.awaitingAnswers"].state-current').waitFor();
    expect(await page.locator('.state-current').count()).toBe(1);
    expect(await page.locator('[data-state="refinement"].state-visited').count()).toBe(1);
    expect(await page.locator('[data-state="planning.awaitingApproval"].state-visited').count()).toBe(0);
    expect(await page.locator('.diagram figcaption').textContent()).toContain(
      'Current state: refinement.awaitingAnswers',
    );

    await answerQuestions(executionId);
    await page.locator('[data-state="planning.awaitingApproval"].state-current').waitFor();
    expect(await waiting.getAttribute('class')).toContain('state-visited');
    expect(await waiting.getAttribute('class')).not.toContain('state-current');
    // the parallel regions that published the plan were visited
    expect(await page.locator('[data-state="planning.publishPlan.commitPlan"].state-visited').count()).toBe(
      1,
    );
    expect(await page.locator('.diagram figcaption').textContent()).toContain(
      'Current state: planning.awaitingApproval',
    );
  });

  it('rejects a plan with a reason and shows round 2, then approves it and links the pull request', async () => {
    const { key, executionId } = await start({ title: 'Add a greeting' });
    await answerQuestions(executionId);
    const { page, problems } = await open(`#/executions/${executionId}`);
    await shown(page, `${key}: Add a greeting`);
    const plan = page.locator('.markdown.plan');
    expect(await plan.textContent()).toContain('Planning round 1');

    await page.getByRole('button', { name: 'Reject' }).click();
    await page.getByLabel('Reason').fill('Name the files it touches');
    await page.getByRole('button', { name: 'Send rejection' }).click();
    await plan.getByText('Planning round 2').waitFor({ timeout: 30_000 });
    expect(await plan.textContent()).toContain('Name the files it touches');
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    await waitForState(executionId, 'planning.awaitingApproval');

    await page.getByRole('button', { name: 'Approve' }).click();
    const link = page.getByRole('region', { name: 'Pull request' }).getByRole('link');
    await link.waitFor({ timeout: 30_000 });
    const done = await waitForStatus(worker, executionId, ['completed']);
    expect(await link.getAttribute('href')).toBe(done.pullRequest!.url);
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    await page.locator('dl.details .status-completed').waitFor();
    expect(await page.getByRole('button', { name: 'Cancel execution' }).count()).toBe(0);
    expect(serious(problems)).toEqual([]);
  });

  it('cancels an execution after a confirmation', async () => {
    const { key, executionId } = await start();
    await waitForStatus(worker, executionId, ['suspended']);
    const { page } = await open(`#/executions/${executionId}`);
    await shown(page, new RegExp(key));

    await page.getByRole('button', { name: 'Cancel execution' }).click();
    await page.getByRole('button', { name: 'Keep it' }).click();
    expect((await worker.service.get(executionId)).status).toBe('suspended');

    await page.getByRole('button', { name: 'Cancel execution' }).click();
    await page.getByRole('button', { name: 'Confirm cancel' }).click();
    await page.locator('dl.details .status-cancelled').waitFor();
    expect((await worker.service.get(executionId)).status).toBe('cancelled');
    expect(await page.getByRole('button', { name: 'Cancel execution' }).count()).toBe(0);
  });

  it('retries a failed execution from the Failed page, with its reason shown', async () => {
    misconfigured = true;
    const { executionId } = await start({ graph: 'flaky' });
    await waitForStatus(worker, executionId, ['failed']);
    const { page, problems } = await open('#/failed');
    await shown(page, 'Failed executions');
    const row = page.locator(`tr[data-execution="${executionId}"]`);
    expect(await row.textContent()).toContain('agent step1 failed: 401: the API key was refused');

    misconfigured = false; // the operator fixed the configuration
    await row.getByRole('button', { name: /^Retry/ }).click();
    await page.getByRole('status').getByText('1 execution will run again').waitFor();
    await waitForStatus(worker, executionId, ['completed']);
    await row.waitFor({ state: 'detached' });
    expect(serious(problems)).toEqual([]);
  });

  it('retries a failed execution from its own page', async () => {
    misconfigured = true;
    const { key, executionId } = await start({ graph: 'flaky' });
    await waitForStatus(worker, executionId, ['failed']);
    const { page } = await open(`#/executions/${executionId}`);
    const streams: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/stream')) streams.push(request.url());
    });
    await shown(page, new RegExp(key));
    expect(await page.getByRole('region', { name: 'Last error' }).textContent()).toContain('401');
    misconfigured = false;
    await page.getByRole('button', { name: 'Retry', exact: true }).click();
    // the stream, reopened once after the retry from the last event seen, brings the page to the end
    await page.locator('dl.details .status-completed').waitFor({ timeout: 30_000 });
    expect((await worker.service.get(executionId)).status).toBe('completed');
    const failedSeq = (await worker.service.eventsAfter(executionId, 0)).find(
      (e) => e.kind === 'failed',
    )!.seq;
    expect(streams.filter((url) => url.includes('lastEventId='))).toEqual([
      expect.stringContaining(`lastEventId=${failedSeq}`),
    ]);
  });

  it('retries the selected failed executions at once', async () => {
    misconfigured = true;
    const failed = [await start({ graph: 'flaky' }), await start({ graph: 'flaky' })];
    for (const { executionId } of failed) await waitForStatus(worker, executionId, ['failed']);
    const { page } = await open('#/failed');
    await shown(page, 'Failed executions');
    for (const { executionId } of failed) {
      await page.locator(`tr[data-execution="${executionId}"]`).getByRole('checkbox').check();
    }
    misconfigured = false;
    await page.getByRole('button', { name: 'Retry selected' }).click();
    await page.getByRole('status').getByText('2 executions will run again').waitFor();
    for (const { executionId } of failed) await waitForStatus(worker, executionId, ['completed']);
  });

  it('renders Markdown from a ticket inert: a <script>, an onerror image and a javascript: link run nothing', async () => {
    const hostile =
      'Greet <script>window.__pwned = "script"</script> <img src=x onerror="window.__pwned = \'img\'"> ' +
      "[click me](javascript:window.__pwned='link')";
    const { executionId } = await start({ title: hostile, description: `Details: ${hostile}` });
    await waitForStatus(worker, executionId, ['suspended']);
    const { page, problems } = await open(`#/executions/${executionId}`);
    await shown(page, /DASH-\d+: Greet/);
    // the questions echo the title: rendered as labels
    await page.getByRole('button', { name: 'Send answers' }).waitFor();
    for (const textarea of await page.locator('textarea').all()) await textarea.fill('yes');
    await page.getByRole('button', { name: 'Send answers' }).click();
    const plan = page.locator('.markdown.plan');
    await plan.waitFor({ timeout: 30_000 });
    await page.locator('summary', { hasText: 'Ticket description' }).click();

    expect(await plan.textContent()).toContain('<script>window.__pwned = "script"</script>');
    await plan.getByText('click me').first().click();
    await page.waitForTimeout(300);
    const main = page.locator('main');
    expect(await main.locator('script, img, iframe').count()).toBe(0);
    expect(await main.locator('[onerror], [onclick], [onload]').count()).toBe(0);
    const hrefs = (await page.evaluate(
      '[...document.querySelectorAll("main a[href]")].map((a) => a.getAttribute("href"))',
    )) as string[];
    expect(hrefs.filter((href) => /^\s*javascript:/i.test(href))).toEqual([]);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    // nothing even tried: the policy refused nothing
    expect(serious(problems)).toEqual([]);
  });

  it('shows the workers holding leases and the queue by status', async () => {
    const { executionId } = await start({ graph: 'holding' });
    await waitForStatus(worker, executionId, ['running']);
    const { page } = await open('#/workers');
    await shown(page, 'Workers');
    expect(await page.locator('table.workers thead th').allTextContents()).toEqual([
      'Worker',
      'Executions held',
      'Lease expires',
    ]);
    const row = page.locator('table.workers tbody tr', { hasText: worker.id });
    expect(await row.getByRole('link', { name: executionId.slice(0, 8) }).getAttribute('href')).toBe(
      `#/executions/${executionId}`,
    );
    expect(await page.locator('ul.queue').textContent()).toMatch(/running [1-9]/);

    release();
    await waitForStatus(worker, executionId, ['completed']);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await row.waitFor({ state: 'detached' });
  });

  it('is usable from the keyboard at 1024 px: controls in order, focus visible, nothing wider than the window', async () => {
    const { key, executionId } = await start({ title: 'Keyboard only' });
    await waitForStatus(worker, executionId, ['suspended']);
    const { page } = await open(`#/executions?ticketKey=${key}`);
    await shown(page, 'Executions');
    const reached: { name: string; outline: string }[] = [];
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      const focused = (await page.evaluate(`(() => {
        const e = document.activeElement;
        if (!e || e === document.body) return null;
        const name = e.labels?.[0]?.textContent ?? e.getAttribute('aria-label') ?? e.textContent ?? '';
        return { name: name.trim(), outline: getComputedStyle(e).outlineStyle };
      })()`)) as { name: string; outline: string } | null;
      if (focused) reached.push(focused);
    }
    const names = reached.map((r) => r.name);
    const order = [
      'Executions',
      'Failed',
      'Workers',
      'Status',
      'Graph',
      'Tenant',
      'Ticket key',
      'Apply filters',
    ];
    const positions = order.map((name) => names.indexOf(name));
    expect(positions).not.toContain(-1);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(names).toContain(executionId.slice(0, 8));
    expect(reached.filter((r) => r.outline === 'none')).toEqual([]);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1024);

    // open the execution and answer its questions without a mouse
    await page.getByRole('link', { name: executionId.slice(0, 8) }).focus();
    await page.keyboard.press('Enter');
    await shown(page, `${key}: Keyboard only`);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1024);
    const answers = page.locator('section textarea');
    await answers.first().focus();
    const count = await answers.count();
    for (let i = 0; i < count; i++) {
      await page.keyboard.type(`typed answer ${i + 1}`);
      await page.keyboard.press('Tab');
    }
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Send answers');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Approve' }).waitFor({ timeout: 30_000 });
    expect(Object.values((await worker.service.get(executionId)).answers ?? {})).toContain('typed answer 1');
  });

  it('has no serious or critical accessibility violation on any page', async () => {
    misconfigured = true;
    const failing = await start({ graph: 'flaky' });
    const asking = await start({ title: 'Accessible questions' });
    const planned = await start({ title: 'Accessible plan' });
    await waitForStatus(worker, failing.executionId, ['failed']);
    await waitForStatus(worker, asking.executionId, ['suspended']);
    await answerQuestions(planned.executionId);

    const { page } = await open();
    const check = async (hash: string, heading: string | RegExp) => {
      await page.goto(`${dashboard}${hash}`);
      await shown(page, heading);
      const violations = await checkAccessibility(page);
      expect({ hash, violations }).toEqual({ hash, violations: [] });
    };
    await check('#/executions', 'Executions');
    await check(`#/executions/${asking.executionId}`, /Accessible questions/);
    await check(`#/executions/${planned.executionId}`, /Accessible plan/);
    await page.getByRole('button', { name: 'Reject' }).click();
    expect(await checkAccessibility(page)).toEqual([]);
    await page.getByRole('button', { name: 'Cancel execution' }).click();
    expect(await checkAccessibility(page)).toEqual([]);
    await check(`#/executions/${failing.executionId}`, new RegExp(failing.key));
    await check('#/failed', 'Failed executions');
    await check('#/workers', 'Workers');
    await check('#/login', 'Sign in');
    await check('#/nowhere', 'Page not found');
  });

  describe('with an API token', () => {
    let guarded: Worker;
    beforeAll(async () => {
      guarded = await cluster.add({
        http: true,
        config: { Http: { ApiToken: TOKEN }, Tenants: { globex: { ApiToken: GLOBEX_TOKEN } } },
      });
    });

    it('asks for the token once, refuses a wrong one, and signs out', async () => {
      const { key, executionId } = await start();
      await waitForStatus(worker, executionId, ['suspended']);
      const { page, problems } = await open(`#/executions?ticketKey=${key}`, `${guarded.url}/ui/`);
      await shown(page, 'Sign in');
      expect(page.url()).toContain('#/login?next=');
      expect(await page.locator('table').count()).toBe(0);
      // the data needs the token; the page itself did not
      const refused = await page.request.get(`${guarded.url}/v1/executions`);
      expect(refused.status()).toBe(401);
      expect(await checkAccessibility(page)).toEqual([]);

      await page.getByLabel('API token').fill('not-the-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).toContain('refused');

      await page.getByLabel('API token').fill(TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      // back to the page asked for
      await shown(page, 'Executions');
      expect(page.url()).toContain(`ticketKey=${key}`);
      expect(await rowKeys(page)).toEqual([key]);
      const cookies = await page.context().cookies();
      const session = cookies.find((c) => c.name === 'prf_session');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      expect(JSON.stringify(cookies)).not.toContain(TOKEN);

      // a state change carries the CSRF token: the cancel goes through
      await page.locator('table.executions tbody tr td:first-child a').click();
      await shown(page, new RegExp(key));
      await page.getByRole('button', { name: 'Cancel execution' }).click();
      await page.getByRole('button', { name: 'Confirm cancel' }).click();
      await page.locator('dl.details .status-cancelled').waitFor();
      expect((await worker.service.get(executionId)).status).toBe('cancelled');

      // the session holds across a reload, and ends with Sign out
      await page.reload();
      await shown(page, new RegExp(key));
      await page.getByRole('button', { name: 'Sign out' }).click();
      await shown(page, 'Sign in');
      await page.reload();
      await shown(page, 'Sign in');
      expect(serious(problems)).toEqual([]);
    });

    it('shows a tenant’s session only that tenant’s executions', async () => {
      const mine = await start({ tenantId: 'globex' });
      const theirs = await start({ tenantId: 'acme' });
      const { page } = await open('#/executions', `${guarded.url}/ui/`);
      await shown(page, 'Sign in');
      await page.getByLabel('API token').fill(GLOBEX_TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await shown(page, 'Executions');
      expect(await page.getByText('Signed in as tenant globex').isVisible()).toBe(true);
      const keys = await rowKeys(page);
      expect(keys).toContain(mine.key);
      expect(keys).not.toContain(theirs.key);
      const tenants = await page.locator('table.executions tbody tr td:nth-child(3)').allTextContents();
      expect(new Set(tenants)).toEqual(new Set(['globex']));
      await page.goto(`${guarded.url}/ui/#/executions/${theirs.executionId}`);
      await shown(page, 'Execution not found');
    });
  });
});
