/** `prfactory-worker migrate`: apply the database migrations and exit. */
import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { openDatabase } from '../../persistence/database.js';
import { type MigrationResult, migrateToLatest, migrationChanged } from '../../persistence/migrate.js';
import type { CliIo } from '../io.js';

export function registerMigrateCommand(program: Command, io: CliIo): void {
  program
    .command('migrate')
    .description('apply database migrations and exit')
    .option('--config-dir <dir>', 'folder holding appsettings.json', '.')
    .action(async (options: { configDir: string }) => {
      const config = loadConfig({ directory: options.configDir, env: io.env });
      const database = await openDatabase(config.Database);
      try {
        const result = await migrateToLatest(database.db, database.schema);
        io.stdout.write(reportOf(result));
      } finally {
        await database.close();
      }
    });
}

/** One line per kind of change, or that nothing changed. */
function reportOf(result: MigrationResult): string {
  const lines = [
    result.replacedLegacy.length > 0 && `moved from the legacy layout: ${result.replacedLegacy.join(', ')}`,
    result.applied.length > 0 && `applied: ${result.applied.join(', ')}`,
    result.installed.length > 0 && `functions installed: ${result.installed.join(', ')}`,
    result.dropped.length > 0 && `functions dropped: ${result.dropped.join(', ')}`,
    result.newer.length > 0 &&
      `migrated by a newer worker (${result.newer.join(', ')}): its functions are kept`,
  ].filter((line): line is string => typeof line === 'string');
  if (!migrationChanged(result) && result.newer.length === 0) lines.push('database is up to date');
  return lines.map((line) => `${line}\n`).join('');
}
