import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { configTable } from '../../scripts/config-table.js';

it("docs/operations.md's configuration table is the one the schema prints", () => {
  const operations = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
  const table = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(operations)?.[1];
  expect(table, 'npx tsx scripts/config-table.ts prints the current table').toBe(configTable());
});
