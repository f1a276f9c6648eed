/**
 * A resume for a suspended execution, taken by a worker with room, commits in one call (`prfactory_resume`):
 *
 * - the claim: the database claims the execution for this worker in intake's own call, so the run starts at
 *   once instead of after a wake-up and a claim of its own;
 * - the prepared write (`AgentHost.PreparedResume`): before the call the worker reads the suspended execution,
 *   runs the event on its checkpoint, and hands the run's first write — the checkpoint of the state the resume
 *   leads to, the resume marked applied — to the call, which commits it with the resume and the claim when the
 *   execution is still suspended at the epoch it was read at (`applied`). One commit instead of two before the
 *   step after the wait starts. The run holds no lease until then, and its agents wait for that commit like any
 *   step's (write-ahead). Anything that moved the execution meanwhile makes the database ignore the write and
 *   take the resume the ordinary way; the prepared run then ends without having touched anything.
 *
 * Intake sees one object, a {@link ResumeSlot}, and ends it exactly once: `settle` with the database's answer,
 * or `abandon` when the call failed.
 */
import type { GraphRegistry } from '../machines/registry.js';
import type { ClaimedExecution } from '../persistence/claim.js';
import type { ExecutionWrite, WriteResult } from '../persistence/executionWrites.js';
import type { ResumeInput, ResumeOutcome } from '../persistence/resume.js';
import type { Logger } from '../telemetry/logger.js';
import type { Reservation } from './capacityLedger.js';
import type { ExecutionRunner, FirstWrite } from './runner.js';

/** The resume as intake validated it. */
export interface ResumeToPrepare {
  /** the event id */
  id: string;
  type: string;
  tenantId: string;
  /** the inbox payload, as a kept resume carries it */
  payload: Record<string, unknown>;
  traceParent: string | null;
}

/** A slot of this worker held for one resume's call. */
export interface ResumeSlot {
  /** the claim's terms, for the call to claim the execution for this worker */
  readonly claimFor: NonNullable<ResumeInput['claimFor']>;
  /** the run's first write for the call to commit with the resume, when it can be prepared */
  prepare(executionId: string, event: ResumeToPrepare): Promise<ResumeInput['apply']>;
  /** The call answered: the prepared run goes on, or what the call claimed runs, or the slot is given back. */
  settle(decided: ResumeOutcome): void;
  /** The call failed: the prepared run ends untouched and the slot is given back. */
  abandon(): void;
}

/** What a worker offers intake: a slot, or undefined when it has no room (or is stopping). */
export interface ResumeClaimer {
  reserveResume(): ResumeSlot | undefined;
}

/** What the slot needs of its host. */
export interface ResumeSlotHost {
  readonly claimFor: ResumeSlot['claimFor'];
  /** `AgentHost.PreparedResume` */
  readonly prepareWrites: boolean;
  readonly registry: GraphRegistry;
  readonly log: Logger;
  /** the suspended execution as a claim would hand it to a run; undefined when it is not suspended */
  peek(executionId: string): Promise<ClaimedExecution | undefined>;
  /** a run on a claim the database has not made yet, whose first write goes to `firstWrite` */
  startProvisional(claim: ClaimedExecution, firstWrite: FirstWrite): ExecutionRunner;
  /** the provisional run got its lease: it is the host's run now */
  adoptProvisional(runner: ExecutionRunner): void;
  /** runs what the call claimed */
  run(claim: ClaimedExecution): void;
  /** whether a reading failure of the preparation is worth a warning (not a database outage) */
  isTransient(error: unknown): boolean;
}

/**
 * Only the plain case is prepared: this tenant's execution, suspended at a checkpoint of the graph version this
 * worker runs, waiting for this type. Everything else (a migration, a refusal) takes the ordinary way, where the
 * run has its lease before it looks.
 */
export function canPrepare(
  peeked: ClaimedExecution,
  event: ResumeToPrepare,
  registry: GraphRegistry,
): boolean {
  const { row, checkpoint } = peeked;
  const def = registry.get(row.graph);
  return (
    row.tenant_id === event.tenantId &&
    row.waiting_for.includes(event.type) &&
    checkpoint?.waiting === true &&
    def !== undefined &&
    checkpoint.graph_version === def.version
  );
}

/**
 * The first write of a run that applies the resume and goes on running: a new checkpoint, the resume applied
 * and no other inbox row touched (the database records the resume as applied itself), the lease kept. A resume
 * that ends the execution or suspends it again at once is taken the ordinary way.
 */
export function appliesResume(write: ExecutionWrite, eventId: string): boolean {
  return (
    write.checkpoint !== undefined &&
    (write.inbox?.applied ?? []).includes(eventId) &&
    (write.inbox?.dropped ?? []).length === 0 &&
    write.inbox?.dropAllKept === undefined &&
    write.set.status === undefined &&
    write.set.releaseLease !== true &&
    write.suspend !== true
  );
}

/**
 * The run's side of the hand-over: `take` is the run's first write (its promise settles with `answer`);
 * `offered` resolves with that write, or with undefined when the run ended before writing (`none`).
 */
function firstWriteHandOver() {
  let offer!: (write: ExecutionWrite | undefined) => void;
  const offered = new Promise<ExecutionWrite | undefined>((resolve) => {
    offer = resolve;
  });
  let answer!: (result: WriteResult) => void;
  const answered = new Promise<WriteResult>((resolve) => {
    answer = resolve;
  });
  const take: FirstWrite = (write) => {
    offer(write);
    return answered;
  };
  return { take, offered, none: () => offer(undefined), answer };
}

const REFUSED: WriteResult = { ok: false, dropped: [] };

/** A slot over `reservation` (one room of the capacity ledger), ended exactly once. */
export function createResumeSlot(host: ResumeSlotHost, reservation: Reservation): ResumeSlot {
  let prepared: { runner: ExecutionRunner; answer(result: WriteResult): void } | undefined;
  const dropPrepared = () => {
    prepared?.answer(REFUSED);
    prepared = undefined;
  };

  const prepare = async (executionId: string, event: ResumeToPrepare): Promise<ResumeInput['apply']> => {
    const peeked = await host.peek(executionId);
    if (!peeked || !canPrepare(peeked, event, host.registry)) return undefined;
    const epoch = peeked.epoch + 1;
    const claim: ClaimedExecution = {
      ...peeked,
      row: {
        ...peeked.row,
        status: 'running',
        lease_owner: host.claimFor.owner,
        lease_epoch: epoch,
        trace_parent: event.traceParent,
      },
      epoch,
      kept: [{ id: event.id, payload: event.payload }],
      takenOver: false,
    };
    const handOver = firstWriteHandOver();
    const runner = host.startProvisional(claim, handOver.take);
    void runner.done.then(() => handOver.none());
    const write = await handOver.offered;
    if (!write || !appliesResume(write, event.id)) {
      handOver.answer(REFUSED);
      return undefined;
    }
    prepared = { runner, answer: handOver.answer };
    return { write, expectedEpoch: peeked.epoch };
  };

  return {
    claimFor: host.claimFor,

    async prepare(executionId, event) {
      if (!host.prepareWrites) return undefined;
      try {
        return await prepare(executionId, event);
      } catch (error) {
        // Preparing is an optimisation: whatever breaks it (the database away, a bug), the ordinary way remains.
        const level = host.isTransient(error) ? 'debug' : 'warn';
        host.log[level]({ executionId, err: (error as Error).message }, 'resume not prepared');
        dropPrepared();
        return undefined;
      }
    },

    settle(decided) {
      if (decided.outcome === 'applied' && prepared) {
        const { runner, answer } = prepared;
        prepared = undefined;
        host.adoptProvisional(runner);
        reservation.commit(1);
        answer({ ok: true, dropped: [] });
        return;
      }
      dropPrepared();
      const claimed = decided.outcome === 'accepted' ? decided.claimed : undefined;
      if (claimed) {
        host.run(claimed);
        reservation.commit(1);
      } else reservation.release();
    },

    abandon() {
      dropPrepared();
      reservation.release();
    },
  };
}
