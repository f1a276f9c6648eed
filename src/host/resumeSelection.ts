/**
 * Which kept resume a waiting state takes (docs/api.md): in arrival order, the first the state accepts is
 * applied; every other kept event is dropped — one the state does not accept, one that is malformed, and one
 * that arrived for the same wait after the chosen one (of two conflicting events the first committed wins).
 */
import type { AnyMachineSnapshot } from 'xstate';
import { type ResumeEvent, resumeEventSchema } from '../machines/events.js';
import type { InboxRow } from '../persistence/inbox.js';
import { statePath } from './snapshotView.js';

export type KeptInput = Pick<InboxRow, 'id' | 'payload'>;

export interface ResumeChoice {
  chosen?: { row: KeptInput; event: ResumeEvent };
  dropped: { id: string; reason: string }[];
}

export function chooseResume(snapshot: AnyMachineSnapshot, kept: KeptInput[]): ResumeChoice {
  const state = statePath(snapshot.value);
  const dropped: { id: string; reason: string }[] = [];
  let chosen: ResumeChoice['chosen'];
  for (const row of kept) {
    const parsed = resumeEventSchema.safeParse(row.payload);
    if (!parsed.success) {
      dropped.push({
        id: row.id,
        reason: `resume ${row.id} is malformed: ${parsed.error.issues[0]?.message}`,
      });
    } else if (chosen) {
      dropped.push({
        id: row.id,
        reason: `${parsed.data.type} arrived for the wait at ${state}, which ${chosen.event.type} (${chosen.row.id}) settled first`,
      });
    } else if (!snapshot.can(parsed.data)) {
      dropped.push({ id: row.id, reason: `${parsed.data.type} is not accepted by state ${state}` });
    } else chosen = { row, event: parsed.data };
  }
  return { ...(chosen && { chosen }), dropped };
}
