import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { configTable } from '../../scripts/config-table.js';

it("the README's configuration table is the one the schema prints", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const table = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1];
  expect(table, 'npx tsx scripts/config-table.ts prints the current table').toBe(configTable());
});
