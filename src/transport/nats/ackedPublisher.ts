/**
 * Publishing to JetStream and waiting for its acknowledgement, without a request per message.
 *
 * JetStream acknowledges a publish by answering on its reply subject. nats.js's `js.publish` makes each
 * publish a request: a waiter object with its own timer and abort wiring, and — on every answered request — a
 * `RequestError("cancelled")` with a stack trace built while tidying up (3–4 % of a busy worker's main thread,
 * next to the rest of the plumbing, in the throughput bench's profile). The worker publishes a lifecycle event
 * per step, so here one wildcard subscription receives every answer, a pending publish is an entry in a map
 * keyed by its reply token, and one timer sweeps the ones that waited too long.
 *
 * What a publish promises is unchanged: it resolves once the stream stored the message (or dropped it as a
 * duplicate of its `Nats-Msg-Id`) and rejects when no stream takes the subject, JetStream refuses it, or no
 * answer comes within the timeout — after which a late answer is ignored (the message may still have been
 * stored; the caller re-publishes with the same `Nats-Msg-Id`). Publishes are written to the connection in call
 * order, as requests are, and while the client reconnects they wait in its buffer.
 */
import {
  createInbox,
  headers,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { z } from 'zod';

/**
 * JetStream's answer to a publish (`PubAck`), or its refusal — which may name the stream too, so the refusal is
 * tried first.
 */
const pubAckSchema = z.union([
  z.object({
    error: z.object({ code: z.number(), err_code: z.number().optional(), description: z.string() }),
  }),
  z.object({ stream: z.string().min(1), seq: z.number().int(), duplicate: z.boolean().optional() }),
]);

export interface PubAck {
  stream: string;
  seq: number;
  /** the stream already held a message with this `Nats-Msg-Id` (inside its duplicate window) */
  duplicate: boolean;
}

export class PublishRejected extends Error {
  override readonly name = 'PublishRejected';
  constructor(
    readonly subject: string,
    readonly reason: 'no stream' | 'refused' | 'timeout' | 'closed' | 'unreadable answer',
    message: string,
  ) {
    super(message);
  }
}

interface Waiter {
  subject: string;
  deadline: number;
  resolve(ack: PubAck): void;
  reject(error: Error): void;
}

const decoder = new TextDecoder();

export class AckedPublisher {
  private readonly inbox: string;
  private readonly subscription: Subscription;
  private readonly waiting = new Map<string, Waiter>();
  private readonly sweeper: NodeJS.Timeout;
  private counter = 0;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.inbox = createInbox();
    this.subscription = nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => this.answer(error, msg),
    });
    // A quarter of the timeout at most late; the timer runs whether or not anything waits (one check a second).
    this.sweeper = setInterval(() => this.expire(), Math.min(1000, Math.max(10, timeoutMs / 4)));
    this.sweeper.unref();
  }

  /** Resolves when JetStream stored the message (or dropped it as a duplicate); see the module comment. */
  publish(subject: string, data: string, messageId: string): Promise<PubAck> {
    if (this.closed) {
      return Promise.reject(new PublishRejected(subject, 'closed', 'the publisher is closed'));
    }
    const token = (this.counter++).toString(36);
    const h = headers();
    h.set('Nats-Msg-Id', messageId);
    return new Promise<PubAck>((resolve, reject) => {
      this.waiting.set(token, { subject, deadline: performance.now() + this.timeoutMs, resolve, reject });
      try {
        this.nc.publish(subject, data, { reply: `${this.inbox}.${token}`, headers: h });
      } catch (error) {
        this.waiting.delete(token);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Rejects what still waits and stops listening (the connection belongs to the caller). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    for (const [token, waiter] of this.waiting) {
      this.waiting.delete(token);
      waiter.reject(
        new PublishRejected(waiter.subject, 'closed', 'the publisher closed before JetStream answered'),
      );
    }
    if (!this.nc.isClosed()) this.subscription.unsubscribe();
  }

  private answer(error: Error | null, msg: Msg): void {
    if (error) return; // the subscription's own failure: what waits times out
    const token = msg.subject.slice(this.inbox.length + 1);
    const waiter = this.waiting.get(token);
    if (!waiter) return; // answered after its timeout
    this.waiting.delete(token);
    // The server answers "no responders" (status 503, no body) when nothing subscribes to the subject: no
    // stream takes it.
    if (msg.headers?.code === 503) {
      waiter.reject(
        new PublishRejected(waiter.subject, 'no stream', 'no responders: no JetStream stream takes it'),
      );
      return;
    }
    let parsed: z.infer<typeof pubAckSchema> | undefined;
    try {
      const result = pubAckSchema.safeParse(JSON.parse(decoder.decode(msg.data)));
      parsed = result.success ? result.data : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed) {
      waiter.reject(
        new PublishRejected(waiter.subject, 'unreadable answer', 'JetStream answered with no PubAck'),
      );
    } else if ('error' in parsed) {
      const { code, err_code, description } = parsed.error;
      waiter.reject(
        new PublishRejected(
          waiter.subject,
          'refused',
          `JetStream refused it: ${description} (${code}${err_code ? `/${err_code}` : ''})`,
        ),
      );
    } else {
      waiter.resolve({ stream: parsed.stream, seq: parsed.seq, duplicate: parsed.duplicate ?? false });
    }
  }

  private expire(): void {
    const now = performance.now();
    // In publish order, so in deadline order (one timeout for all): the first still in time ends the sweep.
    for (const [token, waiter] of this.waiting) {
      if (waiter.deadline > now) break;
      this.waiting.delete(token);
      waiter.reject(
        new PublishRejected(
          waiter.subject,
          'timeout',
          `no acknowledgement from JetStream within ${this.timeoutMs} ms`,
        ),
      );
    }
  }
}
