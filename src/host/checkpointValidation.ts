/**
 * Checks a checkpoint read back from the database before an actor is built from it (docs/architecture.md).
 * XState does not: a snapshot naming an unknown state makes the actor error asynchronously and, with no
 * observer, crashes the process; an unknown child `src` is dropped silently.
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

/** What a run starts from, decided before any actor exists. */
export type RestorePlan =
  /** the graph is not registered on this worker: the execution fails */
  | { kind: 'unknownGraph'; reason: string }
  /** a newer worker wrote the checkpoint: leave it for one, without spending an attempt */
  | { kind: 'tooNew'; version: number; known: number }
  /** the checkpoint cannot be restored: marked invalid, the execution fails */
  | { kind: 'invalid'; seq: number; reason: string }
  /** a fresh execution, from its input */
  | { kind: 'fresh'; def: GraphDefinition }
  /** from the checkpoint, brought to the graph's current version; `migrated` when that took a migration */
  | {
      kind: 'restore';
      def: GraphDefinition;
      snapshot: PersistedSnapshot;
      migrated: boolean;
      waiting: boolean;
    };

/** The checkpoint a claim returns, as {@link planRestore} reads it. */
export interface CheckpointToRestore {
  seq: number;
  graph_version: number;
  waiting: boolean;
  snapshot: unknown;
}

/** Decides how a run of `graph` starts from `checkpoint` (none: a fresh execution at `rowVersion`). */
export function planRestore(
  def: GraphDefinition | undefined,
  graph: string,
  rowVersion: number,
  checkpoint: CheckpointToRestore | null,
): RestorePlan {
  if (!def) return { kind: 'unknownGraph', reason: `graph ${graph} is not registered on this worker` };
  const version = checkpoint?.graph_version ?? rowVersion;
  if (version > def.version) return { kind: 'tooNew', version, known: def.version };
  if (!checkpoint?.snapshot) return { kind: 'fresh', def };
  try {
    const snapshot = validateSnapshot(def, migrateSnapshot(def, version, checkpoint.snapshot));
    return { kind: 'restore', def, snapshot, migrated: version !== def.version, waiting: checkpoint.waiting };
  } catch (error) {
    if (!(error instanceof CheckpointInvalid)) throw error;
    return { kind: 'invalid', seq: checkpoint.seq, reason: error.message };
  }
}
