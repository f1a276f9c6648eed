/**
 * Screenshots of the dashboard's pages in Chromium: each page opened at its client route, shot once it says its
 * data is shown (`main[aria-busy="false"]`, the hook every page sets) and what the shot is about is there.
 */
import path from 'node:path';
import type { Browser } from 'playwright-core';

/** every shot's size: a laptop's browser window (the browser tests check the pages at 1024 px) */
export const VIEWPORT = { width: 1280, height: 800 };
/** how long a page may take to show its data before the run fails */
const PAGE_TIMEOUT_MS = 30_000;

export interface Shot {
  /** the PNG's name in the images folder */
  file: string;
  /** the client route, after `/ui/`: `#/executions` */
  route: string;
  /** a selector shown once the page's data is, waited for after `main[aria-busy="false"]` */
  ready?: string;
  /** the whole page, not only the viewport: an execution's diagram sits below its details */
  fullPage?: boolean;
}

/**
 * Shoots each page in a tab of its own (so that no earlier page's `aria-busy="false"` is mistaken for this
 * one's) at the viewport's size, into `directory`; returns the files written. An uncaught error in a page fails
 * the run: a picture of a broken page is worse than none.
 */
export async function shootPages(
  browser: Browser,
  options: { baseUrl: string; shots: Shot[]; directory: string; log: (line: string) => void },
): Promise<string[]> {
  const { baseUrl, shots, directory, log } = options;
  const context = await browser.newContext({
    viewport: VIEWPORT,
    deviceScaleFactor: 1,
    colorScheme: 'light',
    reducedMotion: 'reduce',
  });
  const written: string[] = [];
  try {
    for (const shot of shots) {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') log(`  ${shot.route}: console error: ${message.text()}`);
      });
      const response = await page.goto(`${baseUrl}/ui/${shot.route}`);
      if (!response?.ok()) {
        throw new Error(`GET /ui/ answered ${response?.status()}: does this worker serve the dashboard?`);
      }
      for (const selector of ['main[aria-busy="false"]', ...(shot.ready ? [shot.ready] : [])]) {
        await page.waitForSelector(selector, { timeout: PAGE_TIMEOUT_MS }).catch((error: unknown) => {
          throw new Error(`the page ${shot.route} showed no ${selector} within ${PAGE_TIMEOUT_MS / 1000} s`, {
            cause: error,
          });
        });
      }
      // two frames, so that the layout the data brought is painted before the shot (a string: no DOM types here)
      await page.evaluate('new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))');
      if (errors.length > 0) throw new Error(`the page ${shot.route} failed: ${errors.join('; ')}`);
      const file = path.join(directory, shot.file);
      await page.screenshot({
        path: file,
        animations: 'disabled',
        caret: 'hide',
        fullPage: shot.fullPage ?? false,
      });
      await page.close();
      written.push(file);
      log(`shot ${shot.route} → ${shot.file}`);
    }
  } finally {
    await context.close();
  }
  return written;
}
