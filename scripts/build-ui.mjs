/**
 * Builds the dashboard (ui/) into dist/ui/: `index.html`, `app.js` and `app.css`, nothing else and nothing from
 * another host, so the worker serves it offline. Run by `npm run build` after the server's build, and by the
 * browser tests when ui/ changed (test/support/builtUi.ts).
 *
 * esbuild rather than a bundler with a plugin ecosystem: one call bundles TSX and CSS in about a second on two
 * cores, and it is the only build dependency the UI adds.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'ui');
const out = path.join(root, 'dist', 'ui');

// Files of a previous build (a renamed chunk) must not linger and be served.
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  absWorkingDir: root,
  // `app` names both outputs: app.js, and app.css from the stylesheet main.tsx imports
  entryPoints: { app: path.join(source, 'src', 'main.tsx') },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  charset: 'utf8',
  // the licences of preact, marked and DOMPurify stay at the end of app.js
  legalComments: 'eof',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
await copyFile(path.join(source, 'index.html'), path.join(out, 'index.html'));
