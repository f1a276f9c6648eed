/** `prfactory-worker migrate`: apply the database migrations and exit. */
import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { openDatabase } from '../../persistence/database.js';
import { migrateToLatest } from '../../persistence/migrate.js';
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
        const applied = await migrateToLatest(database.db, database.schema);
        io.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
      } finally {
        await database.close();
      }
    });
}
