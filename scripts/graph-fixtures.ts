/**
 * Writes the graph-version fixtures (`test/graph-versions/<graph>/v<version>.json`): for every version of every
 * built-in graph, the states a checkpoint of it can be in. Run it after adding a graph version, and commit
 * the new file.
 *
 *   npm run graph-fixtures            write the fixtures that are missing (a released one is never rewritten)
 *   npm run graph-fixtures -- --check exit 1 when a fixture is missing or no longer matches its version
 *   npm run graph-fixtures -- --force rewrite every fixture (only for a version that was never released)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { builtInGraphs } from '../src/machines/registry.js';
import {
  fixtureOf,
  fixturePath,
  type GraphFixture,
  serializeFixture,
  shapeOf,
} from '../test/graph-versions/fixtures.js';

export async function writeGraphFixtures(mode: 'missing' | 'check' | 'force'): Promise<string[]> {
  const problems: string[] = [];
  const written: string[] = [];
  for (const def of builtInGraphs) {
    const file = fixturePath(def.id, def.version);
    const fixture = await fixtureOf(def);
    const where = path.relative(process.cwd(), file);
    if (existsSync(file) && mode !== 'force') {
      const committed = JSON.parse(readFileSync(file, 'utf8')) as GraphFixture;
      if (!isDeepStrictEqual(shapeOf(committed), shapeOf(fixture))) {
        problems.push(
          `${where}: graph ${def.id} version ${def.version} no longer has the states of its fixture`,
        );
      }
      continue;
    }
    if (mode === 'check') {
      problems.push(`${where}: missing (graph ${def.id} version ${def.version})`);
      continue;
    }
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, serializeFixture(fixture));
    written.push(file);
    process.stdout.write(`wrote ${where} (${fixture.states.length} states)\n`);
  }
  // Committed JSON is formatted by the project's formatter, so `npm run lint` accepts what this writes.
  if (written.length > 0)
    execFileSync('npx', ['biome', 'format', '--write', ...written], { stdio: 'ignore' });
  return problems;
}

if (process.argv[1]?.endsWith('graph-fixtures.ts')) {
  const mode = process.argv.includes('--force')
    ? 'force'
    : process.argv.includes('--check')
      ? 'check'
      : 'missing';
  const problems = await writeGraphFixtures(mode);
  for (const p of problems) process.stderr.write(`${p}\n`);
  process.exitCode = problems.length > 0 ? 1 : 0;
}
