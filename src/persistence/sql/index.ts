/**
 * The worker's PL/pgSQL functions, one file each, named after the function: its `CREATE OR REPLACE FUNCTION`
 * statement under a comment saying what it does, what it locks and why. A function's live text is in its file
 * and nowhere else; `migrate` (../installFunctions.ts) installs every function whose text changed, so the next
 * change to a function is an edit of its file. README.md here says how.
 *
 * TypeScript, not `.sql` files: the build is plain `tsc`, which would not ship `.sql` files, and nothing is read
 * from disk at run time — the statements are compiled into the worker.
 */
import { prfactoryClaim } from './prfactory_claim.js';
import { prfactoryClaimOne } from './prfactory_claim_one.js';
import { prfactoryClaimed } from './prfactory_claimed.js';
import { prfactoryClusterRoom } from './prfactory_cluster_room.js';
import { prfactoryInboxDropped } from './prfactory_inbox_dropped.js';
import { prfactoryRelayTake } from './prfactory_relay_take.js';
import { prfactoryResume } from './prfactory_resume.js';
import { prfactoryWriteAndClaim } from './prfactory_write_and_claim.js';
import { prfactoryWriteBatch } from './prfactory_write_batch.js';

/** One function of the worker's schema, as `migrate` installs it. */
export interface SqlFunction {
  /**
   * Unique, and starting with `prfactory_`: every `prfactory_` function of the schema is the worker's, and one
   * that no file defines any more is dropped. One signature per name (no overloads).
   */
  readonly name: string;
  /**
   * Its argument types, as `DROP FUNCTION` takes them (`jsonb, uuid[], boolean`): what identifies it in the
   * schema. `migrate` checks that the definition creates exactly this; when it changes, the function of the old
   * signature is dropped before the new one is created.
   */
  readonly signature: string;
  /** The `CREATE OR REPLACE FUNCTION` statement: plain text, parameters are the function's own. */
  readonly definition: string;
  /**
   * Statements that attach the function to a table (a trigger), run after every install of the function: the
   * trigger lives and dies with its function, since dropping a function drops the triggers that call it.
   */
  readonly attach?: readonly string[];
}

/** In an order where each function comes after those it calls (PL/pgSQL does not require it; a reader may). */
export const sqlFunctions: readonly SqlFunction[] = [
  prfactoryInboxDropped,
  prfactoryClaimed,
  prfactoryClusterRoom,
  prfactoryClaim,
  prfactoryClaimOne,
  prfactoryWriteBatch,
  prfactoryWriteAndClaim,
  prfactoryResume,
  prfactoryRelayTake,
];
