/**
 * The {@link Bus} over NATS. The wake-up is a core NATS subject (`P.internal.wake`) that every worker listens
 * to, so an idle worker claims new work at once; lifecycle events and refused inputs are published to
 * JetStream with a `Nats-Msg-Id`, so a re-publish after a crash is dropped by the broker.
 *
 * Everything also happens locally, as on the in-process bus: `wake()` wakes this worker without the round trip
 * (its connection does not receive its own publishes), and `onEvent` listeners (the SSE stream) get the events
 * this worker published. Events another worker published reach the SSE stream through the outbox table.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { z } from 'zod';
import { errorMessage } from '../../errorMessage.js';
import { type Bus, InProcessBus, type WakeHint } from '../../host/bus.js';
import type { LifecycleEvent, RejectedInput } from '../../host/events.js';
import type { Logger } from '../../telemetry/logger.js';
import { AckedPublisher } from './ackedPublisher.js';
import { NatsTransportError } from './errors.js';
import type { NatsNames } from './names.js';

export interface NatsBusOptions {
  /** how long a publish waits for JetStream's acknowledgement; default 5 s */
  publishTimeoutMs?: number;
}

const wakeHintSchema = z.object({ cancelled: z.string().uuid().optional() });
const decoder = new TextDecoder();

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
  private readonly publisher: AckedPublisher;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: NatsNames,
    private readonly log: Logger,
    options: NatsBusOptions = {},
  ) {
    this.publisher = new AckedPublisher(nc, options.publishTimeoutMs ?? 5000);
    this.wakeSubscription = nc.subscribe(names.wake, {
      callback: (error, msg) => {
        if (!error) this.local.wake(this.hintOf(msg.data));
      },
    });
  }

  wake(hint: WakeHint = {}): void {
    this.local.wake(hint);
    if (this.closed || this.nc.isClosed()) return;
    try {
      // Core NATS: at most once, buffered while reconnecting. A lost wake-up costs a poll interval (a lost
      // cancellation hint, the run's next lease renewal), no more.
      this.nc.publish(this.names.wake, hint.cancelled ? JSON.stringify(hint) : undefined);
    } catch (error) {
      this.log.debug({ err: errorMessage(error) }, 'wake-up not published');
    }
  }

  /** An empty wake-up, or one saying which execution was cancelled; anything else is a plain wake-up. */
  private hintOf(data: Uint8Array): WakeHint {
    if (data.length === 0) return {};
    try {
      const parsed = wakeHintSchema.safeParse(JSON.parse(decoder.decode(data)));
      if (parsed.success) return parsed.data.cancelled ? { cancelled: parsed.data.cancelled } : {};
    } catch {
      // not JSON: fall through
    }
    this.log.debug({ subject: this.names.wake }, 'wake-up with an unreadable body: taken as a plain one');
    return {};
  }

  onWake(listener: (hint: WakeHint) => void): () => void {
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
    this.publisher.close();
    if (!this.nc.isClosed()) this.wakeSubscription.unsubscribe();
    await this.local.close();
  }

  private async publish(subject: string, payload: object, msgID: string): Promise<void> {
    try {
      await this.publisher.publish(subject, JSON.stringify(payload), msgID);
    } catch (error) {
      throw new NatsTransportError(
        'NATS_PUBLISH_FAILED',
        `cannot publish to ${subject}: ${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
  }
}
