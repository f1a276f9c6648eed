/** Prints the README's configuration table from the zod schema, so defaults are written down once. */
import { describeConfig } from '../src/config.js';

export function configTable(): string {
  const rows = describeConfig().map((r) => `| \`${r.key}\` | \`${r.default}\` | ${r.description} |`);
  return ['| key | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

if (process.argv[1]?.endsWith('config-table.ts')) process.stdout.write(`${configTable()}\n`);
