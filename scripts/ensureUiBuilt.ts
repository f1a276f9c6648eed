/**
 * The dashboard's bundle in `dist/ui`, built by `node scripts/build-ui.mjs` (the UI half of `npm run build`) when
 * it is missing or older than one of its sources: the screenshots and the UI bench serve whatever `dist/ui`
 * holds, and a stale bundle would picture or measure an older UI than the checkout's.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const BUILD_SCRIPT = 'scripts/build-ui.mjs';
/** what the build writes that the page cannot do without */
const BUNDLE = ['dist/ui/index.html', 'dist/ui/app.js'];
/** what the bundle is made from */
const SOURCES = ['ui', BUILD_SCRIPT];

/** The newest modification time under `entry` (a file or a folder), 0 when it does not exist. */
function newestChange(entry: string): number {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const child of readdirSync(entry)) {
    if (child === 'node_modules') continue;
    newest = Math.max(newest, newestChange(path.join(entry, child)));
  }
  return newest;
}

/** Builds `dist/ui` unless it is newer than every source; the build's own output goes to stderr. */
export async function ensureUiBuilt(log: (line: string) => void): Promise<'built' | 'up to date'> {
  const at = (relative: string) => path.join(repositoryRoot, relative);
  const builtAt = Math.min(...BUNDLE.map((file) => (existsSync(at(file)) ? statSync(at(file)).mtimeMs : 0)));
  const sourcesAt = Math.max(...SOURCES.map((source) => newestChange(at(source))));
  if (builtAt > 0 && builtAt >= sourcesAt) return 'up to date';
  if (!existsSync(at(BUILD_SCRIPT))) {
    throw new Error(`${BUILD_SCRIPT} is missing: this checkout cannot build the dashboard into dist/ui`);
  }
  log(`building the dashboard into dist/ui: node ${BUILD_SCRIPT}`);
  // stdout to stderr too: the callers keep stdout for their results
  const child = spawn(process.execPath, [at(BUILD_SCRIPT)], { cwd: repositoryRoot, stdio: ['ignore', 2, 2] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`node ${BUILD_SCRIPT} exited with ${code}`);
  const missing = BUNDLE.filter((file) => !existsSync(at(file)));
  if (missing.length > 0) throw new Error(`node ${BUILD_SCRIPT} wrote no ${missing.join(', ')}`);
  return 'built';
}
