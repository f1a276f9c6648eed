/**
 * A resume prepared before its commit (host.ts, `prepareResume`): the worker that takes a resume for a
 * suspended execution runs the event on the execution's checkpoint first, so that the resume, the claim and the
 * checkpoint of the state it leads to commit in ONE transaction (`prfactory_resume` with `apply`) instead of
 * two in series. This module holds the rules for when that is possible and the hand-over of the run's first
 * write; the host owns the run.
 */
import type { GraphRegistry } from '../machines/registry.js';
import type { ClaimedExecution } from '../persistence/claim.js';
import type { ExecutionWrite, WriteResult } from '../persistence/executionWrites.js';

/** The resume as intake validated it. */
export interface ResumeToPrepare {
  /** the event id (the inbox row's id) */
  id: string;
  type: string;
  tenantId: string;
  /** the inbox payload, as a kept resume carries it */
  payload: Record<string, unknown>;
  traceParent: string | null;
}

/** What intake commits, and what it tells the host afterwards. */
export interface PreparedResume {
  write: ExecutionWrite;
  /** the `lease_epoch` the write was prepared at: committed only if the execution is still suspended at it */
  expectedEpoch: number;
  /** the database answered `applied`: the run goes on under its lease (uses the reserved slot) */
  commit(): void;
  /** anything else: the run ends without having touched anything (the slot stays reserved) */
  abandon(): void;
}

export type FirstWrite = (write: ExecutionWrite) => Promise<WriteResult>;

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
export function firstWriteHandOver(): {
  take: FirstWrite;
  offered: Promise<ExecutionWrite | undefined>;
  none(): void;
  answer(result: WriteResult): void;
} {
  let offer!: (write: ExecutionWrite | undefined) => void;
  const offered = new Promise<ExecutionWrite | undefined>((resolve) => {
    offer = resolve;
  });
  let answer: ((result: WriteResult) => void) | undefined;
  let early: WriteResult | undefined;
  return {
    take: (write) => {
      offer(write);
      return new Promise<WriteResult>((resolve) => {
        if (early) resolve(early);
        else answer = resolve;
      });
    },
    offered,
    none: () => offer(undefined),
    answer: (result) => {
      if (answer) answer(result);
      else early ??= result;
    },
  };
}
