/**
 * What the host reads from an actor snapshot without knowing the graph: the dotted state path, whether it
 * waits and for which resume types, the final outcome, and the context fields it shows (executionViewSchema).
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

/** CONTRACT §4: `planning.awaitingApproval`; parallel regions' leaf paths sorted and joined by `,`. */
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

/** A representative event of each type, enough for `snapshot.can` (our guards read counters, not payloads). */
const sampleEvents: Record<ResumeType, { type: ResumeType } & Record<string, unknown>> = {
  answers_received: { type: 'answers_received', answers: {} },
  plan_approved: { type: 'plan_approved', approvedBy: 'sample' },
  plan_rejected: { type: 'plan_rejected', rejectedBy: 'sample', reason: '' },
};

export function waitingFor(snapshot: AnyMachineSnapshot): ResumeType[] {
  if (!snapshot.hasTag(WAITING_TAG)) return [];
  return resumeTypes.filter((type) => snapshot.can(sampleEvents[type]));
}

export type Settlement =
  | { kind: 'running' }
  | { kind: 'waiting'; waitingFor: ResumeType[] }
  | { kind: 'completed' }
  | { kind: 'failed'; reason: string }
  | { kind: 'agentError'; agent: string; message: string };

export function settlementOf(snapshot: AnyMachineSnapshot): Settlement {
  const view = viewOf(snapshot.context);
  if (snapshot.hasTag(AGENT_ERROR_TAG)) {
    return {
      kind: 'agentError',
      agent: view.agentError?.agent ?? '?',
      message: view.agentError?.message ?? '?',
    };
  }
  if (snapshot.status === 'done') {
    if (snapshot.hasTag(FAILED_TAG)) return { kind: 'failed', reason: view.failureReason ?? 'failed' };
    return { kind: 'completed' };
  }
  if (snapshot.hasTag(WAITING_TAG)) return { kind: 'waiting', waitingFor: waitingFor(snapshot) };
  return { kind: 'running' };
}

export function viewOf(context: unknown): ExecutionView {
  const parsed = executionViewSchema.safeParse(context ?? {});
  return parsed.success ? parsed.data : {};
}
