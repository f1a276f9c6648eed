/**
 * The {@link Bus} over NATS. The wake-up is a core NATS subject (`P.internal.wake`) that every worker listens
 * to, so an idle worker claims new work at once; lifecycle events and refused inputs are published to
 * JetStream with a `Nats-Msg-Id`, so a re-publish after a crash is dropped by the broker.
 *
 * Everything also happens locally, as on the in-process bus: `wake()` wakes this worker without the round trip
 * (its connection does not receive its own publishes), and `onEvent` listeners (the SSE stream) get the events
 * this worker published. Events another worker published reach the SSE stream through the outbox table.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { type Bus, InProcessBus } from '../../host/bus.js';
import type { LifecycleEvent, RejectedInput } from '../../host/events.js';
import type { Logger } from '../../telemetry/logger.js';
import { messageOf, NatsTransportError } from './errors.js';
import type { NatsNames } from './names.js';

export interface NatsBusOptions {
  /** how long a publish waits for JetStream's acknowledgement; default 5 s */
  publishTimeoutMs?: number;
}

/** The `Nats-Msg-Id` of a lifecycle event: one per execution and `seq`. */
export function eventMessageId(event: Pick<LifecycleEvent, 'executionId' | 'seq'>): string {
  return `${event.executionId}:${event.seq}`;
}

/** The `Nats-Msg-Id` of a refusal notice: one per refused input. */
export function rejectedMessageId(notice: Pick<RejectedInput, 'subject' | 'messageId'>): string {
  return `rejected:${notice.subject}:${notice.messageId}`;
}

export class NatsBus implements Bus {
  private readonly local = new InProcessBus();
  private readonly wakeSubscription: Subscription;
  private readonly publishTimeoutMs: number;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly names: NatsNames,
    private readonly log: Logger,
    options: NatsBusOptions = {},
  ) {
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5000;
    this.wakeSubscription = nc.subscribe(names.wake, {
      callback: (error) => {
        if (!error) this.local.wake();
      },
    });
  }

  wake(): void {
    this.local.wake();
    if (this.closed || this.nc.isClosed()) return;
    try {
      // Core NATS: at most once, buffered while reconnecting. A lost wake-up costs a poll interval, no more.
      this.nc.publish(this.names.wake);
    } catch (error) {
      this.log.debug({ err: messageOf(error) }, 'wake-up not published');
    }
  }

  onWake(listener: () => void): () => void {
    return this.local.onWake(listener);
  }

  async publishEvent(event: LifecycleEvent): Promise<void> {
    await this.publish(this.names.event(event.executionId, event.kind), event, eventMessageId(event));
    await this.local.publishEvent(event);
  }

  onEvent(listener: (event: LifecycleEvent) => void): () => void {
    return this.local.onEvent(listener);
  }

  async publishRejected(notice: RejectedInput): Promise<void> {
    await this.publish(this.names.rejected, notice, rejectedMessageId(notice));
    await this.local.publishRejected(notice);
  }

  onRejected(listener: (notice: RejectedInput) => void): () => void {
    return this.local.onRejected(listener);
  }

  /** Stops listening for wake-ups; the connection belongs to the transport, which closes it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.nc.isClosed()) this.wakeSubscription.unsubscribe();
    await this.local.close();
  }

  private async publish(subject: string, payload: object, msgID: string): Promise<void> {
    try {
      await this.js.publish(subject, JSON.stringify(payload), { msgID, timeout: this.publishTimeoutMs });
    } catch (error) {
      throw new NatsTransportError(
        'NATS_PUBLISH_FAILED',
        `cannot publish to ${subject}: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
  }
}
