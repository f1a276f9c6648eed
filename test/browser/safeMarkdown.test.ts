/**
 * ui/src/safeMarkdown.ts in a real browser: its output is put into a page with `innerHTML`, as the dashboard
 * does, on a page without any Content-Security-Policy — the Markdown itself must be inert, the policy is a second
 * wall, not the first. A hostile document must run nothing, load nothing and keep no unsafe link; ordinary
 * Markdown must keep its links, with rel="noopener noreferrer".
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, watchPage } from '../support/browser.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Each tries to set `window.__pwned`, or to load something from another host. */
const HOSTILE = [
  '<script>window.__pwned = "script"</script>',
  '<img src=x onerror="window.__pwned = \'img\'">',
  '[click me](javascript:window.__pwned="link")',
  '[angle](<javascript:window.__pwned="angle">)',
  '[cased](JaVaScRiPt:window.__pwned="cased")',
  '[entity](javascript&#58;window.__pwned="entity")',
  '[data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD0xPC9zY3JpcHQ+)',
  '[vb](vbscript:msgbox)',
  '<a href="javascript:window.__pwned=\'raw\'">raw anchor</a>',
  '![remote](https://images.example.test/x.png)',
  '![quote](x" onerror="window.__pwned=\'alt\')',
  '<iframe src="javascript:window.__pwned=\'iframe\'"></iframe>',
  '<svg><script>window.__pwned="svg"</script></svg>',
  '<svg onload="window.__pwned=\'onload\'"></svg>',
  '<details open ontoggle="window.__pwned=\'toggle\'">x</details>',
  '<style>body { display: none }</style>',
  '<form action="https://evil.example.test"><button>go</button></form>',
  '<p style="background:url(https://evil.example.test/x)">styled</p>',
  '[ref link][r]\n\n[r]: javascript:window.__pwned="ref"',
].join('\n\n');

interface Rendered {
  pwned: unknown;
  html: string;
  text: string;
  tags: string[];
  handlers: string[];
  hrefs: { href: string; rel: string | null; target: string | null }[];
  styled: number;
}

/** renders `source` with the module's function `fn` into a fresh div and reports what the DOM holds */
async function render(page: Page, fn: 'renderMarkdown' | 'renderInlineMarkdown', source: string) {
  return (await page.evaluate(`(async () => {
    const box = document.createElement('div');
    document.body.replaceChildren(box);
    box.innerHTML = safeMarkdown.${fn}(${JSON.stringify(source)});
    await new Promise((resolve) => setTimeout(resolve, 300));
    const all = [...box.querySelectorAll('*')];
    return {
      pwned: window.__pwned,
      html: box.innerHTML,
      text: box.textContent,
      tags: [...new Set(all.map((e) => e.tagName.toLowerCase()))].sort(),
      handlers: all.flatMap((e) => e.getAttributeNames().filter((n) => n.startsWith('on'))),
      hrefs: [...box.querySelectorAll('[href]')].map((a) => ({
        href: a.getAttribute('href'), rel: a.getAttribute('rel'), target: a.getAttribute('target'),
      })),
      styled: box.querySelectorAll('[style]').length,
    };
  })()`)) as Rendered;
}

describe('safe Markdown in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let problems: string[];
  const requests: string[] = [];

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [path.join(root, 'ui/src/safeMarkdown.ts')],
      bundle: true,
      write: false,
      format: 'iife',
      globalName: 'safeMarkdown',
      platform: 'browser',
      target: ['es2022'],
      logLevel: 'silent',
    });
    browser = await launchBrowser();
    page = await browser.newPage();
    problems = watchPage(page);
    page.on('request', (request) => requests.push(request.url()));
    await page.setContent('<!doctype html><html lang="en"><head><title>t</title></head><body></body></html>');
    await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('runs nothing, loads nothing and keeps no unsafe link from hostile Markdown', async () => {
    const out = await render(page, 'renderMarkdown', HOSTILE);
    expect(out.pwned).toBeUndefined();
    expect(out.handlers).toEqual([]);
    expect(out.styled).toBe(0);
    for (const tag of ['script', 'img', 'iframe', 'svg', 'style', 'form', 'button', 'details']) {
      expect(out.tags).not.toContain(tag);
    }
    // what is left is a relative link at worst (`javascript&#58;…` is a path: the entity is not decoded)
    const schemes = out.hrefs.map((a) => /^\s*([a-z][a-z0-9+.-]*):/i.exec(a.href)?.[1]?.toLowerCase());
    expect(schemes.filter((scheme) => scheme !== undefined)).toEqual([]);
    expect(out.hrefs.map((a) => a.href)).toEqual(['javascript&#58;window.__pwned="entity"']);
    // raw HTML is shown as the text it is, not dropped silently
    expect(out.text).toContain('<script>window.__pwned = "script"</script>');
    expect(out.text).toContain('<iframe');
    // the links' texts survive without their targets
    expect(out.text).toContain('click me');
    expect(out.text).toContain('raw anchor');
    expect(requests.filter((url) => !url.startsWith('about:') && !url.startsWith('data:'))).toEqual([]);
    expect(problems.filter((p) => p.startsWith('uncaught'))).toEqual([]);
  });

  it('runs nothing from hostile inline Markdown (a question used as a label) and keeps only phrasing', async () => {
    const out = await render(
      page,
      'renderInlineMarkdown',
      'What about <img src=x onerror="window.__pwned=1"> and [this](javascript:window.__pwned=2) or **bold**?',
    );
    expect(out.pwned).toBeUndefined();
    expect(out.tags).toEqual(['strong']);
    expect(out.hrefs).toEqual([]);
    expect(out.text).toContain('<img src=x onerror="window.__pwned=1">');
  });

  it('keeps http, https, mailto and relative links, opened in a new tab without opener or referrer', async () => {
    const out = await render(
      page,
      'renderMarkdown',
      [
        '[site](https://example.test/a?b=1 "a title")',
        '[plain](http://example.test/)',
        '[mail](mailto:ana@example.test)',
        '[doc](docs/plan.md) and [anchor](#steps) and [up](../x)',
        'https://auto.example.test/link',
      ].join('\n\n'),
    );
    expect(out.hrefs.map((a) => a.href)).toEqual([
      'https://example.test/a?b=1',
      'http://example.test/',
      'mailto:ana@example.test',
      'docs/plan.md',
      '#steps',
      '../x',
      'https://auto.example.test/link',
    ]);
    for (const a of out.hrefs) {
      expect(a.rel).toBe('noopener noreferrer');
      expect(a.target).toBe('_blank');
    }
    expect(out.html).toContain('title="a title"');
  });

  it('renders ordinary Markdown, with headings below the page’s own and task boxes as text', async () => {
    const out = await render(
      page,
      'renderMarkdown',
      '# Plan\n\n## Steps\n\n1. **one**\n2. `two`\n\n- [x] done\n- [ ] open\n\n> quoted\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n```\ncode <b>\n```',
    );
    expect(out.tags).toEqual(
      expect.arrayContaining(['h3', 'h4', 'ol', 'li', 'strong', 'code', 'blockquote', 'table', 'pre']),
    );
    expect(out.tags).not.toContain('h1');
    expect(out.tags).not.toContain('input');
    expect(out.text).toContain('[x] done');
    expect(out.text).toContain('code <b>');
  });
});
