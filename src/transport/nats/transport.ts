/**
 * The NATS transport as the worker composes it: one connection, the streams, the bus, and the intake consumer.
 *
 * ```ts
 * const nats = await createNatsTransport(config, { name: workerId, log }); // connect (or throw)
 * const host = new WorkerHost({ …, bus: nats.bus });
 * await nats.ensureStreams();           // at start, before the host publishes anything
 * host.start();
 * nats.startIntake(service);            // inputs flow once the host runs
 * // … shutdown, in this order:
 * await nats.stopIntake();              // no new inputs; those in flight are committed and acknowledged
 * await host.stop();                    // the relay's last events still go out over NATS
 * await nats.close();                   // wake-ups off, buffered publishes flushed, connection closed
 * ```
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Config } from '../../config.js';
import type { ExecutionService } from '../../host/service.js';
import type { Logger } from '../../telemetry/logger.js';
import { NatsBus } from './bus.js';
import { connectNats, type NatsLink } from './connection.js';
import { NatsIntakeConsumer } from './consumer/intake.js';
import { type NatsNames, natsNames } from './names.js';
import { ACK_WAIT_MS, ensureStreams } from './streams.js';

/** Tuning that is not configuration: the contract fixes these; tests shorten them. */
export interface NatsTransportOptions {
  /** how long an input for an unknown execution waits for its start; default 60 s  */
  unknownExecutionGraceMs?: number;
  /** how long a publish waits for JetStream's acknowledgement; default 5 s */
  publishTimeoutMs?: number;
  /** delay before an input that failed unexpectedly is delivered again; default 30 s */
  unexpectedErrorDelayMs?: number;
}

export interface NatsTransport {
  readonly names: NatsNames;
  readonly link: NatsLink;
  readonly bus: NatsBus;
  /** connected now: the `nats` check of `/readyz` */
  isReady(): boolean;
  /** age of the oldest input this worker holds unacknowledged (0: none, or no intake) */
  oldestUnackedSeconds(): number;
  ensureStreams(): Promise<void>;
  startIntake(service: Pick<ExecutionService, 'start' | 'resume' | 'cancel'>): void;
  stopIntake(): Promise<void>;
  close(): Promise<void>;
}

export async function createNatsTransport(
  config: Config,
  context: { name: string; log: Logger; options?: NatsTransportOptions },
): Promise<NatsTransport> {
  const { Nats } = config;
  if (!Nats.Url) throw new Error('createNatsTransport needs Nats.Url');
  const log = context.log.child({ component: 'nats' });
  const names = natsNames(Nats.SubjectPrefix);
  const link = await connectNats({ ...Nats, Url: Nats.Url }, `prfactory-worker ${context.name}`, log);
  const timeout = context.options?.publishTimeoutMs ?? 5000;
  const js = jetstream(link.nc, { timeout });
  const bus = new NatsBus(link.nc, names, log, { publishTimeoutMs: timeout });
  const ensure = async () => {
    const jsm = await jetstreamManager(link.nc, { timeout });
    await ensureStreams(jsm, names, { eventRetentionDays: Nats.EventRetentionDays }, log);
  };
  let intake: NatsIntakeConsumer | undefined;

  return {
    names,
    link,
    bus,
    isReady: () => link.isConnected(),
    oldestUnackedSeconds: () => intake?.oldestUnackedSeconds() ?? 0,
    ensureStreams: ensure,
    startIntake(service) {
      if (intake) throw new Error('the NATS intake was started already');
      intake = new NatsIntakeConsumer(
        { js, names, service, bus, log: context.log, ensureStreams: ensure },
        {
          concurrency: Nats.IntakeConcurrency,
          ackWaitMs: ACK_WAIT_MS,
          unknownExecutionGraceMs: context.options?.unknownExecutionGraceMs ?? 60_000,
          maxRedeliveries: Nats.MaxRedeliveries,
          ...(context.options?.unexpectedErrorDelayMs !== undefined && {
            unexpectedErrorDelayMs: context.options.unexpectedErrorDelayMs,
          }),
        },
      );
      intake.start();
    },
    async stopIntake() {
      await intake?.stop();
    },
    async close() {
      await intake?.stop();
      await bus.close();
      await link.close();
    },
  };
}
