/**
 * `npm run diagrams`: rewrites `visualizations/` (every graph's .mmd and .svg, and README.md) — the same as
 * `prfactory-worker diagram`, without building first.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diagramGraphs, generateDiagrams } from '../src/cli/commands/diagram.js';

export const VISUALIZATIONS_DIR = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'visualizations',
);

if (process.argv[1]?.endsWith('diagrams.ts')) {
  mkdirSync(VISUALIZATIONS_DIR, { recursive: true });
  for (const file of await generateDiagrams(diagramGraphs(), { readme: true })) {
    writeFileSync(path.join(VISUALIZATIONS_DIR, file.name), file.content);
    process.stdout.write(`visualizations/${file.name}\n`);
  }
}
