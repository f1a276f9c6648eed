/**
 * The NATS door: takes inputs from the shared durable consumer `<PREFIX>_WORKER` and hands them to the same
 * intake as the HTTP API. Consume, commit, then acknowledge:
 *
 *   message ─▶ route by subject, JSON, zod (intake) ─▶ database commit ─▶ ack
 *                                         └─ refused ─▶ P.events.rejected ─▶ term
 *                                         └─ not yet (unknown execution, database down) ─▶ nak(delay)
 *
 *   created ─start()─▶ running ─stop()─▶ stopping ─▶ stopped
 *
 * running: pulls with `fetch`, asking each time for no more messages than it has free handlers, so it never
 *   holds more than `concurrency` (the client's `consume()` prefetches 100 by default and refills ahead, so slow
 *   handlers' messages would run out their ack wait and go to other workers). A handler that takes long calls
 *   `working()`. Inputs of one execution are handled one after another, in the order they arrived, so two
 *   resumes published in order are kept in that order.
 * stopping: asks for nothing more; the pull request still open is let run out (at most {@link FETCH_EXPIRES_MS})
 *   rather than abandoned — JetStream would deliver to an abandoned request and the messages would wait out
 *   their ack wait — and whatever it still brings is given back at once (`nak()`); handlers in flight finish
 *   and acknowledge.
 *
 * A message is acknowledged only after its commit, so a worker that dies loses nothing: JetStream redelivers
 * after the ack wait and the database inbox makes the second delivery a no-op.
 */
import {
  type Consumer,
  type ConsumerMessages,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import { errorMessage } from '../../../errorMessage.js';
import type { Bus } from '../../../host/bus.js';
import { InvalidInputError } from '../../../host/errors.js';
import { type InputMeta, parseRequest } from '../../../host/messages.js';
import type { Accepted, ExecutionService } from '../../../host/service.js';
import type { Logger } from '../../../telemetry/logger.js';
import { messageIdProblem } from '../messageIds.js';
import type { NatsNames } from '../names.js';
import { dispositionOf, transientDelayMs } from './disposition.js';
import { orderKey, type Received, receive } from './received.js';

export type NatsIntakeState = 'created' | 'running' | 'stopping' | 'stopped';

/**
 * How long one pull request stays open at the server. Short enough that a stop waits little for it, long
 * enough that an idle worker sends one request every 2 s, not a stream of them (the minimum is 1 s).
 */
export const FETCH_EXPIRES_MS = 2000;

export interface NatsIntakeDeps {
  js: JetStreamClient;
  names: NatsNames;
  service: Pick<ExecutionService, 'start' | 'resume' | 'cancel'>;
  bus: Pick<Bus, 'publishRejected'>;
  log: Logger;
  /** re-creates the streams and the consumer when JetStream reports them gone */
  ensureStreams?: () => Promise<void>;
}

export interface NatsIntakeOptions {
  /** messages held at once, handled or about to be (`Nats.IntakeConcurrency`) */
  concurrency: number;
  /** the consumer's ack wait; a running handler calls `working()` every third of it */
  ackWaitMs: number;
  /** how long an input for an unknown execution waits for its start before it is refused (60 s) */
  unknownExecutionGraceMs: number;
  /** redeliveries of an input that fails unexpectedly before it is refused (`Nats.MaxRedeliveries`) */
  maxRedeliveries: number;
  /** delay before each such redelivery (default 30 s) */
  unexpectedErrorDelayMs?: number;
}

function isMissing(error: unknown): boolean {
  if (error instanceof JetStreamApiError) {
    return (
      error.code === JetStreamApiCodes.ConsumerNotFound || error.code === JetStreamApiCodes.StreamNotFound
    );
  }
  return /consumer not found|stream not found|consumer deleted/i.test(errorMessage(error));
}

export class NatsIntakeConsumer {
  private state: NatsIntakeState = 'created';
  private fetching: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** when each message this worker holds unsettled was delivered (ms, monotonic): what makes intake "stuck" */
  private readonly held = new Map<JsMsg, number>();
  private readonly chains = new Map<string, Promise<void>>();
  private pauseTimer: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private readonly log: Logger;

  constructor(
    private readonly deps: NatsIntakeDeps,
    private readonly options: NatsIntakeOptions,
  ) {
    this.log = deps.log.child({ component: 'nats-intake' });
  }

  get status(): NatsIntakeState {
    return this.state;
  }

  /**
   * Seconds the oldest message this worker holds has waited for its ack, nak or term (0 when it holds none). A
   * handler that never returns — a database call that hangs, a lock never granted — shows here, while the
   * consumer's other messages may go on flowing.
   */
  oldestUnackedSeconds(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const at of this.held.values()) oldest = Math.min(oldest, at);
    return oldest === Number.POSITIVE_INFINITY ? 0 : (performance.now() - oldest) / 1000;
  }

  start(): void {
    if (this.state !== 'created') throw new Error(`NATS intake cannot start from state ${this.state}`);
    this.setState('running');
    this.loop = this.run();
  }

  /** Asks for nothing more, gives back what still comes, waits for the handlers in flight. */
  async stop(): Promise<void> {
    if (this.state === 'created') {
      this.setState('stopped');
      return;
    }
    if (this.state !== 'running') return;
    this.setState('stopping');
    if (this.pauseTimer) {
      clearTimeout(this.pauseTimer.timer);
      this.pauseTimer.resolve();
    }
    this.wakeSlotWaiter();
    // A request cut off by a lost connection never runs out: close it after its time is surely up.
    const abandon = setTimeout(() => void this.fetching?.close().catch(() => {}), FETCH_EXPIRES_MS + 1000);
    await this.loop;
    clearTimeout(abandon);
    await Promise.all([...this.inFlight]);
    this.setState('stopped');
  }

  private setState(state: NatsIntakeState): void {
    this.log.info({ from: this.state, to: state }, 'NATS intake state');
    this.state = state;
  }

  private async run(): Promise<void> {
    const { js, names } = this.deps;
    let consumer: Consumer | undefined;
    let failures = 0;
    while (this.state === 'running') {
      await this.freeSlot();
      if (this.state !== 'running') break;
      try {
        consumer ??= await js.consumers.get(names.inboxStream, names.consumer);
        const batch = this.options.concurrency - this.inFlight.size;
        const messages = await consumer.fetch({ max_messages: batch, expires: FETCH_EXPIRES_MS });
        this.fetching = messages;
        for await (const msg of messages) {
          // a request re-issued after a reconnect may bring more than was free when it was made
          await this.freeSlot();
          if (this.state !== 'running') {
            msg.nak(); // never started: another worker takes it now rather than after the ack wait
            continue;
          }
          this.dispatch(msg);
        }
        failures = 0;
      } catch (error) {
        consumer = undefined;
        if (this.state !== 'running') break;
        // once per outage, then once a minute: a NATS that stays away must not flood the log
        failures++;
        const fields = { err: errorMessage(error), failures };
        if (failures === 1 || failures % 60 === 0)
          this.log.warn(fields, 'NATS pull failed; pulling again in 1 s');
        else this.log.debug(fields, 'NATS pull failed again');
        if (isMissing(error)) await this.recreate();
        await this.pause(1000);
      } finally {
        this.fetching = undefined;
      }
    }
  }

  private slotWaiter: (() => void) | undefined;

  /** Resolves when a handler is free (at once when one is), or when stopping. */
  private async freeSlot(): Promise<void> {
    while (this.state === 'running' && this.inFlight.size >= this.options.concurrency) {
      await new Promise<void>((resolve) => {
        this.slotWaiter = resolve;
      });
    }
  }

  private wakeSlotWaiter(): void {
    const waiter = this.slotWaiter;
    this.slotWaiter = undefined;
    waiter?.();
  }

  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      this.pauseTimer = { timer: setTimeout(resolve, ms), resolve };
    });
    this.pauseTimer = undefined;
  }

  /** The stream or consumer is gone (a NATS that lost its storage, an operator's mistake): create it again. */
  private async recreate(): Promise<void> {
    if (!this.deps.ensureStreams) return;
    this.log.warn('NATS inbox stream or consumer missing: creating it again');
    await this.deps
      .ensureStreams()
      .catch((error) =>
        this.log.error({ err: errorMessage(error) }, 'NATS streams could not be created again'),
      );
  }

  private dispatch(msg: JsMsg): void {
    const received = receive(msg, this.deps.names);
    const key = orderKey(received);
    this.held.set(msg, performance.now());
    // from now until it is settled, also while it waits for an earlier input of its execution
    const keepAlive = setInterval(() => msg.working(), Math.max(1000, this.options.ackWaitMs / 3));
    const task = (this.chains.get(key) ?? Promise.resolve()).then(() =>
      this.handle(received).catch((error) =>
        // only the connection closing under ack/nak/term gets here: the message is redelivered after its ack wait
        this.log.warn({ subject: received.subject, err: errorMessage(error) }, 'NATS input left unsettled'),
      ),
    );
    this.chains.set(key, task);
    this.inFlight.add(task);
    void task.finally(() => {
      clearInterval(keepAlive);
      this.held.delete(msg);
      this.inFlight.delete(task);
      if (this.chains.get(key) === task) this.chains.delete(key);
      this.wakeSlotWaiter();
    });
  }

  /** Every path ends in ack, nak or term; it throws only when the connection closed under one of them. */
  private async handle(received: Received): Promise<void> {
    const { msg, subject, messageId } = received;
    const delivery = msg.info.deliveryCount;
    let accepted: Accepted;
    try {
      accepted = await this.apply(received);
    } catch (error) {
      const disposition = dispositionOf(error, delivery, this.options);
      if (disposition.action === 'refuse') {
        await this.refuse(received, disposition.reason);
        return;
      }
      msg.nak(disposition.delayMs);
      const fields = {
        subject,
        messageId,
        delivery,
        delayMs: disposition.delayMs,
        reason: disposition.reason,
      };
      if (disposition.unexpected) this.log.error(fields, 'NATS input failed unexpectedly; redelivered later');
      else this.log.info(fields, 'NATS input not taken yet; redelivered later');
      return;
    }
    msg.ack();
    this.log.debug(
      { subject, messageId, executionId: accepted.executionId, status: accepted.status },
      accepted.created ? 'NATS input accepted' : 'NATS input seen before: acknowledged again',
    );
  }

  private apply(received: Received): Promise<Accepted> {
    const { route, body, unreadable } = received;
    if (route.kind === 'unknown') throw new InvalidInputError(route.reason);
    if (unreadable !== undefined) throw new InvalidInputError(unreadable);
    const idProblem = messageIdProblem(route, body, received.msgIdHeader);
    if (idProblem) {
      // A body that fails its schema says more about what is wrong than its id does.
      parseRequest[route.kind](body);
      throw new InvalidInputError(idProblem);
    }
    const meta: InputMeta = { source: 'nats', traceParent: received.traceParent };
    const { service } = this.deps;
    switch (route.kind) {
      case 'start':
        if (body && typeof body === 'object' && !Array.isArray(body) && !('executionId' in body)) {
          // over HTTP the worker can answer with the id it chose; over NATS a redelivered start would get another
          throw new InvalidInputError(
            'start request: executionId: required over NATS (a UUID chosen by the publisher)',
          );
        }
        return service.start(body, meta);
      case 'resume':
        return service.resume(route.executionId, body, meta);
      case 'cancel':
        return service.cancel(route.executionId, body, meta);
    }
  }

  /** Announces, then terminates; a notice that cannot be published now is tried again with the redelivery. */
  private async refuse(received: Received, reason: string): Promise<void> {
    const { msg, subject, messageId } = received;
    this.log.warn({ subject, messageId, reason }, 'NATS input refused');
    try {
      await this.deps.bus.publishRejected({ subject, reason, messageId, at: new Date().toISOString() });
    } catch (error) {
      this.log.warn(
        { subject, messageId, err: errorMessage(error) },
        'refusal notice not published; the input is redelivered and refused again',
      );
      msg.nak(transientDelayMs(msg.info.deliveryCount));
      return;
    }
    // Plain term(): with a reason, NATS 2.9 redelivers the message (term with a reason needs 2.10.4+).
    msg.term();
  }
}
