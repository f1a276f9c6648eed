/**
 * Checks a checkpoint read back from the database before an actor is built from it (DESIGN.md point 6).
 * XState does not: a snapshot naming an unknown state makes the actor error asynchronously and, with no
 * observer, crashes the process; an unknown child `src` is dropped silently (TRAPS.md).
 */
import type { AnyStateMachine } from 'xstate';
import { z } from 'zod';
import type { GraphDefinition, PersistedSnapshot } from '../machines/graph.js';
import { statePath } from './snapshotView.js';

const persistedSnapshotSchema = z
  .object({
    status: z.string(),
    value: z.union([z.string(), z.record(z.string(), z.unknown())]),
    context: z.record(z.string(), z.unknown()),
    children: z
      .record(z.string(), z.object({ src: z.unknown(), snapshot: z.unknown() }).passthrough())
      .default({}),
  })
  .passthrough();

export class CheckpointInvalid extends Error {
  override readonly name = 'CheckpointInvalid';
  readonly code = 'CHECKPOINT_INVALID';
}

/** Returns the snapshot typed, or throws {@link CheckpointInvalid} with a reason naming graph, version and state. */
export function validateSnapshot(def: GraphDefinition, raw: unknown): PersistedSnapshot {
  const where = `graph ${def.id} version ${def.version}`;
  const parsed = persistedSnapshotSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CheckpointInvalid(
      `snapshot is malformed for ${where}: ${issue.path.join('.')}: ${issue.message}`,
    );
  }
  // Validated, but restored as stored: zod's output (defaults, key order) is not what XState persisted.
  const snapshot = raw as PersistedSnapshot;
  snapshot.children ??= {};
  if (snapshot.status !== 'active' && snapshot.status !== 'done') {
    throw new CheckpointInvalid(`snapshot status "${snapshot.status}" cannot be resumed (${where})`);
  }
  const machine: AnyStateMachine = def.machine;
  try {
    machine.resolveState({ value: snapshot.value as never, context: snapshot.context });
  } catch {
    throw new CheckpointInvalid(`state "${statePath(snapshot.value)}" does not exist in ${where}`);
  }
  const known = machine.implementations.actors ?? {};
  for (const [childId, child] of Object.entries(snapshot.children)) {
    const src = child?.src;
    if (typeof src !== 'string' || !(src in known)) {
      throw new CheckpointInvalid(
        `child "${childId}" runs actor ${JSON.stringify(src)}, unknown to ${where}`,
      );
    }
  }
  return snapshot;
}

/**
 * Brings a snapshot of version `from` to the graph's current version through its registered migrations, or
 * throws {@link CheckpointInvalid} naming the missing step.
 */
export function migrateSnapshot(def: GraphDefinition, from: number, snapshot: unknown): unknown {
  let current = snapshot;
  for (let version = from; version < def.version; version++) {
    const migration = def.migrations?.[version];
    if (!migration) {
      throw new CheckpointInvalid(
        `graph ${def.id} has no migration from version ${version} to ${version + 1} (checkpoint is version ${from})`,
      );
    }
    try {
      current = migration(current as PersistedSnapshot);
    } catch (error) {
      throw new CheckpointInvalid(
        `migration of graph ${def.id} from version ${version} failed: ${(error as Error).message}`,
      );
    }
  }
  return current;
}
