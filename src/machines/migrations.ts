/**
 * Checkpoint migrations: functions from a persisted snapshot of one graph version to one of the next
 * (`GraphDefinition.migrations[n]` turns version n into n+1; the host applies the chain when it rehydrates an
 * older checkpoint and records the result under the new version).
 *
 * A migration works on the JSON the host stored, never on live objects, and returns a new snapshot. Renaming a
 * state that runs an agent is two edits: the state's key in `value`, and the key of the invoked child in
 * `children` — XState names the done event after the child (`xstate.done.actor.<child id>`), so a child left
 * under its old id would finish into an event no state listens to and the execution would hang.
 */
import type { PersistedSnapshot, SnapshotMigration } from './graph.js';

/** A state's place in `snapshot.value`: the keys of its ancestors, then its own key. */
export type StatePath = readonly string[];

function renameInValue(value: unknown, path: StatePath, to: string): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  if (rest.length === 0) {
    // The state is a leaf (`'generatePlan'`) or a compound/parallel state holding children (`{ generatePlan: … }`).
    if (value === head) return to;
    if (value && typeof value === 'object' && head in value) {
      const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k === head ? to : k,
        v,
      ]);
      return Object.fromEntries(entries);
    }
    return value;
  }
  if (!value || typeof value !== 'object' || !(head in value)) return value;
  const object = value as Record<string, unknown>;
  return { ...object, [head]: renameInValue(object[head], rest, to) };
}

/**
 * Moves a snapshot that is in state `from` (and, when `child` is given, has that child running) to the state
 * renamed `to`. Snapshots in other states come back unchanged (as copies).
 *
 * @example
 * ```ts
 * // planning v1 → v2: `generatePlan` became `draftPlan`, whose child is called `draftPlan` too
 * renameState(snapshot, ['generatePlan'], 'draftPlan', { from: 'generatePlan', to: 'draftPlan' });
 * ```
 */
export function renameState(
  snapshot: PersistedSnapshot,
  from: StatePath,
  to: string,
  child?: { from: string; to: string },
): PersistedSnapshot {
  const next = structuredClone(snapshot);
  next.value = renameInValue(next.value, from, to);
  if (child && next.children?.[child.from]) {
    if (next.children[child.to]) {
      throw new Error(`snapshot has both children "${child.from}" and "${child.to}"`);
    }
    next.children = Object.fromEntries(
      Object.entries(next.children).map(([id, c]) => [id === child.from ? child.to : id, c]),
    );
  }
  return next;
}

/**
 * planning version 1 → 2, for a planning phase whose states sit at `at` (`[]` in the `planning` graph,
 * `['planning']` in `prfactory`): version 1 generated the plan in state `generatePlan` (child `generatePlan`);
 * version 2 drafts it in `draftPlan` (child `draftPlan`, same agent and input) and then reviews it. A draft in
 * flight goes on as a draft; a plan already generated (publishing or awaiting approval) is kept as it is.
 */
export function planningV1ToV2(at: StatePath): SnapshotMigration {
  return (snapshot) =>
    renameState(snapshot, [...at, 'generatePlan'], 'draftPlan', { from: 'generatePlan', to: 'draftPlan' });
}
