/**
 * The bus: how the host tells the cluster that something happened. Over NATS (transport/nats) the wake-up is
 * a core subject every worker listens to and events go to JetStream; without NATS this in-process bus plays
 * the same role inside one process. The host only knows this interface.
 */
import { EventEmitter } from 'node:events';
import type { LifecycleEvent, RejectedInput } from './events.js';

/** What a wake-up may say besides "claim now". */
export interface WakeHint {
  /** an execution was just cancelled: the worker running it checks its lease now and stops the run */
  cancelled?: string;
}

export interface Bus {
  /** work became claimable (or an execution was cancelled): workers should look now, not at the next poll */
  wake(hint?: WakeHint): void;
  onWake(listener: (hint: WakeHint) => void): () => void;
  /** a lifecycle event, published by the outbox relay (at least once, in order per execution) */
  publishEvent(event: LifecycleEvent): Promise<void>;
  /** live events for the SSE stream of this process */
  onEvent(listener: (event: LifecycleEvent) => void): () => void;
  /** a refused input, announced on `P.events.rejected` */
  publishRejected(notice: RejectedInput): Promise<void>;
  onRejected(listener: (notice: RejectedInput) => void): () => void;
  close(): Promise<void>;
}

export class InProcessBus implements Bus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  wake(hint: WakeHint = {}): void {
    this.emitter.emit('wake', hint);
  }
  onWake(listener: (hint: WakeHint) => void): () => void {
    return this.on('wake', listener);
  }
  async publishEvent(event: LifecycleEvent): Promise<void> {
    this.emitter.emit('event', event);
  }
  onEvent(listener: (event: LifecycleEvent) => void): () => void {
    return this.on('event', listener);
  }
  async publishRejected(notice: RejectedInput): Promise<void> {
    this.emitter.emit('rejected', notice);
  }
  onRejected(listener: (notice: RejectedInput) => void): () => void {
    return this.on('rejected', listener);
  }
  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }

  private on<A extends unknown[]>(name: string, listener: (...args: A) => void): () => void {
    const untyped = listener as (...args: unknown[]) => void;
    this.emitter.on(name, untyped);
    return () => this.emitter.off(name, untyped);
  }
}
