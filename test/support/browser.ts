/**
 * Debian's Chromium driven by playwright-core, for the browser tests, the screenshots and the bench.
 *
 * ```ts
 * const browser = await launchBrowser();
 * const page = await browser.newPage();
 * const problems = watchPage(page); // script errors and CSP refusals, as text
 * await page.goto(`${worker.url}/ui/`);
 * expect(await checkAccessibility(page)).toEqual([]);
 * await browser.close();
 * ```
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's package (`.ci/run` installs it when missing); `CHROMIUM_PATH` points elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The launch flags of the contract: no sandbox (CI runs as root), no GPU, and nothing that reaches the network
 * by itself (updates, sync, QUIC probes). The fresh `--user-data-dir` is playwright's: `launch()` makes a new
 * temporary profile for each browser and refuses the flag (it belongs to `launchPersistentContext`).
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
    timeout: 60_000,
  });
}

/** A serious or critical finding of axe, reduced to what a failing assertion should print. */
export interface AxeViolation {
  id: string;
  impact: 'serious' | 'critical';
  help: string;
  /** CSS selectors of the offending elements */
  targets: string[];
}

let axeSource: string | undefined;

function axeScript(): string {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

/**
 * Runs axe-core on the page as it is now and returns its serious and critical violations (none: `[]`).
 *
 * axe is evaluated through the DevTools protocol rather than added as a `<script>` (`page.addScriptTag`): the
 * dashboard's Content-Security-Policy (`script-src 'self'`) refuses inline scripts, which is the point of it,
 * and an evaluation is not a script of the page.
 */
export async function checkAccessibility(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate('typeof window.axe === "object"');
  if (!loaded) await page.evaluate(axeScript());
  const found = (await page.evaluate(`
    axe.run(document, { resultTypes: ['violations'] }).then((results) =>
      results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map((node) => node.target.join(' ')),
      })),
    )
  `)) as { id: string; impact: string | null; help: string; targets: string[] }[];
  return found.filter((v): v is AxeViolation => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Collects what would go unnoticed in a headless page: uncaught errors, console errors (a Content-Security-Policy
 * refusal is one) and failed requests. Read the array whenever; it fills as the page runs.
 */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  return problems;
}
