/**
 * dist/ui/, built from ui/ as it is now, for the browser tests (and the screenshots and the bench): a test file
 * run alone never drives a dashboard older than its sources.
 *
 * As builtCli.ts does for dist/cli.js: rebuilt unless a stamp says this helper built it from exactly the current
 * inputs (ui/, the build script, the versions of the packages bundled) and dist/ui/ still holds exactly what that
 * build wrote, both compared by content; under the same lock, because the command line's build empties dist/.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { digestTree, lockDist } from './builtCli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** the built dashboard: index.html, app.js, app.css */
export const UI_DIST = path.join(root, 'dist', 'ui');
const cache = path.join(root, 'node_modules/.cache/prfactory-worker-tests');
const stampFile = path.join(cache, 'ui-build.json');

const run = promisify(execFile);

/** the packages whose code ends up in app.js, and the bundler */
const BUNDLED = ['esbuild', 'preact', 'marked', 'dompurify'];

function inputsDigest(): string {
  const hash = digestTree(path.join(root, 'ui'));
  hash.update('scripts/build-ui.mjs\0');
  hash.update(readFileSync(path.join(root, 'scripts/build-ui.mjs')));
  for (const name of BUNDLED) {
    hash.update(`${name}\0`);
    hash.update(readFileSync(path.join(root, 'node_modules', name, 'package.json')));
  }
  return hash.digest('hex');
}

function outputsDigest(): string {
  return digestTree(UI_DIST).digest('hex');
}

interface Stamp {
  inputs: string;
  outputs: string;
}

function isCurrent(): boolean {
  try {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as Stamp;
    return stamp.inputs === inputsDigest() && stamp.outputs === outputsDigest();
  } catch {
    return false;
  }
}

/** Builds dist/ui/ when it is not current (`node scripts/build-ui.mjs`, about a second) and returns its path. */
export async function builtUi({ timeoutMs = 120_000 } = {}): Promise<string> {
  if (isCurrent()) return UI_DIST;
  mkdirSync(cache, { recursive: true });
  const unlock = await lockDist(timeoutMs);
  try {
    if (isCurrent()) return UI_DIST;
    const inputs = inputsDigest();
    rmSync(stampFile, { force: true });
    await run(process.execPath, [path.join(root, 'scripts/build-ui.mjs')], {
      cwd: root,
      timeout: timeoutMs,
    }).catch((error: { message: string; stderr?: string }) => {
      throw new Error(`building dist/ui/ failed: ${error.stderr || error.message}`);
    });
    // a source edited during the build leaves no stamp: the next run builds again
    if (inputsDigest() === inputs) {
      writeFileSync(stampFile, JSON.stringify({ inputs, outputs: outputsDigest() } satisfies Stamp));
    }
    return UI_DIST;
  } finally {
    unlock();
  }
}
