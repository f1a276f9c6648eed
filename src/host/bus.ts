/**
 * The bus: how the host tells the cluster that something happened. Over NATS (transport/nats) the wake-up is
 * a core subject every worker listens to and events go to JetStream; without NATS this in-process bus plays
 * the same role inside one process. The host only knows this interface.
 */
import { EventEmitter } from 'node:events';
import type { LifecycleEvent, RejectedInput } from './events.js';

export interface Bus {
  /** work became claimable: idle workers should claim now rather than at the next poll */
  wake(): void;
  onWake(listener: () => void): () => void;
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

  wake(): void {
    this.emitter.emit('wake');
  }
  onWake(listener: () => void): () => void {
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
