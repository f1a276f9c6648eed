/**
 * The leases of this worker's runs: renewed every third of `AgentHost.LeaseSeconds`, and a run whose lease is
 * gone (another worker took it over, a cancel moved its epoch on) stopped at once.
 *
 * The renewal never waits for a row lock (`renewLeases`): a row locked at that moment has a write of its own run
 * in flight, so it is renewed again a few milliseconds later, for at most a third of the lease, rather than
 * holding up the renewal of every other run.
 */
import { errorMessage } from '../errorMessage.js';
import { renewLeases } from '../persistence/claim.js';
import type { Database } from '../persistence/database.js';
import { findExecution } from '../persistence/executions.js';
import type { Logger } from '../telemetry/logger.js';
import type { ExecutionRunner } from './runner.js';

/** A lease whose row was locked at renewal is renewed again this much later (a batch holds rows for ms). */
const LEASE_RETRY_MS = 25;

export interface LeaseKeeperDeps {
  database: Database;
  owner: string;
  leaseSeconds: number;
  log: Logger;
  /** the runs this worker holds now, by execution id */
  runs: ReadonlyMap<string, ExecutionRunner>;
}

export class LeaseKeeper {
  constructor(private readonly deps: LeaseKeeperDeps) {}

  /** Renews every run's lease; the runs whose lease is gone are stopped. */
  async renew(): Promise<void> {
    const { database, owner, leaseSeconds, runs } = this.deps;
    const until = performance.now() + (leaseSeconds * 1000) / 3;
    let pending = [...runs.values()];
    while (pending.length > 0) {
      const held = pending.map((r) => ({ id: r.executionId, epoch: r.epoch }));
      const { renewed, busy } = await renewLeases(database.db, owner, held, leaseSeconds);
      for (const runner of pending) {
        // A run that just settled released its lease itself; only a run still going can have lost it.
        if (!renewed.has(runner.executionId) && !busy.has(runner.executionId)) this.check(runner);
      }
      if (busy.size === 0 || performance.now() >= until) return;
      await new Promise((resolve) => setTimeout(resolve, LEASE_RETRY_MS));
      pending = pending.filter((r) => busy.has(r.executionId) && runs.get(r.executionId) === r);
    }
  }

  /** Stops `runner` when its row says another owner, or another epoch (a cancel), holds the execution now. */
  check(runner: ExecutionRunner | undefined): void {
    if (!runner) return;
    const { database, owner, log } = this.deps;
    void findExecution(database.db, runner.executionId)
      .then((row) => {
        if (!row || row.lease_owner !== owner || Number(row.lease_epoch) !== runner.epoch) {
          runner.abort('leaseLost');
        }
      })
      .catch((error) =>
        log.warn({ executionId: runner.executionId, err: errorMessage(error) }, 'lease check failed'),
      );
  }
}
