/**
 * `prfactory-worker run` (the default command): start the host and the HTTP API, and stay up until SIGTERM or
 * SIGINT. The first signal drains (running steps finish for up to GracefulShutdownTimeoutSeconds, leases are
 * handed back, the outbox is flushed) and exits 0; a second signal exits at once.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { secretsOf } from '../../redaction.js';
import { createLogger } from '../../telemetry/logger.js';
import { createSystemdNotifier } from '../../telemetry/systemdNotify.js';
import { createWorker } from '../../worker.js';
import type { CliIo } from '../io.js';

/** Port 8081: Stately's inspector server defaults to 8080, which is this worker's HTTP API. */
const DEFAULT_INSPECTOR_URL = 'ws://127.0.0.1:8081';

export function registerRunCommand(program: Command, io: CliIo): void {
  program
    .command('run', { isDefault: true })
    .description('start the worker: claim and run executions, serve the HTTP API (default command)')
    .option('--config-dir <dir>', 'folder holding appsettings.json', '.')
    .option(
      '--inspect [ws-url]',
      'send XState inspection events (context sanitized) to a Stately WebSocket inspector',
    )
    .action(async (options: { configDir: string; inspect?: string | true }) => {
      const unknown: string[] = [];
      const config = loadConfig({
        directory: options.configDir,
        env: io.env,
        onUnknownKey: (k) => unknown.push(k),
      });
      const log = createLogger({ config: config.Logging, secrets: secretsOf(config) });
      for (const key of unknown) log.warn({ key }, 'unknown configuration key ignored');
      const inspectorUrl = options.inspect === true ? DEFAULT_INSPECTOR_URL : options.inspect;
      // Loaded only when asked for: the inspector's packages are a development tool's.
      const inspector = inspectorUrl
        ? (await import('../../telemetry/inspector.js')).createWebSocketInspector({
            url: inspectorUrl,
            secrets: secretsOf(config),
            onStatus: (status, detail) =>
              status === 'open'
                ? log.info({ url: inspectorUrl }, 'inspector connected')
                : log.warn({ url: inspectorUrl, detail }, 'inspector unreachable: its events wait, retrying'),
          })
        : undefined;
      if (inspector) log.info({ url: inspectorUrl }, 'inspector on');
      const worker = await createWorker({
        config,
        logger: log,
        http: true,
        ...(inspector && { inspect: inspector.inspect }),
      });
      // systemd (Type=notify): READY=1 once migrations are applied, NATS streams and intake are up (start()),
      // the HTTP API listens, and the claim loop has made its first pass; STOPPING=1 when draining begins.
      const notifier = createSystemdNotifier({ env: io.env, log });
      // The signal handlers are in place before the worker starts: /healthz answers as soon as the HTTP API
      // listens, before the first claim pass, and a SIGTERM from then on must drain like any other instead of
      // ending the process by the signal.
      const started = worker.start();
      await new Promise<void>((resolve, reject) => {
        let stopping = false;
        const onSignal = (signal: NodeJS.Signals) => {
          if (stopping) {
            log.warn({ signal }, 'second signal: exiting at once; leases expire and other workers take over');
            log.flush();
            process.exit(1);
          }
          stopping = true;
          log.info({ signal }, 'draining');
          const told = notifier.stopping(
            `draining: running steps may finish for ${config.AgentHost.GracefulShutdownTimeoutSeconds} s`,
          );
          // stop() closes what start() opens: it waits until start() has finished, or failed (already logged)
          started
            .catch(() => undefined)
            .then(() => worker.stop())
            .catch((error) => log.error({ err: (error as Error).message }, 'shutdown failed'))
            .finally(async () => {
              await told;
              await inspector?.stop();
              log.flush();
              resolve();
            });
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        started
          .then(() => worker.host.firstClaim)
          .then(async () => {
            if (!stopping) await notifier.ready(`claiming as ${worker.id}; HTTP on ${worker.url}`);
          })
          .catch((error) => {
            if (stopping) {
              log.error({ err: (error as Error).message }, 'start failed');
              return;
            }
            process.off('SIGTERM', onSignal);
            process.off('SIGINT', onSignal);
            reject(error);
          });
      });
    });
}
