/**
 * Composition: a worker is the database, the graph registry with its agents and ports, the host, the
 * service every door uses and (optionally) the HTTP API — built from one configuration.
 */

import type { AgentFn } from './actors/agent.js';
import { builtInAgents } from './actors/index.js';
import type { Ports } from './actors/ports.js';
import { tenantTokensOf } from './apiTokens.js';
import { type Config, type ConfigInput, parseConfig, workerIdOf } from './config.js';
import { type Bus, InProcessBus } from './host/bus.js';
import { createExecutionService } from './host/executionService.js';
import { type HostDeps, WorkerHost } from './host/host.js';
import { Intake } from './host/intake.js';
import type { RunOutcome } from './host/runner.js';
import type { ExecutionService } from './host/service.js';
import { createDefaultPorts } from './integrations/index.js';
import { ProviderBreakers } from './integrations/llm/providerBreakers.js';
import { createTrackerServices, type TrackerServices } from './integrations/trackers/services.js';
import type { Trackers } from './integrations/trackers/tracker.js';
import type { GraphDefinition } from './machines/graph.js';
import { builtInGraphs, GraphRegistry } from './machines/registry.js';
import { type Database, openDatabase } from './persistence/database.js';
import { migrateToLatest, migrationChanged } from './persistence/migrate.js';
import { redactUrl } from './redaction.js';
import { createTelemetry, type Telemetry } from './telemetry/index.js';
import { type Logger, silentLogger } from './telemetry/logger.js';
import { githubSettings, jiraSettings } from './trackerSettings.js';
import { connectionCapOf } from './transport/http/connectionCap.js';
import { createHttpServer } from './transport/http/server.js';
import { createNatsTransport, type NatsTransportOptions } from './transport/nats/transport.js';
import { CommentPoller } from './webhooks/commentPoller.js';
import { DeliveryHandler } from './webhooks/deliveryHandler.js';

export interface WorkerOptions {
  /** a validated configuration, or raw keys validated here (defaults fill the rest) */
  config?: Config | ConfigInput;
  /** graphs registered besides the built-in four (or new versions of them) */
  graphs?: GraphDefinition[];
  /** agents by actor key, added to (or replacing) the built-in ones */
  agents?: Record<string, AgentFn<never, unknown>>;
  /** adapters replacing the defaults chosen by configuration */
  ports?: Partial<Ports>;
  logger?: Logger;
  /** the bus; default: over NATS when `Nats.Url` is set, else in-process */
  bus?: Bus;
  /** tuning of the NATS transport (used when `Nats.Url` is set); the defaults are the contract's */
  nats?: NatsTransportOptions;
  /** metrics and traces; default: the worker's own, exported as the `OTEL_*` variables say */
  telemetry?: Telemetry;
  /** XState inspection of every actor (`run --inspect`); context must be sanitized by the observer */
  inspect?: HostDeps['inspect'];
  /** serve the HTTP API on Http.Host:Http.Port */
  http?: boolean;
  /** the built dashboard's folder served at `/ui/`; default `dist/ui` of this package (tests point elsewhere) */
  uiRoot?: string;
  /** told of every run's end on this worker */
  onRunEnd?: (info: { executionId: string; outcome: RunOutcome }) => void;
  /**
   * each tenant's GitHub and Jira, for the tickets and pull requests ports, git, the webhooks and the comment
   * poller; default: made from the configuration (`Tenants.<id>.GitHub`, `.Jira`)
   */
  trackerServices?: TrackerServices;
  /** the trackers the ports, the webhooks and the poller use instead of `trackerServices`' own (tests) */
  trackers?: Trackers;
}

export interface Worker {
  readonly config: Config;
  readonly id: string;
  readonly database: Database;
  readonly registry: GraphRegistry;
  readonly service: ExecutionService;
  readonly host: WorkerHost;
  readonly telemetry: Telemetry;
  /** the HTTP API's address once started with `http: true` */
  readonly url: string | undefined;
  /** migrate, start claiming, and listen when `http` is set */
  start(): Promise<void>;
  /** drain (see WorkerHost.stop), stop listening, close the database */
  stop(timeoutMs?: number): Promise<void>;
}

function isValidated(config: Config | ConfigInput | undefined): config is Config {
  return !!config && typeof (config as Config).AgentFramework?.AgentTimeout === 'number';
}

export async function createWorker(options: WorkerOptions = {}): Promise<Worker> {
  const config = isValidated(options.config) ? options.config : parseConfig(options.config ?? {});
  const log = options.logger ?? silentLogger();
  const id = workerIdOf(config);
  const registry = new GraphRegistry(builtInGraphs);
  for (const graph of options.graphs ?? []) registry.register(graph);
  const agents = { ...builtInAgents, ...options.agents } as Record<string, AgentFn<never, unknown>>;
  for (const graph of registry.list()) {
    for (const key of Object.keys(graph.machine.implementations.actors ?? {})) {
      if (!agents[key])
        throw new Error(`graph ${graph.id} invokes agent "${key}", which no agent implements`);
    }
  }

  log.info(
    {
      database: config.Database.Url
        ? redactUrl(config.Database.Url)
        : `pglite:${config.Database.DataDirectory}`,
    },
    'opening database',
  );
  const database = await openDatabase(config.Database, log);
  const telemetry =
    options.telemetry ??
    (await createTelemetry({ workerId: id, tracingEnabled: config.AgentFramework.EnableTracing }));
  const breakers = new ProviderBreakers();
  const built = options.trackerServices ?? createTrackerServices({ config, breakers, log });
  const trackerServices = options.trackers ? { ...built, trackers: options.trackers } : built;
  const { trackers } = trackerServices;
  const ports: Ports = {
    ...createDefaultPorts({ config, db: database.db, telemetry, log, breakers, trackerServices }),
    ...options.ports,
  };

  // NATS (when configured): connected now, so that the host publishes through it from its first event; a worker
  // told to use NATS does not start without it.
  const nats = config.Nats.Url
    ? await createNatsTransport(config, {
        name: id,
        log,
        ...(options.nats && { options: options.nats }),
      }).catch(async (error: unknown) => {
        await database.close();
        await telemetry.shutdown();
        throw error;
      })
    : undefined;
  const bus = options.bus ?? nats?.bus ?? new InProcessBus();
  const host = new WorkerHost({
    config,
    telemetry,
    ...(options.inspect && { inspect: options.inspect }),
    database,
    registry,
    agents,
    ports,
    bus,
    log,
    owner: id,
    ...(options.onRunEnd && { onRunEnd: options.onRunEnd }),
  });
  const intake = new Intake({
    database,
    registry,
    allowLocalRepositories: config.AgentHost.AllowLocalRepositories,
    hasTracker: (tenantId, system) =>
      (system === 'github' ? githubSettings(config, tenantId) : jiraSettings(config, tenantId)) !== null,
    wake: (hint) => bus.wake(hint),
    resumeClaimer: host,
    // A cancellation ends an execution on the worker that took the request, not in a runner.
    onCancelled: ({ graph, createdAt }) =>
      telemetry.metrics.workflowCompleted(graph, 'cancelled', (Date.now() - createdAt.getTime()) / 1000),
    // Their refusal notices were written with the cancel (rejections); the relay publishes them.
    onDropped: (dropped) => {
      for (const d of dropped) log.warn({ eventId: d.id, executionId: d.executionId }, 'kept resume dropped');
    },
  });
  const service = createExecutionService({
    db: database.db,
    tickets: ports.tickets,
    intake,
    bus,
    registry,
    readinessChecks: {
      database: () => database.ping(),
      host: async () => host.status === 'running',
      ...(nats && {
        nats: async () => nats.isReady(),
        // Only what this worker holds: another worker's stall never turns this one unready.
        intake: async () => nats.oldestUnackedSeconds() < config.Nats.StuckSeconds,
      }),
    },
  });
  if (nats) telemetry.metrics.observeIntakeOldestUnacked(() => nats.oldestUnackedSeconds());
  const deliveries = new DeliveryHandler({ db: database.db, service, trackers, config, log });
  const poller = new CommentPoller({ db: database.db, comments: deliveries.comments, trackers, config, log });
  const cap = options.http ? connectionCapOf(config) : undefined;
  if (cap) log.info(cap, 'HTTP connection limit');
  const http = cap
    ? createHttpServer({
        service,
        config: config.Http,
        tenantTokens: tenantTokensOf(config),
        logger: log,
        metrics: () => telemetry.metrics.prometheusText(),
        maxConnections: cap.maxConnections,
        webhooks: deliveries,
        ...(options.uiRoot !== undefined && { uiRoot: options.uiRoot }),
      })
    : undefined;
  let url: string | undefined;

  return {
    config,
    id,
    database,
    registry,
    service,
    host,
    telemetry,
    get url() {
      return url;
    },
    async start() {
      const migrated = await migrateToLatest(database.db, database.schema);
      if (migrationChanged(migrated)) log.info(migrated, 'database migrated');
      if (migrated.newer.length > 0) {
        log.warn({ newer: migrated.newer }, 'a newer worker migrated the database: its functions are kept');
      }
      await nats?.ensureStreams();
      host.start();
      poller.start();
      nats?.startIntake(service);
      if (http) url = (await http.listen()).url;
      log.info({ worker: id, url }, 'worker started');
    },
    async stop(timeoutMs?: number) {
      await nats?.stopIntake(); // first: what is taken from NATS is committed and acknowledged, nothing more taken
      await http?.close();
      await poller.stop(); // before the host drains: a comment it hands over is a resume to take in
      await host.stop(timeoutMs);
      await telemetry.shutdown(); // flushes spans and metrics still buffered
      await bus.close();
      await nats?.close();
      await database.close();
      log.info({ worker: id }, 'worker stopped');
    },
  };
}
