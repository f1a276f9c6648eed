/**
 * Calls to a tenant's tracker made while an input is handled: bounded in time (a webhook's sender waits about
 * ten seconds for an answer), failures wrapped in {@link TrackerUnavailableError}, and the worker's own account
 * asked once per tracker.
 */
import type { Tracker } from '../integrations/trackers/tracker.js';
import { TrackerUnavailableError } from './errors.js';

/** GitHub gives up on a delivery after 10 s; the rest of the handling needs some of those. */
export const DEFAULT_CALL_TIMEOUT_MS = 8_000;

export class TrackerCalls {
  /** the worker's account per tracker: it never changes while the worker runs, so it is asked once */
  readonly #ownAccounts = new WeakMap<Tracker, Promise<string>>();

  constructor(private readonly timeoutMs: number = DEFAULT_CALL_TIMEOUT_MS) {}

  /** Runs `fn` with a signal that aborts after the timeout; any failure becomes a TrackerUnavailableError. */
  async call<T>(tracker: Tracker, operation: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await fn(AbortSignal.timeout(this.timeoutMs));
    } catch (error) {
      throw new TrackerUnavailableError(tracker.system, operation, error);
    }
  }

  /** The worker's own account on `tracker`; a failure is not remembered, the next call asks again. */
  ownAccount(tracker: Tracker): Promise<string> {
    let account = this.#ownAccounts.get(tracker);
    if (!account) {
      account = this.call(tracker, 'reading the worker’s own account', (signal) =>
        tracker.ownAccount(signal),
      );
      this.#ownAccounts.set(tracker, account);
      account.catch(() => this.#ownAccounts.delete(tracker));
    }
    return account;
  }
}
