/**
 * Every lifecycle event of the whole cluster, live (`GET /v1/events/stream`, docs/api.md), for the dashboard's
 * lists. One feed per process, whatever the number of listeners; it reads only while someone listens.
 *
 * The outbox table is the source: it holds every worker's events, whereas this process's bus carries only
 * those its own relay published (the per-execution stream reads the outbox for the rest too). The bus is used
 * as a doorbell: an event published here makes the feed read at once; otherwise it reads every `pollMs`, so
 * another worker's events arrive within about that long.
 *
 * Reading by `id` alone would lose events: a sequence number is taken at insert and a transaction may commit
 * after one that took a higher number. So the feed keeps a window: it re-reads every id above `low` that it has
 * not delivered yet, and moves `low` only to the highest id it had seen `settleMs` ago — a transaction holding
 * an outbox row that long before committing is the only way an event is missed. One execution's events are
 * written under its row lock, so they become visible in `seq` order and are delivered in that order.
 *
 * ```ts
 * const feed = new ClusterEventFeed({ db, bus });
 * const off = await feed.subscribe({ tenantId: 'acme' }, (event) => console.log(event.kind));
 * off();
 * ```
 */
import type { Kysely } from 'kysely';
import { eventsSince, newestEventId } from '../persistence/outboxTail.js';
import type { DB } from '../persistence/schema.js';
import { isTransientDatabaseError } from '../persistence/transientErrors.js';
import type { Bus } from './bus.js';
import { UnavailableError } from './errors.js';
import type { LifecycleEvent } from './events.js';

export interface EventFeedFilter {
  /** only this tenant's events */
  tenantId?: string;
}

export interface ClusterEventFeedOptions {
  db: Kysely<DB>;
  bus: Pick<Bus, 'onEvent'>;
  /** time between reads while nothing rings; default 1 s */
  pollMs?: number;
  /** how long an id may stay invisible behind a higher one and still be delivered; default 10 s */
  settleMs?: number;
  /** rows per read; default 500 */
  pageSize?: number;
}

interface Listener {
  filter: EventFeedFilter;
  listener: (event: LifecycleEvent) => void;
}

/** A read that follows a ring waits this long for more rings, and reads are at least this far apart. */
const DEBOUNCE_MS = 20;
const MIN_SPACING_MS = 100;
/** pages per read at most: a flood is read over several turns instead of holding the loop */
const MAX_PAGES = 20;

export class ClusterEventFeed {
  private readonly listeners = new Set<Listener>();
  private readonly pollMs: number;
  private readonly settleMs: number;
  private readonly pageSize: number;
  /** bumped by stop(): a read begun before belongs to a feed that no longer exists */
  private generation = 0;
  private starting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scheduled: NodeJS.Timeout | undefined;
  private offBus: (() => void) | undefined;
  private reading = false;
  private again = false;
  private lastReadAt = Number.NEGATIVE_INFINITY;
  /** every id at or below it has been delivered, or predates the feed */
  private low = 0;
  private highest = 0;
  /** ids above `low` delivered already */
  private readonly delivered = new Set<number>();
  /** the highest id seen at each read, to move `low` once `settleMs` have passed */
  private marks: { at: number; id: number }[] = [];

  constructor(private readonly options: ClusterEventFeedOptions) {
    this.pollMs = options.pollMs ?? 1000;
    this.settleMs = options.settleMs ?? 10_000;
    this.pageSize = options.pageSize ?? 500;
  }

  /**
   * Calls `listener` with every event committed after the returned promise resolves (and perhaps a few just
   * before); resolves to the unsubscribe function. Rejects when the database cannot be read to find where the
   * feed starts.
   */
  async subscribe(filter: EventFeedFilter, listener: (event: LifecycleEvent) => void): Promise<() => void> {
    const entry: Listener = { filter, listener };
    this.listeners.add(entry);
    const unsubscribe = () => {
      if (this.listeners.delete(entry) && this.listeners.size === 0) this.stop();
    };
    try {
      this.starting ??= this.start().catch((error: unknown) => {
        this.starting = undefined;
        throw error;
      });
      await this.starting;
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  /** listeners now (tests) */
  get size(): number {
    return this.listeners.size;
  }

  private async start(): Promise<void> {
    const generation = this.generation;
    const newest = await newestEventId(this.options.db).catch((error: unknown) => {
      if (!isTransientDatabaseError(error)) throw error;
      throw new UnavailableError(`database unavailable: ${(error as Error).message}`, { cause: error });
    });
    if (generation !== this.generation) return;
    this.low = newest;
    this.highest = newest;
    this.timer = setInterval(() => this.schedule(0), this.pollMs);
    this.timer.unref();
    this.offBus = this.options.bus.onEvent(() => this.schedule(DEBOUNCE_MS));
  }

  private stop(): void {
    this.generation++;
    clearInterval(this.timer);
    clearTimeout(this.scheduled);
    this.offBus?.();
    this.timer = this.scheduled = this.offBus = this.starting = undefined;
    this.reading = this.again = false;
    this.delivered.clear();
    this.marks = [];
  }

  private schedule(delayMs: number): void {
    if (this.scheduled || this.listeners.size === 0) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    const wait = Math.max(delayMs, this.lastReadAt + MIN_SPACING_MS - performance.now());
    this.scheduled = setTimeout(() => {
      this.scheduled = undefined;
      void this.read();
    }, wait);
    this.scheduled.unref();
  }

  private async read(): Promise<void> {
    const generation = this.generation;
    this.reading = true;
    this.lastReadAt = performance.now();
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const rows = await eventsSince(this.options.db, this.low, [...this.delivered], this.pageSize);
        if (generation !== this.generation) return;
        for (const row of rows) {
          this.delivered.add(row.id);
          this.highest = Math.max(this.highest, row.id);
          // the outbox holds what the host wrote as a LifecycleEvent (events.ts), nothing else
          this.deliver(row.payload as unknown as LifecycleEvent);
        }
        if (rows.length < this.pageSize) break;
      }
      this.settle(performance.now());
    } catch {
      // the database is away: the next tick reads again, from the same place
    } finally {
      if (generation === this.generation) {
        this.reading = false;
        if (this.again) {
          this.again = false;
          this.schedule(0);
        }
      }
    }
  }

  /** Moves `low` to the highest id seen `settleMs` ago, and forgets the delivered ids below it. */
  private settle(now: number): void {
    this.marks.push({ at: now, id: this.highest });
    while (this.marks.length > 0 && this.marks[0]!.at <= now - this.settleMs) {
      this.low = Math.max(this.low, this.marks.shift()!.id);
    }
    for (const id of this.delivered) if (id <= this.low) this.delivered.delete(id);
  }

  private deliver(event: LifecycleEvent): void {
    for (const { filter, listener } of this.listeners) {
      if (filter.tenantId !== undefined && event.tenantId !== filter.tenantId) continue;
      try {
        listener(event);
      } catch {
        // one listener's failure (a closed socket) is its own; the others still get the event
      }
    }
  }
}
