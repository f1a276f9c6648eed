/** Prints the configuration table of docs/operations.md from the zod schema: defaults are written once. */
import { describeConfig } from '../src/configTable.js';

export function configTable(): string {
  const rows = describeConfig().map((r) => `| \`${r.key}\` | \`${r.default}\` | ${r.description} |`);
  return ['| key | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

if (process.argv[1]?.endsWith('config-table.ts')) process.stdout.write(`${configTable()}\n`);
