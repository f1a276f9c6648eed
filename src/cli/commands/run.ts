/**
 * `prfactory-worker run` (the default command): start the host and the HTTP API, and stay up until SIGTERM or
 * SIGINT. The first signal drains (running steps finish for up to GracefulShutdownTimeoutSeconds, leases are
 * handed back, the outbox is flushed) and exits 0; a second signal exits at once.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../telemetry/logger.js';
import { secretsOf } from '../../telemetry/redaction.js';
import { createWorker } from '../../worker.js';
import type { CliIo } from '../io.js';

export function registerRunCommand(program: Command, io: CliIo): void {
  program
    .command('run', { isDefault: true })
    .description('start the worker: claim and run executions, serve the HTTP API (default command)')
    .option('--config-dir <dir>', 'folder holding appsettings.json', '.')
    .action(async (options: { configDir: string }) => {
      const unknown: string[] = [];
      const config = loadConfig({
        directory: options.configDir,
        env: io.env,
        onUnknownKey: (k) => unknown.push(k),
      });
      const log = createLogger({ config: config.Logging, secrets: secretsOf(config) });
      for (const key of unknown) log.warn({ key }, 'unknown configuration key ignored');
      const worker = await createWorker({ config, logger: log, http: true });
      await worker.start();
      await new Promise<void>((resolve) => {
        let stopping = false;
        const onSignal = (signal: NodeJS.Signals) => {
          if (stopping) {
            log.warn({ signal }, 'second signal: exiting at once; leases expire and other workers take over');
            log.flush();
            process.exit(1);
          }
          stopping = true;
          log.info({ signal }, 'draining');
          worker
            .stop()
            .catch((error) => log.error({ err: (error as Error).message }, 'shutdown failed'))
            .finally(() => {
              log.flush();
              resolve();
            });
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
    });
}
