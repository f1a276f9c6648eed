/**
 * The worker's room for runs (`AgentHost.MaxConcurrentExecutions`), as one ledger that every way of claiming goes
 * through: the poll's claim, the claim riding on a checkpoint batch, and a resume's claim inside intake's call.
 *
 * A claim is made in the database, so its room must be held from before the query leaves until the runs it
 * returns are tracked; otherwise two claims in flight at once would each count the same free slots and the
 * worker would run more than its limit. Each claim takes a {@link Reservation} of the room it asks for, and ends
 * it exactly once: `commit(n)` when its `n` runs are tracked (the rest of the room goes back), `release()` when it
 * took nothing. Ending one twice is a bug and throws, so a slot can neither leak nor be freed twice.
 *
 * ```ts
 * const reservation = ledger.reserve(batchSize);          // undefined: no room
 * const claimed = await claimExecutions(…, reservation.slots);
 * for (const c of claimed) startRun(c);                   // the runs count from here
 * reservation.commit(claimed.length);
 * ```
 */

export interface Reservation {
  /** slots held for the claim */
  readonly slots: number;
  /** The claim's `runs` (≤ slots) are tracked by now; the held slots return to the ledger. */
  commit(runs: number): void;
  /** The claim took nothing (or failed); the held slots return to the ledger. */
  release(): void;
}

export class ReservationError extends Error {
  override readonly name = 'ReservationError';
  readonly code = 'RESERVATION_MISUSED';
}

export class CapacityLedger {
  private held = 0;

  /**
   * @param limit runs this worker may hold at once
   * @param runsTaking runs that count against the limit now: those that may still start a step (a run whose last
   *   write is on its way starts none, so its slot is free for the claim that write's batch makes)
   */
  constructor(
    private readonly limit: number,
    private readonly runsTaking: () => number,
  ) {}

  /** Slots neither held by a claim nor taken by a run. */
  free(): number {
    return Math.max(0, this.limit - this.held - this.runsTaking());
  }

  /** Slots held by claims in flight. */
  get reserved(): number {
    return this.held;
  }

  /** Holds up to `wanted` free slots for one claim; undefined when there is no room. */
  reserve(wanted: number): Reservation | undefined {
    const slots = Math.min(wanted, this.free());
    if (slots <= 0) return undefined;
    this.held += slots;
    let open = true;
    const end = (what: string) => {
      if (!open) throw new ReservationError(`a reservation of ${slots} slots was ended twice (${what})`);
      open = false;
      this.held -= slots;
    };
    return {
      slots,
      commit: (runs) => {
        if (runs > slots)
          throw new ReservationError(`${runs} runs committed on a reservation of ${slots} slots`);
        end('commit');
      },
      release: () => end('release'),
    };
  }
}
