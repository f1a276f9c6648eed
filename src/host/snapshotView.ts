/**
 * What the host reads from an actor snapshot without knowing the graph: the dotted state path, whether it
 * waits, for which resume types and showing what (as its waiting states declare), the final outcome, and the
 * context fields it shows (executionViewSchema).
 */
import type { AnyMachineSnapshot } from 'xstate';
import { type ExecutionView, executionViewSchema } from '../machines/domain.js';
import {
  AGENT_ERROR_TAG,
  FAILED_TAG,
  type ResumeType,
  resumeTypes,
  WAITING_TAG,
} from '../machines/events.js';
import type { StepFailureKind } from '../machines/stepFailure.js';
import { type Wait, waitSchema, waitViews } from '../machines/waits.js';

type WaitView = Wait['shows'][number];

/** The state as events name it: `planning.awaitingApproval`; parallel regions' leaf paths sorted and joined by `,`. */
export function statePath(value: unknown): string {
  const leaves: string[] = [];
  const walk = (v: unknown, prefix: string) => {
    if (typeof v === 'string') leaves.push(prefix ? `${prefix}.${v}` : v);
    else if (v && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length === 0 && prefix) leaves.push(prefix);
      for (const [key, child] of entries) walk(child, prefix ? `${prefix}.${key}` : key);
    }
  };
  walk(value, '');
  return leaves.sort().join(',');
}

/**
 * The wait a snapshot is in, as its active waiting states declare it (`meta.wait`, machines/waits.ts): the
 * resume types they accept and the views they show. Undefined when it does not wait.
 */
export function waitOf(
  snapshot: AnyMachineSnapshot,
): { waitingFor: ResumeType[]; shows: WaitView[] } | undefined {
  if (!snapshot.hasTag(WAITING_TAG)) return undefined;
  const accepts = new Set<ResumeType>();
  const shows = new Set<WaitView>();
  for (const meta of Object.values(snapshot.getMeta() as Record<string, { wait?: unknown } | undefined>)) {
    const wait = waitSchema.safeParse(meta?.wait);
    if (!wait.success) continue;
    for (const type of wait.data.accepts) accepts.add(type);
    for (const view of wait.data.shows) shows.add(view);
  }
  // In the order the types are listed, so that the same wait always reads the same.
  return {
    waitingFor: resumeTypes.filter((t) => accepts.has(t)),
    shows: waitViews.filter((v) => shows.has(v)),
  };
}

/** The resume types a snapshot waits for; empty when it does not wait. */
export function waitingFor(snapshot: AnyMachineSnapshot): ResumeType[] {
  return waitOf(snapshot)?.waitingFor ?? [];
}

/** An agent's failure as its graph recorded it (`agentError`), for the failure policy. */
export interface AgentFailure {
  agent: string;
  message: string;
  /** `transient` when the graph recorded none (a graph or a checkpoint from before the kinds) */
  kind: StepFailureKind;
  /** for `rateLimited` and `breakerOpen`: how long to wait before the next attempt, when the failure said */
  retryAfterMs?: number;
}

export type Settlement =
  | { kind: 'running' }
  | { kind: 'waiting'; waitingFor: ResumeType[]; shows: WaitView[] }
  | { kind: 'completed' }
  | { kind: 'failed'; reason: string }
  | { kind: 'agentError'; failure: AgentFailure };

export function settlementOf(snapshot: AnyMachineSnapshot): Settlement {
  const view = viewOf(snapshot.context);
  if (snapshot.hasTag(AGENT_ERROR_TAG)) return { kind: 'agentError', failure: agentFailureOf(view) };
  if (snapshot.status === 'done') {
    if (snapshot.hasTag(FAILED_TAG)) return { kind: 'failed', reason: view.failureReason ?? 'failed' };
    return { kind: 'completed' };
  }
  const wait = waitOf(snapshot);
  if (wait) return { kind: 'waiting', ...wait };
  return { kind: 'running' };
}

function agentFailureOf(view: ExecutionView): AgentFailure {
  const recorded = view.agentError;
  return {
    agent: recorded?.agent ?? '?',
    message: recorded?.message ?? '?',
    kind: recorded?.kind ?? 'transient',
    ...(recorded?.retryAfterMs !== undefined && { retryAfterMs: recorded.retryAfterMs }),
  };
}

export function viewOf(context: unknown): ExecutionView {
  const parsed = executionViewSchema.safeParse(context ?? {});
  return parsed.success ? parsed.data : {};
}
