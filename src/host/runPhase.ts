/**
 * Where one run of an execution stands on this worker: one value, so that no two facts about it can disagree.
 *
 * ```
 * loading ─┬─▶ running ─────┬─▶ settling ──▶ ended
 *          └─▶ provisional ─┤        ▲          ▲
 *                 (drain) ──┴─▶ draining ───────┘
 * ```
 * Any phase but `ended` may end at once (a crash, a lost lease).
 */
export type RunPhase =
  /** reading, migrating and validating the checkpoint; no step can start */
  | 'loading'
  /**
   * A resume prepared before its commit: the actor runs on the checkpoint without a lease, and its first write
   * goes to intake's call instead of the writer; it touches the database no other way until that commits.
   */
  | 'provisional'
  /** under lease: each settled macrostep is written, then the steps it entered may start */
  | 'running'
  /** shutdown: the step in flight finishes and the state after it is recorded, then the execution is handed back */
  | 'draining'
  /** the run's last write is on its way (it suspends, ends or waits for a retry): no step starts, its slot is free */
  | 'settling'
  /** over: `done` has the outcome */
  | 'ended';

const next: Record<RunPhase, readonly RunPhase[]> = {
  loading: ['provisional', 'running', 'draining', 'settling', 'ended'],
  provisional: ['running', 'draining', 'settling', 'ended'],
  running: ['draining', 'settling', 'ended'],
  draining: ['settling', 'ended'],
  settling: ['ended'],
  ended: [],
};

/** True when a run may go from `from` to `to`. */
export function canMove(from: RunPhase, to: RunPhase): boolean {
  return next[from].includes(to);
}

/** Phases in which the run may still start a step: its slot counts against the worker's room. */
export function takesSlot(phase: RunPhase): boolean {
  return phase !== 'settling' && phase !== 'ended';
}

/** How a run ended. */
export type RunOutcome =
  | 'suspended'
  | 'completed'
  | 'failed'
  | 'retrying'
  /** given back without spending an attempt (shutdown, a checkpoint newer than this worker knows) */
  | 'handedBack'
  /** another worker or a cancel owns it now (or, for a prepared run, it never got its lease) */
  | 'leaseLost'
  /** the run broke on the host's side (database); the lease will expire and another worker resumes it */
  | 'crashed';
